"""`make catalog` (`python -m brigade_devstack catalog [--check]`)."""

from __future__ import annotations

import sys
from pathlib import Path

from brigade_common.catalog import CatalogError, load
from brigade_devstack.derived import drift, write
from brigade_devstack.derived.sources import DerivedError, Sources
from brigade_devstack.errors import DevstackError


def catalog(root: Path, *, check: bool = False) -> int:
    """Write the derived files (or, with `check`, list the stale ones and return 1)."""
    try:
        sources = Sources(load(), root)
        if check:
            stale = drift(sources)
            for message in stale:
                print(message, file=sys.stderr)
            return 1 if stale else 0
        written = write(sources)
    except (CatalogError, DerivedError) as exc:
        raise DevstackError(str(exc)) from None
    names = ", ".join(sources.catalog.names)
    for path in written:
        print(f"wrote {path.relative_to(root)}")
    print(f"derived files up to date with the service catalog ({names})")
    return 0
