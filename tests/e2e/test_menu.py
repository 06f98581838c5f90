"""The menu across services: a dish staff add reaches every staff member as a notification (seed
002's `article.added`, which e-mailed one admin, fire-and-forget), through the kitchen's outbox and
the notifications service's consumer; a customer hears nothing of it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from brigade_common.testing.waiting import eventually
from tests.e2e.harness import Stack, running

NOTIFICATIONS = "/api/notifications/notifications"


@pytest.fixture
async def menu_stack(database_url: str, nats_url: str, tmp_path: Path) -> AsyncIterator[Stack]:
    stack = Stack(database_url, nats_url, tmp_path)
    async with running(stack, "auth", "kitchen", "notifications"):
        yield stack


async def _signed_up(http: httpx.AsyncClient, stack: Stack, name: str) -> str:
    r = await http.post(
        stack.url("auth") + "/api/auth/signup",
        json={
            "email": f"{name}-{uuid.uuid4().hex[:6]}@example.com",
            "password": "a long passphrase",
            "display_name": name,
        },
    )
    assert r.status_code == 201, r.text
    user_id: str = r.json()["id"]
    return user_id


async def _notifications(http: httpx.AsyncClient, stack: Stack, user_id: str, roles: tuple[str, ...]) -> list[Any]:
    r = await http.get(stack.url("notifications") + NOTIFICATIONS, headers=stack.auth(user_id, roles))
    assert r.status_code == 200, r.text
    items: list[Any] = r.json()["items"]
    return items


async def staff_in_notifications(stack: Stack, user_id: str) -> bool:
    """The notifications service has heard (from auth's events) that the user is staff."""
    conn = await asyncpg.connect(stack.database_url, server_settings={"search_path": "notifications"})
    try:
        return bool(await conn.fetchval("SELECT 'staff' = ANY (roles) FROM users WHERE user_id = $1", user_id))
    finally:
        await conn.close()


async def test_staff_are_told_of_a_new_dish_and_customers_are_not(menu_stack: Stack) -> None:
    stack = menu_stack
    async with httpx.AsyncClient(timeout=30) as http:
        cook = await _signed_up(http, stack, "Cook")
        diner = await _signed_up(http, stack, "Diner")
        promoted = await http.patch(
            stack.url("auth") + f"/api/auth/users/{cook}/role",
            json={"roles": ["customer", "staff"]},
            headers=stack.auth("admin-e2e", ("admin",)),
        )
        assert promoted.status_code == 200, promoted.text

        await eventually(lambda: staff_in_notifications(stack, cook), 30, "notifications knowing the cook is staff")
        created = await http.post(
            stack.url("kitchen") + "/api/kitchen/dishes",
            json={"name": "Cachapa", "price_cents": 650, "ingredients": {"maiz": 3, "queso": 2}},
            headers=stack.auth(cook, ("customer", "staff")),
        )
        assert created.status_code == 201, created.text

        async def told() -> dict[str, Any] | None:
            mine = await _notifications(http, stack, cook, ("customer", "staff"))
            return next((n for n in mine if n["kind"] == "dish_added"), None)

        notice = await eventually(told, 30, "the cook's notification of the new dish")
        assert notice["data"]["dish_id"] == created.json()["id"]
        assert "Cachapa" in notice["title"]
        assert not [n for n in await _notifications(http, stack, diner, ("customer",)) if n["kind"] == "dish_added"]
