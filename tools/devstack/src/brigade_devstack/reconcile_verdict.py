"""From several passes' outcomes to one verdict per invariant, printed with ✓ / ✗.

A real break is stable: the balance written without its ledger row is off by the same units in
every pass. A race between reads (a movement committed while a ledger was being paged, an order
settled between two reads) is not. So a key counts against an invariant only when every pass saw
it off; a key some pass saw fine held, whatever the other passes caught in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from brigade_devstack.reconcile_checks import Outcome

HOLDS, BROKEN, UNSETTLED, NOT_CHECKED = "✓", "✗", "?", "–"


@dataclass(frozen=True)
class Verdict:
    mark: str
    check: str
    summary: str
    details: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


class Passes:
    """The outcomes of successive passes over the same checks."""

    def __init__(self) -> None:
        self.count = 0
        self._off: dict[str, set[str]] = {}  # keys off (failed or unsettled) in every pass so far
        self._failed: dict[str, set[str]] = {}  # keys failed in every pass so far
        self._ever_off: set[str] = set()
        self._last: dict[str, Outcome] = {}

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for o in outcomes:
            off, failed = set(o.failures) | set(o.unsettled), set(o.failures)
            if self.count:
                off &= self._off.get(o.check, set())
                failed &= self._failed.get(o.check, set())
            if o.failures or o.unsettled:
                self._ever_off.add(o.check)
            self._off[o.check], self._failed[o.check] = off, failed
            self._last[o.check] = o
        self.count += 1

    @property
    def settled(self) -> bool:
        """True when no key has been off in every pass: another pass cannot change the verdict."""
        return not any(self._off.values())

    def verdicts(self) -> list[Verdict]:
        out = []
        for check, o in self._last.items():
            failed, doubtful = self._failed[check], self._off[check] - self._failed[check]
            details = tuple(o.failures[k] for k in sorted(failed)) + tuple(
                o.failures.get(k) or o.unsettled[k] for k in sorted(doubtful)
            )
            notes = o.notes
            if check in self._ever_off and not self._off[check]:
                notes += (f"held on a re-read ({self.count} passes): the services were busy while it was read",)
            if doubtful:
                notes += (f"off in each of {self.count} passes, but moving: re-run when the services are quieter",)
            mark = BROKEN if failed else UNSETTLED if doubtful else HOLDS if o.checked else NOT_CHECKED
            out.append(Verdict(mark, check, o.summary, details, notes))
        return out


def exit_code(verdicts: Iterable[Verdict]) -> int:
    """0: every invariant holds; 1: some invariant does not; 2: some could not be read settled."""
    marks = {v.mark for v in verdicts}
    return 1 if BROKEN in marks else 2 if UNSETTLED in marks else 0


def render(verdicts: list[Verdict]) -> str:
    lines = []
    for v in verdicts:
        lines.append(f"{v.mark} {v.check}: {v.summary}")
        lines.extend(f"    {d}" for d in v.details)
        lines.extend(f"    ({n})" for n in v.notes)
    broken = sum(v.mark == BROKEN for v in verdicts)
    unsettled = sum(v.mark == UNSETTLED for v in verdicts)
    if broken:
        lines.append(f"{broken} invariant{'s' if broken > 1 else ''} do{'' if broken > 1 else 'es'} not hold")
    elif unsettled:
        lines.append(f"{unsettled} invariant{'s' if unsettled > 1 else ''} could not be read settled")
    else:
        lines.append("every invariant checked holds")
    return "\n".join(lines)
