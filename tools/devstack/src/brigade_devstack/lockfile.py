"""One stack per data folder: an exclusive `flock` held for as long as `up` runs."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from brigade_devstack.errors import DevstackError


def holder_pid(path: Path) -> int | None:
    """The pid written by whoever holds (or last held) the lock."""
    try:
        return int(path.read_text().strip() or 0) or None
    except (OSError, ValueError):
        return None


class StackLock:
    """Released by the kernel when the process dies, however it dies: never stale."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def acquire(self, doing: str) -> None:
        """Take the lock or explain who has it; `doing` names the refused action."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            pid = holder_pid(self.path)
            who = f" (pid {pid})" if pid else ""
            stop = f"press Ctrl-C in its terminal or run `kill {pid}`" if pid else "stop it"
            home = self.path.parent.parent
            raise DevstackError(f"Brigade is running from {home}{who}: {stop} before {doing}") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        with contextlib.suppress(OSError):
            handle.truncate(0)
        handle.close()  # closing the descriptor drops the flock
