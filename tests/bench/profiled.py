"""Run a module under cProfile switched by signals: `python -m tests.bench.profiled OUT MODULE ARGS…`.

SIGUSR1 starts profiling the main thread (where the event loop runs), SIGUSR2 stops it and writes
the stats to OUT, so the warm-up stays out of the profile and the process need not exit to report.
"""

from __future__ import annotations

import cProfile
import runpy
import signal
import sys
from types import FrameType


def main() -> None:
    out, module, *args = sys.argv[1:]
    profiler = cProfile.Profile()

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
