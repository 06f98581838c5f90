"""The auth app in-process for integration tests, and what a client of it does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import count

import asyncpg
import httpx

from brigade_auth.config import Settings
from brigade_common.testing.inprocess import InProcess
from brigade_common.testing.waiting import eventually

BASE_URL = "http://brigade.test"
ORIGIN = {"Origin": BASE_URL}
PASSWORD = "correct horse battery staple"
_n = count(1)


@dataclass
class AuthClient:
    app: InProcess
    settings: Settings
    passwords: dict[str, str] = field(default_factory=dict)

    @property
    def http(self) -> httpx.AsyncClient:
        return self.app.http

    @property
    def db(self) -> asyncpg.Pool:
        return self.app.db

    def use_cookies(self, **cookies: str) -> None:
        """The browser's cookie jar holds exactly these from now on."""
        self.http.cookies.clear()
        for name, value in cookies.items():
            self.http.cookies.set(name, value)

    async def sign_up(self, email: str | None = None, password: str = PASSWORD, name: str = "Ana") -> dict[str, str]:
        email = email or f"user{next(_n)}@example.com"
        r = await self.http.post("/api/auth/signup", json={"email": email, "password": password, "display_name": name})
        assert r.status_code == 201, r.text
        self.passwords[email] = password
        user: dict[str, str] = r.json()
        return user

    async def sign_in(self, email: str, password: str | None = None, **kwargs: object) -> httpx.Response:
        body = {"email": email, "password": password or self.passwords.get(email, PASSWORD)}
        return await self.http.post("/api/auth/signin", json=body, **kwargs)  # type: ignore[arg-type]

    async def token(self, email: str, password: str | None = None) -> str:
        r = await self.sign_in(email, password)
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    async def bearer(self, email: str, password: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(email, password)}"}

    async def published(self) -> list[tuple[str, dict[str, object]]]:
        """(subject, envelope) of every message in the AUTH stream, once the outbox is empty."""

        async def relayed() -> bool:
            return await self.db.fetchval("SELECT count(*) FROM outbox") == 0

        await eventually(relayed, 10, "the outbox relayed")
        js = self.app.nc.jetstream()
        info = await js.stream_info("AUTH")
        out = []
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            msg = await js.get_msg("AUTH", seq)
            out.append((msg.subject, json.loads(msg.data or b"{}")))
        return out
