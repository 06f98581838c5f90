"""`make token`: an access token from the real auth service of `make up`, by signing in.

`ROLE=customer|staff|admin` signs in as that demo user; `AS=alice` as alice@example.com (any
address with an @), signed up on first use with a password kept in `.brigade/users.json`, and given
ROLE by the demo admin through the API, as an admin would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from brigade_devstack.demo_users import DEMO_ROLES, DOMAIN, DemoUser, demo_user, load_users, new_password, save_user
from brigade_devstack.errors import DevstackError
from brigade_devstack.layout import Layout

AUTH = "/api/auth"


class AuthClient:
    """The few calls `make token` makes, failing with what to do about it."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=15)

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise DevstackError(
                f"the auth service does not answer at {self.base_url} ({exc}): is `make up` running?"
            ) from None

    def sign_in(self, user: DemoUser) -> dict[str, Any]:
        r = self._call("POST", f"{AUTH}/signin", json={"email": user.email, "password": user.password})
        if r.status_code != 200:
            hint = " (`make reset` forgets the users of an older stack)" if r.status_code == 401 else ""
            raise DevstackError(f"signing in as {user.email} failed: {r.status_code} {r.text[:300]}{hint}")
        session: dict[str, Any] = r.json()
        return session

    def sign_up(self, user: DemoUser) -> bool:
        """False when the address has an account already."""
        body = {"email": user.email, "password": user.password, "display_name": user.display_name}
        r = self._call("POST", f"{AUTH}/signup", json=body)
        if r.status_code not in (201, 409):
            raise DevstackError(f"signing up {user.email} failed: {r.status_code} {r.text[:300]}")
        return r.status_code == 201

    def set_roles(self, admin_token: str, user_id: str, roles: tuple[str, ...]) -> None:
        r = self._call(
            "PATCH",
            f"{AUTH}/users/{user_id}/role",
            json={"roles": list(roles)},
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        if r.status_code != 200:
            raise DevstackError(f"giving {user_id} the roles {roles} failed: {r.status_code} {r.text[:300]}")


def _someone(layout: Layout, client: AuthClient, who: str, role: str | None) -> DemoUser:
    email = who if "@" in who else f"{who}@{DOMAIN}"
    known = next((u for u in load_users(layout) if u.email == email.lower()), None)
    user = known or DemoUser(email.lower(), new_password(), who.split("@")[0], ("customer",))
    if known is None:
        if not client.sign_up(user):
            raise DevstackError(f"{user.email} has an account whose password this stack does not know")
        save_user(layout, user)
    if role is not None and role not in user.roles:
        session = client.sign_in(user)
        admin = client.sign_in(demo_user(layout, "admin"))
        roles = tuple(dict.fromkeys([*user.roles, *DEMO_ROLES[role]]))
        client.set_roles(admin["access_token"], session["user"]["id"], roles)
        user = DemoUser(user.email, user.password, user.display_name, roles)
        save_user(layout, user)
    return user


def sign_in_token(
    layout: Layout, auth_url: str, *, role: str | None = None, who: str | None = None
) -> tuple[str, DemoUser]:
    """An access token (and whose it is) from the auth service at `auth_url`."""
    if role is not None and role not in DEMO_ROLES:
        raise DevstackError(f"ROLE must be one of {', '.join(DEMO_ROLES)}, got {role!r}")
    client = AuthClient(auth_url)
    try:
        user = demo_user(layout, role or "customer") if who is None else _someone(layout, client, who, role)
        return str(client.sign_in(user)["access_token"]), user
    finally:
        client.close()


def local_auth_url(layout: Layout, environ: Mapping[str, str]) -> str:
    """Where `make up` serves the auth service (its port setting applied)."""
    from brigade_devstack.catalog import service_table
    from brigade_devstack.stackconfig import resolve

    auth = resolve(layout, service_table(), environ).auth
    if auth is None:
        raise DevstackError("no auth service in this checkout: `make install`")
    return auth.base_url
