"""The service in-process for integration tests, and the events other services would publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from pydantic import BaseModel

from brigade_common.envelope import Envelope
from brigade_common.jetstream import connect
from brigade_common.testing.inprocess import InProcess, TestKeys, in_process, migrate_and_seed
from brigade_common.testing.waiting import eventually
from brigade_contracts import auth, kitchen
from brigade_notifications.bootstrap import create_app
from brigade_notifications.config import MIGRATIONS_DIR, SCHEMA, Settings

LIST = "/api/notifications/notifications"
MAIL = "/api/notifications/mail"
# Fast enough that a test waits on conditions, not on a schedule.
FAST = {
    "mail_poll_s": 0.05,
    "mail_backoff_s": 0.05,
    "mail_backoff_max_s": 0.2,
    "mail_max_attempts": 1000,
    "smtp_timeout_s": 2.0,
    "consumer_backoff_s": (0.05,),
}


@dataclass
class Service:
    app: InProcess
    keys: TestKeys

    @property
    def http(self) -> httpx.AsyncClient:
        return self.app.http

    @property
    def db(self) -> asyncpg.Pool:
        return self.app.db

    def auth(self, sub: str, roles: tuple[str, ...] = ("customer",)) -> dict[str, str]:
        return self.keys.auth(sub, roles)

    async def notifications(self, sub: str, **params: Any) -> dict[str, Any]:
        r = await self.http.get(LIST, params=params, headers=self.auth(sub))
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        return body

    async def titles(self, sub: str) -> list[str]:
        return [n["title"] for n in (await self.notifications(sub))["items"]]

    async def wait_titles(self, sub: str, count: int) -> list[str]:
        async def enough() -> list[str] | None:
            titles = await self.titles(sub)
            return titles if len(titles) >= count else None

        return await eventually(enough, 15, f"{count} notifications for {sub}")

    async def events(self, subject: str, count: int) -> list[Envelope]:
        """The service's messages on `subject`, once the NOTIFICATIONS stream holds `count` of them
        (the relay sends them right after the commit), and any more it holds by then."""
        js = self.app.nc.jetstream()

        async def stored() -> int:
            info = await js.stream_info("NOTIFICATIONS", subjects_filter=subject)
            return sum((info.state.subjects or {}).values())

        async def enough() -> bool:
            return await stored() >= count

        await eventually(enough, 15, f"{count} {subject}")
        total = await stored()
        sub = await js.subscribe(subject, stream="NOTIFICATIONS", ordered_consumer=True)
        try:
            return [Envelope.from_bytes((await sub.next_msg(timeout=5)).data) for _ in range(total)]
        finally:
            await sub.unsubscribe()

    async def mail(self, status: str | None = None) -> list[dict[str, Any]]:
        params = {"status": status} if status else {}
        r = await self.http.get(MAIL, params=params, headers=self.auth("staff-1", ("staff",)))
        assert r.status_code == 200, r.text
        items: list[dict[str, Any]] = r.json()["items"]
        return items


@asynccontextmanager
async def running(database_url: str, nats_url: str, keys: TestKeys, **settings: Any) -> AsyncIterator[Service]:
    values = {**FAST, **settings}
    config = Settings(database_url=database_url, nats_url=nats_url, jwt_public_keys=keys.jwks, **values)  # type: ignore[arg-type]
    async with in_process(create_app(config), "http://notifications", database_url, nats_url, SCHEMA) as app:
        yield Service(app, keys)


async def migrate(database_url: str) -> None:
    await migrate_and_seed(database_url, SCHEMA, MIGRATIONS_DIR)


class Publisher:
    """What auth, the kitchen and payments would publish, straight to JetStream."""

    def __init__(self, nats_url: str) -> None:
        self._url = nats_url

    async def publish(self, type_: str, payload: BaseModel, *, envelope_id: str | None = None) -> Envelope:
        env = Envelope.wrap(type_, payload, id_=envelope_id)
        nc = await connect(self._url, name="publisher")
        try:
            await nc.jetstream().publish(type_, env.to_bytes(), headers=env.headers())
        finally:
            await nc.drain()
        return env

    async def user(self, user_id: str, *, roles: tuple[str, ...] = ("customer",), name: str | None = None) -> Envelope:
        payload = auth.UserRegistered(
            user_id=user_id,
            email=f"{user_id}@example.com",
            display_name=name or user_id.title(),
            roles=[auth.Role(r) for r in roles],
        )
        return await self.publish(auth.USER_REGISTERED, payload)

    async def order(self, customer: str, status: str, version: int, order_id: str = "o-1") -> Envelope:
        snapshot = kitchen.OrderSnapshot(
            order_id=order_id,
            customer_id=customer,
            dish_id="pan-simple",
            dish_name="Pan simple",
            quantity=1,
            total_cents=500,
            status=kitchen.OrderStatus(status),
            version=version,
            expires_at=datetime(2026, 12, 1, 12, 15, tzinfo=UTC) if status == "reserved" else None,
        )
        return await self.publish(kitchen.ORDER_EVENT_TYPES[snapshot.status], snapshot)

    async def dish(self, dish_id: str, name: str, description: str = "") -> Envelope:
        snapshot = kitchen.DishSnapshot(
            dish_id=dish_id, name=name, description=description, price_cents=350, version=1, ingredients={"pan": 1}
        )
        return await self.publish(kitchen.DISH_CREATED, snapshot)
