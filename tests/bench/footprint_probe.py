"""`python -m tests.bench.footprint_probe`: what a service process's memory is made of, before it
serves anything: the interpreter, each library its `api` command imports (cumulatively, in the
order a service loads them), each service's own import graph, and what a few optional imports
cost when they are taken away. Every figure is the RSS of a fresh interpreter (`python -c`).

`make bench-footprint` runs it and writes its tables under the stack's figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from tests.e2e.harness import installed

# Packages a service should not need for `api` (or only some do): whether each service loads them.
WATCHED = ("alembic", "sqlalchemy", "mako", "kubernetes", "jinja2", "aiohttp", "rich", "pygments", "argon2", "httpx")

# In the order a service process imports them (brigade_common.commands, then the app).
CHAIN = (
    ("pydantic", "pydantic"),
    ("pydantic-settings (and the stdlib it loads: asyncio, ssl, email, json, logging …)", "pydantic_settings"),
    ("structlog (with rich, when installed)", "structlog"),
    ("starlette", "starlette.applications"),
    ("asyncpg", "asyncpg"),
    ("nats-py (with aiohttp, when installed)", "nats,nats.js"),
    ("uvicorn (click, its event-loop and protocol modules)", "uvicorn,uvicorn.config"),
    ("prometheus_client", "prometheus_client"),
    ("cryptography's Ed25519 + PyJWT (tokens)", "cryptography.hazmat.primitives.asymmetric.ed25519,jwt"),
)

_SCRIPT = r"""
import importlib, json, sys
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
args = json.loads(sys.argv[1])
for name in args['block']:
    sys.modules[name] = None  # an ImportError for whoever tries: as if it were not installed
steps = []
for mods in args['steps']:
    for m in mods:
        importlib.import_module(m)
    steps.append(rss())
print(json.dumps({'steps': steps, 'modules': len(sys.modules),
                  'watched': [w for w in args['watched'] if w in sys.modules]}))
"""


@dataclass(frozen=True)
class Probe:
    steps: list[int]  # KiB after each step
    modules: int
    watched: list[str]


def probe(steps: Sequence[Sequence[str]], block: Sequence[str] = ()) -> Probe:
    """Import `steps` in turn in a fresh interpreter; its RSS after each."""
    args = json.dumps({"steps": [list(s) for s in steps], "block": list(block), "watched": list(WATCHED)})
    out = subprocess.run([sys.executable, "-c", _SCRIPT, args], capture_output=True, text=True, check=True)
    got = json.loads(out.stdout)
    return Probe(got["steps"], got["modules"], got["watched"])


def api_imports(name: str) -> list[str]:
    """What `python -m <module> api` imports before serving: its __main__, and the module its
    definition's app factory imports (read from the factory's code, e.g. brigade_kitchen.bootstrap)."""
    service = installed().get(name)
    names = service.app_factory.__code__.co_names
    app = [n for n in names if n.startswith(service.module + ".")]
    return [f"{service.module}.__main__", *app]


_ARGON2 = r"""
import asyncio, json, sys, time
from brigade_auth.adapters.passwords import Argon2Hasher, one_malloc_arena
from brigade_auth.config import OWASP_MEMORY_KIB, OWASP_TIME_COST
if sys.argv[1] == "one":
    assert one_malloc_arena()
def rss():
    for line in open('/proc/self/status'):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
async def main():
    h = Argon2Hasher(memory_kib=OWASP_MEMORY_KIB, time_cost=OWASP_TIME_COST, parallelism=1, concurrency=2)
    await h.hash("warm")
    before, cpu = rss(), time.process_time()
    await asyncio.gather(*(h.hash(str(i)) for i in range(int(sys.argv[2]))))
    return {"cpu_ms": (time.process_time() - cpu) * 1000 / int(sys.argv[2]), "kept_kib": rss() - before}
print(json.dumps(asyncio.run(main())))
"""


def argon2_arenas(hashes: int = 60, rounds: int = 3) -> dict[str, list[dict[str, float]]]:
    """Auth's hasher at its defaults (19 MiB, 2 at once), a burst of `hashes`: CPU per hash and the
    RSS kept after it, with an arena per thread (glibc's default) and with one; alternating rounds."""
    out: dict[str, list[dict[str, float]]] = {"per thread": [], "one": []}
    for _ in range(rounds):
        for mode in out:
            got = subprocess.run(
                [sys.executable, "-c", _ARGON2, mode, str(hashes)], capture_output=True, text=True, check=True
            )
            out[mode].append(json.loads(got.stdout))
    return out


def mib(kib: float) -> str:
    return f"{kib / 1024:.1f}"


def markdown(label: str) -> str:
    bare = probe([[]]).steps[0]
    chain = probe([m.split(",") for _, m in CHAIN] + [api_imports("kitchen")])
    lines = [
        f"### What a service's memory is made of ({label})",
        "",
        "Before it serves anything: the RSS of a fresh interpreter after each import, in the order a "
        "service's `api` command loads them (the kitchen's; each row adds to the one above, so a library "
        "is charged for the standard-library modules it is the first to load).",
        "",
        "| import | adds, MiB | RSS after, MiB |",
        "|---|---:|---:|",
        f"| the bare interpreter (`python -c pass`) | | {mib(bare)} |",
    ]
    prev = bare
    for (what, _), kib in zip(
        [*CHAIN, ("the kitchen's own code (`brigade_kitchen.__main__`, its app's modules)", "")],
        chain.steps,
        strict=True,
    ):
        lines.append(f"| {what} | {mib(kib - prev)} | {mib(kib)} |")
        prev = kib
    lines += [
        "",
        "Each service's `api` imports, in a fresh interpreter (no app built, no connection opened):",
        "",
        "| service | RSS after its imports, MiB | modules | of " + ", ".join(WATCHED) + " |",
        "|---|---:|---:|---|",
    ]
    for s in installed():
        p = probe([api_imports(s.name)])
        lines.append(f"| {s.name} | {mib(p.steps[0])} | {p.modules} | {', '.join(p.watched) or 'none'} |")
    kitchen = api_imports("kitchen")
    plain = probe([kitchen])
    lines += [
        "",
        "What an optional import costs the kitchen's `api` imports, taken away (as if not installed) or added:",
        "",
        "| change | RSS, MiB | difference, MiB | modules |",
        "|---|---:|---:|---:|",
        f"| as it is | {mib(plain.steps[0])} | | {plain.modules} |",
    ]
    diffs: dict[str, int] = {}
    for key, what, steps, block in (
        (
            "migrations",
            "+ `brigade_common.migrations` (alembic, SQLAlchemy, Mako)",
            [[*kitchen, "brigade_common.migrations"]],
            (),
        ),
        ("aiohttp", "− aiohttp (nats-py's WebSocket transport)", [kitchen], ("aiohttp",)),
        ("rich", "− rich (structlog's pretty tracebacks; pygments with it)", [kitchen], ("rich",)),
        ("both", "− aiohttp and rich", [kitchen], ("aiohttp", "rich")),
    ):
        p = probe(steps, block)
        diff = diffs[key] = p.steps[0] - plain.steps[0]
        lines.append(f"| {what} | {mib(p.steps[0])} | {'+' if diff >= 0 else '−'}{mib(abs(diff))} | {p.modules} |")
    step = dict(zip([m for _, m in CHAIN], chain.steps, strict=False))
    pydantic = step["pydantic_settings"] - bare
    crypto = step["cryptography.hazmat.primitives.asymmetric.ed25519,jwt"] - step["prometheus_client"]
    uvicorn = step["uvicorn,uvicorn.config"] - step["nats,nats.js"]
    lines += [
        "",
        f"**Reading.** A service process is mostly its libraries: the bare interpreter is {mib(bare)} MiB, pydantic "
        f"and pydantic-settings {mib(pydantic)} more (pydantic's schema machinery, and the standard library they "
        f"are the first to load: asyncio, ssl, email, json, logging), cryptography with PyJWT {mib(crypto)}, "
        f"uvicorn with click {mib(uvicorn)}; Brigade's own modules are the last row. The biggest cause that was "
        "ours: `brigade_common.commands` imported `brigade_common.migrations` for the `migrate` command, and "
        "`brigade_common.runtime` imported it for the readiness check's head revision, so every service "
        f"process loaded alembic, SQLAlchemy and Mako: {mib(diffs['migrations'])} MiB more than the first row "
        "of that table, in every process, for a command it never runs. Now only `migrate` imports alembic, and "
        "readiness reads the head revision from the scripts (`brigade_common.revisions`; its answer is checked against "
        "alembic's for every service in libs/common/tests/test_revisions.py, and tests/test_service_imports.py "
        "fails when a service's `api` imports alembic, SQLAlchemy or Mako again).",
        "",
        "A running service idles only a few MiB above its imports (compare the first table of this section): "
        "its pool's one connection (`min_size=1`), the NATS connection, uvloop's worker threads and its "
        "app's objects. nats-py's `pending_size` (a cap on what it buffers while disconnected) and asyncpg's "
        "statement cache (up to 100 statements a connection) are bounds, not up-front allocations. So the "
        "imports are the footprint.",
        "",
        f"aiohttp and rich ({mib(-diffs['both'])} MiB together) are loaded only because the dev group (the "
        "Kubernetes client, schemathesis) shares the virtualenv `make up` runs from: nats-py and structlog import "
        "them whenever they are installed. The images install no dev group, so a service there starts "
        f"{mib(-diffs['both'])} MiB lower; locally they stay (taking them away would change structlog's "
        "tracebacks on a terminal, and nothing of ours imports them).",
    ]
    arenas = argon2_arenas()
    lines += [
        "",
        "Auth's argon2id hashes at its defaults (19 MiB each, 2 at once), a burst of 60 in a fresh interpreter, "
        "three alternating rounds each: the CPU per hash and what the process kept resident after the burst, "
        "with glibc's arena per thread and with the one arena auth's process now sets (`one_malloc_arena`):",
        "",
        "| malloc arenas | CPU per hash, ms (each round) | RSS kept after the burst, MiB (each round) |",
        "|---|---|---|",
    ]
    for mode, runs in arenas.items():
        cpu = ", ".join(f"{r['cpu_ms']:.1f}" for r in runs)
        kept = ", ".join(mib(r["kept_kib"]) for r in runs)
        lines.append(f"| {mode} | {cpu} | {kept} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.footprint_probe", description=__doc__)
    p.add_argument("--markdown", action="store_true", help="(the only output: markdown tables)")
    p.add_argument("--label", default="this checkout")
    a = p.parse_args(argv)
    print(markdown(a.label))
    return 0


if __name__ == "__main__":
    sys.exit(main())
