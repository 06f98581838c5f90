"""Where the kitchen's time goes: a cProfile of the kitchen process under load, summarised.

Costs are grouped by where the code lives (a library, the stdlib, Brigade's own modules) by *own*
time (tottime), plus the heaviest single functions and the heaviest Brigade functions by cumulative
time. cProfile slows Python code down (about 1.5–2× here), so read shares, not absolute times.
"""

from __future__ import annotations

import pstats
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

_SITE = re.compile(r"site-packages/([A-Za-z0-9_]+)")
_BRIGADE = re.compile(r"/(brigade_[a-z]+)/(?:src/)?([A-Za-z0-9_/]+)\.py$")
_STDLIB = re.compile(r"/lib/python3\.\d+/([A-Za-z0-9_]+)")


def area(filename: str, funcname: str) -> str:
    """The library, stdlib module or Brigade module a profiled function belongs to."""
    if filename == "~":  # a builtin: '<method 'send' of '_socket.socket' objects>' and the like
        m = re.search(r"of '([A-Za-z0-9_.]+)", funcname)
        if m:
            return "builtin " + m.group(1).split(".")[0]
        return "builtin " + funcname.strip("<>").split(" ")[-1].split(".")[0]
    if m := _BRIGADE.search(filename):
        return f"{m.group(1)}.{m.group(2).split('/')[0]}"
    if m := _SITE.search(filename):
        return m.group(1)
    if m := _STDLIB.search(filename):
        return "stdlib " + m.group(1)
    return filename


@dataclass(frozen=True)
class Cost:
    name: str
    seconds: float
    share: float
    calls: int = 0


@dataclass(frozen=True)
class ProfileSummary:
    total_s: float
    by_area: list[Cost]
    by_function: list[Cost]
    brigade_cumulative: list[Cost]


def _label(key: tuple[str, int, str]) -> str:
    filename, line, func = key
    if filename == "~":
        return func
    short = filename.split("site-packages/")[-1].split("/src/")[-1]
    return f"{short}:{line} {func}"


def summarise(stats_file: Path, top: int = 15) -> ProfileSummary:
    raw = pstats.Stats(str(stats_file)).stats  # type: ignore[attr-defined]
    total = sum(v[2] for v in raw.values()) or 1.0
    areas: dict[str, float] = defaultdict(float)
    for (filename, _, func), (_, _, tt, _, _) in raw.items():
        areas[area(filename, func)] += tt
    by_area = [Cost(k, v, v / total) for k, v in sorted(areas.items(), key=lambda kv: -kv[1])[:top]]
    by_fn = sorted(raw.items(), key=lambda kv: -kv[1][2])[:top]
    functions = [Cost(_label(k), v[2], v[2] / total, v[1]) for k, v in by_fn]
    ours = [(k, v) for k, v in raw.items() if "/brigade_" in k[0]]
    ours.sort(key=lambda kv: -kv[1][3])
    cumulative = [Cost(_label(k), v[3], v[3] / total, v[1]) for k, v in ours[:top]]
    return ProfileSummary(total, by_area, functions, cumulative)
