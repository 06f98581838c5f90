"""Signing up, in, refreshing and out over HTTP, against real PostgreSQL and NATS."""

from __future__ import annotations

import jwt

from services.auth.tests.integration.harness import ORIGIN, PASSWORD, AuthClient


def cookie_attributes(response_headers: list[str], name: str) -> set[str]:
    (line,) = [h for h in response_headers if h.startswith(f"{name}=")]
    return {part.strip().lower() for part in line.split(";")[1:]}


async def test_a_new_customer_signs_up_signs_in_and_is_known_by_the_token(auth: AuthClient) -> None:
    user = await auth.sign_up("Ana@Example.com", name="Ana")
    assert user["email"] == "ana@example.com"
    assert user["roles"] == ["customer"]
    assert not {"password", "password_hash"} & set(user)

    r = await auth.sign_in("ANA@example.com", PASSWORD)
    assert r.status_code == 200, r.text
    session = r.json()
    assert session["token_type"] == "Bearer"
    assert session["expires_in"] == 900
    assert session["user"]["id"] == user["id"]
    assert r.headers["cache-control"] == "no-store"
    assert "refresh" not in r.text  # the refresh token is in its cookie only

    # Seed 003's tokens never expired: these do, 15 minutes after they were made, and name their key.
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900
    assert (claims["sub"], claims["roles"], claims["name"]) == (user["id"], ["customer"], "Ana")
    kids = [k["kid"] for k in (await auth.http.get("/.well-known/jwks.json")).json()["keys"]]
    assert jwt.get_unverified_header(session["access_token"])["kid"] in kids

    cookies = r.headers.get_list("set-cookie")
    assert cookie_attributes(cookies, "brigade_access") >= {"httponly", "path=/", "samesite=lax", "max-age=900"}
    assert cookie_attributes(cookies, "brigade_refresh") >= {"httponly", "path=/api/auth", "samesite=lax"}
    assert "httponly" not in cookie_attributes(cookies, "brigade_csrf")
    assert not any("secure" in cookie_attributes(cookies, n) for n in ("brigade_access", "brigade_refresh"))

    me = await auth.http.get("/api/auth/me", headers={"Authorization": f"Bearer {session['access_token']}"})
    assert me.status_code == 200 and me.json() == user
    # The browser's way: the httpOnly cookie alone signs a safe request in.
    assert (await auth.http.get("/api/auth/me")).json()["id"] == user["id"]

    stored = await auth.db.fetchval("SELECT password_hash FROM users WHERE id = $1::uuid", user["id"])
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_a_second_sign_up_with_the_same_address_is_409_and_creates_nothing(auth: AuthClient) -> None:
    """Seed 001 created the duplicate anyway."""
    await auth.sign_up("bob@example.com")
    before = await auth.db.fetchval("SELECT count(*) FROM users")
    body = {"email": "BOB@example.com", "password": "another long password", "display_name": "Bob"}
    r = await auth.http.post("/api/auth/signup", json=body)
    assert r.status_code == 409, r.text
    assert r.json()["type"].endswith("/email-taken")
    assert [e["field"] for e in r.json()["errors"]] == ["email"]
    assert await auth.db.fetchval("SELECT count(*) FROM users") == before
    registered = [m for s, m in await auth.published() if s == "auth.user.registered.v1"]
    assert [m["data"]["email"] for m in registered].count("bob@example.com") == 1  # type: ignore[index]
    assert (await auth.sign_in("bob@example.com", "another long password")).status_code == 401


async def test_weak_passwords_and_self_chosen_roles_are_refused_naming_the_field(auth: AuthClient) -> None:
    """Seed 002 let the client set its roles."""
    mail = "carla.rossi.x@example.com"
    cases = [
        ({"email": "c@example.com", "password": "short", "display_name": "C"}, "password", "validation-error"),
        ({"email": mail, "password": mail.upper(), "display_name": "C"}, "password", "weak-password"),
        ({"email": mail, "password": "Carla.Rossi.X", "display_name": "C"}, "password", "weak-password"),
        ({"email": mail, "password": PASSWORD, "display_name": "C", "roles": ["admin"]}, "roles", "validation-error"),
        ({"email": "not an address", "password": PASSWORD, "display_name": "C"}, "email", "validation-error"),
    ]
    users = await auth.db.fetchval("SELECT count(*) FROM users")
    for body, field, kind in cases:
        r = await auth.http.post("/api/auth/signup", json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.text)
        assert r.json()["type"].endswith(f"/{kind}"), (body, r.text)
    assert await auth.db.fetchval("SELECT count(*) FROM users") == users


async def test_a_wrong_password_and_an_unknown_address_get_the_same_401(auth: AuthClient) -> None:
    """Seed 002 answered a wrong password 200."""
    await auth.sign_up("dora@example.com")
    wrong = await auth.sign_in("dora@example.com", "not the password at all")
    unknown = await auth.sign_in("nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    strip = {"instance", "request_id"}
    assert {k: v for k, v in wrong.json().items() if k not in strip} == {
        k: v for k, v in unknown.json().items() if k not in strip
    }
    assert "set-cookie" not in wrong.headers and "access_token" not in wrong.text


async def test_each_refresh_token_works_once_and_a_replayed_one_ends_the_session(auth: AuthClient) -> None:
    await auth.sign_up("eva@example.com")
    first = (await auth.sign_in("eva@example.com")).cookies["brigade_refresh"]

    r = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
    assert r.status_code == 200, r.text
    second = r.cookies["brigade_refresh"]
    assert second != first
    assert (
        await auth.http.get("/api/auth/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"})
    ).status_code == 200

    # The first token again (stolen, say): refused, and the whole session with it.
    auth.use_cookies(brigade_refresh=first)
    replay = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
    assert replay.status_code == 401 and "used already" in replay.json()["detail"]
    auth.use_cookies(brigade_refresh=second)
    after = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
    assert after.status_code == 401 and "revoked" in after.json()["detail"]


async def test_signing_out_revokes_the_session_and_clears_the_cookies(auth: AuthClient) -> None:
    await auth.sign_up("finn@example.com")
    refresh = (await auth.sign_in("finn@example.com")).cookies["brigade_refresh"]
    r = await auth.http.post("/api/auth/signout", headers=ORIGIN)
    assert r.status_code == 204
    assert all("max-age=0" in h.lower() for h in r.headers.get_list("set-cookie"))
    auth.use_cookies(brigade_refresh=refresh)
    again = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
    assert again.status_code == 401


async def test_an_unsafe_request_signed_in_by_cookie_must_come_from_the_site(auth: AuthClient) -> None:
    await auth.sign_up("gil@example.com")
    signed_in = await auth.sign_in("gil@example.com")
    refresh, csrf = signed_in.cookies["brigade_refresh"], signed_in.cookies["brigade_csrf"]
    auth.use_cookies(brigade_refresh=refresh, brigade_csrf=csrf)
    for headers in ({}, {"Origin": "https://evil.example"}, {"X-CSRF-Token": "guess"}):
        r = await auth.http.post("/api/auth/refresh", headers=headers)
        assert r.status_code == 403, (headers, r.text)
        assert r.json()["type"].endswith("/cross-site-request")
        r = await auth.http.post("/api/auth/signout", headers=headers)
        assert r.status_code == 403, (headers, r.text)
    # A page of the site that sends no Origin echoes the readable CSRF cookie instead.
    r = await auth.http.post("/api/auth/refresh", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
