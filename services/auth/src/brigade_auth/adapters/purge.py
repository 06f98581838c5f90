"""What the auth schema no longer needs, deleted periodically: sessions whose every refresh token
expired, and attempt counters whose window ended long ago."""

from __future__ import annotations

import asyncpg

# Expired sessions stay a day, so a refresh a little late is told "expired", not "unknown".
KEEP_EXPIRED_S = 24 * 3600


async def purge(pool: asyncpg.Pool, *, window_s: float) -> int:
    """Delete what is spent; how many rows went."""
    async with pool.acquire() as conn, conn.transaction():
        families = await conn.execute(
            "DELETE FROM refresh_families f WHERE NOT EXISTS (SELECT 1 FROM refresh_tokens t "
            "WHERE t.family_id = f.id AND t.expires_at > now() - make_interval(secs => $1)) "
            "AND f.created_at < now() - make_interval(secs => $1)",
            float(KEEP_EXPIRED_S),
        )
        attempts = await conn.execute(
            "DELETE FROM signin_attempts WHERE window_started < now() - make_interval(secs => $1)", 2 * window_s
        )
    return sum(int(status.rsplit(" ", 1)[1]) for status in (families, attempts))
