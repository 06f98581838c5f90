"""Auth's process hashes in threads with one malloc arena, so the buffer of a hash it has finished
goes back to the system: with an arena per thread, auth kept three or more 19 MiB buffers resident
after a burst of sign-ins (docs/benchmarks.md, footprint). Counted from glibc's own report of its
arenas (`malloc_info`), in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys

_SCRIPT = """
import asyncio, ctypes, sys, tempfile
from brigade_auth.adapters.passwords import Argon2Hasher, one_malloc_arena

if sys.argv[1] == "process":  # as `python -m brigade_auth api` builds its app
    from brigade_auth.definition import AUTH
    AUTH.app_factory(AUTH.settings())
elif sys.argv[1] == "one arena":
    assert one_malloc_arena()  # glibc, as in the images (python:3.11-slim) and on Brigade's machines


async def burst() -> None:
    hasher = Argon2Hasher(memory_kib=2048, time_cost=1, parallelism=1, concurrency=4)
    await asyncio.gather(*(hasher.hash(str(i)) for i in range(16)))


def arenas() -> int:
    libc = ctypes.CDLL(None)
    libc.fopen.restype = ctypes.c_void_p
    libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    with tempfile.NamedTemporaryFile(suffix=".xml") as out:
        fp = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, fp)
        libc.fclose(fp)
        return open(out.name).read().count("<heap nr=")


asyncio.run(burst())
print(arenas())
"""


def arenas_after_a_burst(mode: str) -> int:
    env = {**os.environ, "AUTH_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_hashing_threads_share_one_arena_once_it_is_set() -> None:
    assert arenas_after_a_burst("as it was") > 1  # each hashing thread its own arena
    assert arenas_after_a_burst("one arena") == 1


def test_the_auth_process_sets_it_before_it_builds_its_app() -> None:
    assert arenas_after_a_burst("process") == 1
