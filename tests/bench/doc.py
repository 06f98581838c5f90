"""docs/benchmarks.md has more than one author: `make bench` writes the page, other generators
(`make load`) own a section of it between marker comments, and each keeps what the others wrote."""

from __future__ import annotations

import re


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
