"""docs/benchmarks.md has more than one author: `make bench` writes the page, other generators
(`make load`) own a section of it between marker comments, and each keeps what the others wrote."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from tests.bench.loop import cancel_on_signals


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def section(text: str, name: str) -> str | None:
    """The section `name` of `text`, markers included, or None."""
    begin, end = _markers(name)
    match = re.search(re.escape(begin) + r".*?" + re.escape(end), text, flags=re.S)
    return match.group(0) if match else None


def sections(text: str) -> list[str]:
    """Every marked section of `text`, in order."""
    return [m.group(0) for m in re.finditer(r"<!-- ([\w-]+):begin -->.*?<!-- \1:end -->", text, flags=re.S)]


def with_section(text: str, name: str, body: str) -> str:
    """`text` with the section `name` set to `body` (in place if it is there, else at the end)."""
    begin, end = _markers(name)
    block = f"{begin}\n{body.strip()}\n{end}"
    old = section(text, name)
    if old is not None:
        return text.replace(old, block)
    return f"{text.rstrip()}\n\n{block}\n" if text.strip() else f"{block}\n"


def keep_sections(old: str, new: str) -> str:
    """`new` (a freshly generated page) followed by the marked sections of `old` it does not have."""
    kept = [s for s in sections(old) if s not in new]
    return new if not kept else new.rstrip() + "\n\n" + "\n\n".join(kept) + "\n"


def measure_and_write(
    module: str,
    section_name: str,
    args: Sequence[str],
    out: Path,
    measure: Callable[[], Awaitable[None]],
    render: Callable[[str], str],
) -> int:
    """Run `measure` (Ctrl-C, SIGTERM and SIGHUP stop it and every server it started: nothing is
    written), then set the section `section_name` of `out` to `render(the command that made it)`."""

    async def go() -> None:
        cancel_on_signals()
        await measure()

    try:
        asyncio.run(go())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    command = f"uv run --frozen python -m {module}" + "".join(f" {shlex.quote(a)}" for a in args)
    old = out.read_text() if out.exists() else ""
    out.write_text(with_section(old, section_name, render(command)))
    print(f"\nwrote the {section_name} section of {out}")
    return 0
