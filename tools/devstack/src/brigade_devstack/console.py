"""Terminal output: every line prefixed with a fixed-width service name, coloured on a TTY only.

Each service's lines are also appended, unprefixed and uncoloured, to `.brigade/logs/<name>.log`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, TextIO

RESET = "\033[0m"
BOLD = "\033[1m"
RED = "\033[31m"
YELLOW = "\033[33m"
_PALETTE = (
    "\033[36m",
    "\033[35m",
    "\033[33m",
    "\033[32m",
    "\033[34m",
    "\033[96m",
    "\033[95m",
    "\033[93m",
    "\033[92m",
    "\033[94m",
)
SELF = "devstack"


def use_colour(stream: TextIO) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return "NO_COLOR" not in os.environ and stream.isatty()


class Console:
    """Writes prefixed lines for the supervisor and its children; tolerates a vanished terminal."""

    def __init__(self, names: Iterable[str], log_dir: Path | None, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout
        self._colour = use_colour(self._stream)
        ordered = [SELF, *[n for n in names if n != SELF]]
        self._width = max(len(n) for n in ordered)
        self._colours = {n: _PALETTE[i % len(_PALETTE)] for i, n in enumerate(ordered[1:])}
        self._colours[SELF] = BOLD
        self._log_dir = log_dir
        self._files: dict[str, IO[str]] = {}
        if log_dir is not None:
            log_dir.mkdir(parents=True, exist_ok=True)

    def _prefix(self, name: str) -> str:
        label = f"{name:<{self._width}}"
        if self._colour:
            label = f"{self._colours.get(name, BOLD)}{label}{RESET}"
        return f"{label} | "

    def _file(self, name: str) -> IO[str] | None:
        if self._log_dir is None:
            return None
        handle = self._files.get(name)
        if handle is None:
            handle = open(self._log_dir / f"{name}.log", "a", encoding="utf-8", buffering=1)  # noqa: SIM115
            self._files[name] = handle
        return handle

    def _emit(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (OSError, ValueError):
            # The terminal went away (SIGHUP, closed pipe): keep supervising, the log files still work.
            pass

    def line(self, name: str, text: str) -> None:
        """One line of output from service `name`."""
        text = text.rstrip("\r\n")
        self._emit(f"{self._prefix(name)}{text}\n")
        handle = self._file(name)
        if handle is not None:
            handle.write(text + "\n")

    def info(self, text: str, about: str | None = None) -> None:
        """A supervisor message; `about` also records it in that service's log file."""
        self._message(text, about, "")

    def warn(self, text: str, about: str | None = None) -> None:
        self._message(text, about, YELLOW)

    def error(self, text: str, about: str | None = None) -> None:
        self._message(text, about, RED)

    def _message(self, text: str, about: str | None, colour: str) -> None:
        shown = f"{colour}{text}{RESET}" if colour and self._colour else text
        self._emit(f"{self._prefix(SELF)}{shown}\n")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
        for target in dict.fromkeys(n for n in (SELF, about) if n):
            handle = self._file(target)
            if handle is not None:
                handle.write(f"{stamp} [devstack] {text}\n")

    def highlight(self, text: str) -> str:
        return f"{BOLD}{text}{RESET}" if self._colour else text

    def close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()
