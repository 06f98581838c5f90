"""`python -m tests.bench`: measure the order path and write docs/benchmarks.md (see `--help`)."""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from pathlib import Path

from tests.bench.doc import keep_sections
from tests.bench.loop import cancel_on_signals
from tests.bench.options import Options, parse
from tests.bench.report import render
from tests.bench.run import Results, run_all

ANALYSIS_FILE = Path(__file__).with_name("analysis.md")


def _command(argv: list[str]) -> str:
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_"))
    cmd = "uv run --frozen python -m tests.bench" + "".join(f" {shlex.quote(a)}" for a in argv)
    return f"{env} {cmd}".strip()


async def _main(opts: Options, res: Results) -> None:
    cancel_on_signals()
    await run_all(opts, res)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    opts = parse(args)
    res = Results()
    try:
        import uvloop

        factory = uvloop.new_event_loop
    except ImportError:
        factory = None
    try:
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(_main(opts, res))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("interrupted: servers stopped, nothing written", file=sys.stderr)
        return 130
    analysis = ANALYSIS_FILE.read_text() if ANALYSIS_FILE.exists() else ""
    text = render(res, opts, _command(args), analysis)
    # Sections other generators own (`make load`'s) stay as they were.
    text = keep_sections(opts.out.read_text() if opts.out.exists() else "", text)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(text)
    print(f"\nwrote {opts.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
