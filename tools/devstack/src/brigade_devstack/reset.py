"""`reset`: wipe the data folder, refusing while a stack runs from it."""

from __future__ import annotations

import shutil

from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout
from brigade_devstack.lockfile import StackLock
from brigade_devstack.pgdata import stop_stale_postgres
from brigade_devstack.registry import Registry

# Anything else in the folder means $BRIGADE_HOME points somewhere it should not: refuse to delete.
# (`jwt` held the development key pair of older stacks.)
KNOWN_ENTRIES = {"postgres", "nats", "nats-cluster", "logs", "jwt", "run", "users.json", "mail"}


def reset(layout: Layout) -> str:
    """Delete `layout.home`; returns what was done, for printing."""
    home = layout.home
    if not home.exists():
        return f"nothing to reset: {home} does not exist"
    unknown = sorted(p.name for p in home.iterdir() if p.name not in KNOWN_ENTRIES)
    if unknown:
        raise DevstackError(f"refusing to delete {home}: it holds files Brigade did not create ({', '.join(unknown)})")
    lock = StackLock(layout.run_dir / "devstack.lock")
    lock.acquire("`make reset`")
    try:
        Registry(layout.run_dir / "processes.json").cleanup_stale()
        stop_stale_postgres(layout.pg_data)
        shutil.rmtree(home)
    finally:
        lock.release()
    return f"removed {home}: the next `make up` starts from empty databases, new keys and new demo passwords"
