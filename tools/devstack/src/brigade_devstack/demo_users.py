"""The demo users of `make up`: a customer, a staff member and an admin, with passwords made on the
first run and kept in `.brigade/users.json` (0600, local only), and any user `make token AS=…`
signed up. The auth service's `seed` provides them (AUTH_DEMO_USERS); the banner prints them."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from brigade_devstack.layout import Layout

# The service whose `seed` reads the users, and the roles each demo user holds.
AUTH_SERVICE = "auth"
DEMO_ROLES: dict[str, tuple[str, ...]] = {
    "customer": ("customer",),
    "staff": ("customer", "staff"),
    "admin": ("customer", "staff", "admin"),
}
DOMAIN = "example.com"


@dataclass(frozen=True)
class DemoUser:
    email: str
    password: str
    display_name: str
    roles: tuple[str, ...]


def users_file(layout: Layout) -> Path:
    return layout.home / "users.json"


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters: above the service's 12


def _write(path: Path, users: list[DemoUser]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump([asdict(u) for u in users], f, indent=2)
    tmp.replace(path)


def load_users(layout: Layout) -> list[DemoUser]:
    """The users of this stack, the three demo users made (and kept) on first use."""
    path = users_file(layout)
    try:
        users = [
            DemoUser(u["email"], u["password"], u["display_name"], tuple(u["roles"]))
            for u in json.loads(path.read_text())
        ]
    except (OSError, ValueError, KeyError, TypeError):
        users = []
    missing = [role for role in DEMO_ROLES if not any(u.email == f"{role}@{DOMAIN}" for u in users)]
    if missing:
        users += [DemoUser(f"{r}@{DOMAIN}", new_password(), f"Demo {r}", DEMO_ROLES[r]) for r in missing]
        _write(path, users)
    return users


def save_user(layout: Layout, user: DemoUser) -> None:
    """Add or replace `user` (by e-mail address) in the stack's users file."""
    users = [u for u in load_users(layout) if u.email != user.email]
    _write(users_file(layout), [*users, user])


def demo_user(layout: Layout, role: str) -> DemoUser:
    email = f"{role}@{DOMAIN}"
    return next(u for u in load_users(layout) if u.email == email)


def seed_setting(users: list[DemoUser]) -> str:
    """AUTH_DEMO_USERS: what the auth service's `seed` provides."""
    return json.dumps([{**asdict(u), "roles": list(u.roles)} for u in users])
