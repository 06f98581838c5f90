"""argon2id password hashes (argon2-cffi), computed in worker threads: a hash is tens of
milliseconds of CPU, and argon2-cffi releases the GIL, so the event loop keeps serving meanwhile.

At most `concurrency` hashes run at once (each holds `memory_kib` of memory and a core); more
would only queue in the thread pool while taking memory.

Each hash's buffer (`memory_kib`) is malloc'd in the hashing thread. glibc gives each thread an
arena of its own, and a freed buffer stays resident in a thread's arena: auth kept three or more of
them (19 MiB each) after a burst of sign-ins, for good. With one arena for every thread
(`one_malloc_arena`, which auth's process calls before it starts any) a freed buffer goes back to
the system, at no measurable cost per hash (docs/benchmarks.md, footprint).
"""

from __future__ import annotations

import asyncio
import ctypes
import secrets

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

M_ARENA_MAX = -8  # glibc's mallopt parameter


def one_malloc_arena() -> bool:
    """Let threads started from now on allocate from glibc's main arena only (False where the C
    library has no `mallopt`, e.g. musl or macOS: nothing changes there). Call it before the
    process starts a thread: a thread keeps the arena it was first given."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, 1))


class Argon2Hasher:
    def __init__(self, *, memory_kib: int, time_cost: int, parallelism: int, concurrency: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=argon2.Type.ID
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            # No such user: the same work as a wrong password, against a hash of nothing anyone knows.
            if self._dummy is None:
                self._dummy = await self.hash(secrets.token_urlsafe(16))
            await self._check(self._dummy, password)
            return False
        return await self._check(password_hash, password)

    async def _check(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            try:
                return await asyncio.to_thread(self._hasher.verify, password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)

    async def warm_up(self) -> None:
        """Make the dummy hash now, so the first unknown address costs no more than a wrong password."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(16))
