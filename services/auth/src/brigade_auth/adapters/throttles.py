"""Sign-in attempt counters in PostgreSQL (`signin_attempts`): one row per account or address.

`hit` is one statement: a concurrent burst is counted attempt by attempt on the row's lock, by
whichever replica serves it. A window restarts with the first attempt after it ended (the rule of
brigade_auth.domain.throttle.Window).
"""

from __future__ import annotations

from datetime import datetime

from brigade_auth.domain.throttle import Attempts
from brigade_common.writes import Session

_HIT = """
INSERT INTO signin_attempts AS a (scope, key, attempts, window_started) VALUES ($1, $2, 1, $3)
ON CONFLICT (scope, key) DO UPDATE SET
    attempts = CASE WHEN a.window_started + make_interval(secs => $4) <= $3 THEN 1 ELSE a.attempts + 1 END,
    window_started = CASE WHEN a.window_started + make_interval(secs => $4) <= $3 THEN $3 ELSE a.window_started END
RETURNING attempts, window_started
"""


class PostgresThrottles:
    def __init__(self, session: Session) -> None:
        self._session = session

    async def hit(self, scope: str, key: str, window_s: float, now: datetime) -> Attempts:
        row = await self._session.fetchrow(_HIT, scope, key, now, window_s)
        assert row is not None
        return Attempts(row["attempts"], row["window_started"])

    async def forgive(self, scope: str, key: str, *, reset: bool) -> None:
        if reset:
            await self._session.execute("DELETE FROM signin_attempts WHERE scope = $1 AND key = $2", scope, key)
        else:
            await self._session.execute(
                "UPDATE signin_attempts SET attempts = greatest(attempts - 1, 0) WHERE scope = $1 AND key = $2",
                scope,
                key,
            )
