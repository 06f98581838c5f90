"""Roles: every new user a customer, changed by an admin only, the first admin from a setting."""

from __future__ import annotations

import jwt

from services.auth.tests.integration.conftest import ADMIN_EMAIL
from services.auth.tests.integration.harness import ORIGIN, AuthClient


def roles_of(token: str) -> list[str]:
    roles: list[str] = jwt.decode(token, options={"verify_signature": False})["roles"]
    return roles


async def test_an_admin_gives_roles_and_the_users_next_token_carries_them(auth: AuthClient) -> None:
    """Seed 002 never checked roles: here a customer and staff are refused, an admin is obeyed."""
    ana = await auth.sign_up("ana@example.com")
    ana_token = await auth.token("ana@example.com")
    refresh_cookie = auth.http.cookies["brigade_refresh"]
    admin = await auth.bearer(ADMIN_EMAIL)
    role_url = f"/api/auth/users/{ana['id']}/role"

    r = await auth.http.patch(role_url, json={"roles": ["admin"]}, headers={"Authorization": f"Bearer {ana_token}"})
    assert r.status_code == 403, r.text
    r = await auth.http.patch(role_url, json={"roles": ["customer", "staff", "staff"]}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["customer", "staff"]

    # Staff now, at the next refresh: the roles come from the store, not from the old token.
    assert roles_of(ana_token) == ["customer"]
    auth.use_cookies(brigade_refresh=refresh_cookie)
    refreshed = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
    assert roles_of(refreshed.json()["access_token"]) == ["customer", "staff"]
    staff = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert (await auth.http.patch(role_url, json={"roles": ["admin"]}, headers=staff)).status_code == 403

    changed = [m["data"] for s, m in await auth.published() if s == "auth.user.role_changed.v1"]
    admin_id = (await auth.http.get("/api/auth/me", headers=admin)).json()["id"]
    assert {
        "user_id": ana["id"],
        "roles": ["customer", "staff"],
        "previous_roles": ["customer"],
        "changed_by": admin_id,
    } in changed


async def test_staff_list_the_customers_page_by_page_and_customers_may_not(auth: AuthClient) -> None:
    emails = [f"c{i}@example.com" for i in range(3)]
    for email in emails:
        await auth.sign_up(email)
    customer = await auth.bearer(emails[0])
    assert (await auth.http.get("/api/auth/users", headers=customer)).status_code == 403

    admin = await auth.bearer(ADMIN_EMAIL)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = (await auth.http.get("/api/auth/users", params=params, headers=admin)).json()
        seen += [u["email"] for u in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(emails))  # newest first; the admin holds no customer role
    one = (await auth.http.get("/api/auth/users", params={"role": "admin"}, headers=admin)).json()["items"]
    assert [u["email"] for u in one] == [ADMIN_EMAIL]


async def test_the_last_admin_cannot_give_up_the_role(auth: AuthClient) -> None:
    admin = await auth.bearer(ADMIN_EMAIL)
    me = (await auth.http.get("/api/auth/me", headers=admin)).json()
    assert set(me["roles"]) >= {"admin", "staff"}
    r = await auth.http.patch(f"/api/auth/users/{me['id']}/role", json={"roles": ["staff"]}, headers=admin)
    assert r.status_code == 409 and r.json()["type"].endswith("/last-admin")
    unknown = "00000000-0000-4000-8000-000000000000"
    r = await auth.http.patch(f"/api/auth/users/{unknown}/role", json={"roles": ["staff"]}, headers=admin)
    assert r.status_code == 404
