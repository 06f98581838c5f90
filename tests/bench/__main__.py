"""`python -m tests.bench`: measure the order path and write docs/benchmarks.md (see `--help`)."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import sys
from pathlib import Path

from tests.bench.options import Options, parse
from tests.bench.report import render
from tests.bench.run import Results, run_all

ANALYSIS_FILE = Path(__file__).with_name("analysis.md")


def _command(argv: list[str]) -> str:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    cmd = "uv run --frozen python -m tests.bench" + "".join(f" {shlex.quote(a)}" for a in argv)
    return f"{env} {cmd}".strip()


async def _main(opts: Options, res: Results) -> None:
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM stops the run like Ctrl-C does: the task is cancelled and every `finally` stops its servers.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    await run_all(opts, res)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    res = Results()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    try:
        asyncio.run(_main(opts, res))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    analysis = ANALYSIS_FILE.read_text() if ANALYSIS_FILE.exists() else ""
    text = render(res, opts, _command(args), analysis)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(text)
    print(f"\nwrote {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
