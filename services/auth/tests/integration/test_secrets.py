"""No password, hash or token leaves the service where it does not belong: not in its logs, not in
the AUTH stream, not in any answer but the access token of a sign-in (seed 002's `user.added`
carried the plaintext password to the other service)."""

from __future__ import annotations

import json

import httpx
from structlog.testing import capture_logs

from services.auth.tests.integration.conftest import ADMIN_EMAIL
from services.auth.tests.integration.harness import ORIGIN, AuthClient

SECRET_PASSWORD = "hunter2 is not a password"
WRONG_PASSWORD = "this one is wrong, too"


async def test_passwords_hashes_and_tokens_stay_out_of_logs_events_and_answers(auth: AuthClient) -> None:
    answers: list[httpx.Response] = []
    tokens: list[str] = []
    with capture_logs() as logs:
        answers.append(
            await auth.http.post(
                "/api/auth/signup",
                json={"email": "ana@example.com", "password": SECRET_PASSWORD, "display_name": "Ana"},
            )
        )
        answers.append(await auth.sign_in("ana@example.com", WRONG_PASSWORD))
        answers.append(
            await auth.http.post(
                "/api/auth/signup", json={"email": "ana@example.com", "password": WRONG_PASSWORD, "display_name": "Ana"}
            )
        )
        signed_in = await auth.sign_in("ana@example.com", SECRET_PASSWORD)
        first_refresh = signed_in.cookies["brigade_refresh"]
        tokens += [signed_in.json()["access_token"], first_refresh]
        refreshed = await auth.http.post("/api/auth/refresh", headers=ORIGIN)
        tokens += [refreshed.json()["access_token"], refreshed.cookies["brigade_refresh"]]
        auth.use_cookies(brigade_refresh=first_refresh)
        answers.append(await auth.http.post("/api/auth/refresh", headers=ORIGIN))  # a replay: refused
        bearer = {"Authorization": f"Bearer {tokens[2]}"}
        answers.append(await auth.http.get("/api/auth/me", headers=bearer))
        admin = await auth.bearer(ADMIN_EMAIL)
        ana_id = answers[0].json()["id"]
        answers.append(
            await auth.http.patch(f"/api/auth/users/{ana_id}/role", json={"roles": ["staff"]}, headers=admin)
        )
        answers.append(await auth.http.get("/api/auth/users", params={"role": "staff"}, headers=admin))
        answers.append(await auth.http.post("/api/auth/signout", headers=ORIGIN))
        events = await auth.published()

    hashes = [r["password_hash"] for r in await auth.db.fetch("SELECT password_hash FROM users")]
    secrets = {SECRET_PASSWORD, WRONG_PASSWORD, *tokens, *hashes}
    logged = json.dumps([{k: str(v) for k, v in entry.items()} for entry in logs])
    assert any(e["event"] == "http_request" for e in logs)  # the logs were captured
    streamed = json.dumps(events)
    assert {s for s, _ in events} == {"auth.user.registered.v1", "auth.user.role_changed.v1"}
    answered = [f"{r.status_code} {r.headers} {r.text}" for r in answers]
    for secret in secrets:
        assert secret not in logged
        assert secret not in streamed
        assert not any(secret in text for text in answered)
    assert "argon2" not in logged + streamed + "".join(answered)
