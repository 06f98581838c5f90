"""What `up` prints once everything answers /readyz."""

from __future__ import annotations

from brigade_devstack.console import Console
from brigade_devstack.demo_users import DemoUser
from brigade_devstack.stackconfig import StackConfig


def ready_banner(config: StackConfig, console: Console, users: list[DemoUser] | None = None) -> list[str]:
    gateway = config.gateway
    if gateway:
        lines = [console.highlight(f"Brigade is ready: http://localhost:{gateway.port}")]
    else:
        lines = [console.highlight("Brigade is ready (no gateway: brigade_web cannot run yet)")]
    rows: list[tuple[str, str, str]] = []
    for svc in config.services:
        if svc.spec.public and not svc.spec.gateway:
            via = f"http://localhost:{gateway.port}/api/{svc.name}" if gateway else ""
            direct = f"(direct {svc.base_url}"
            if svc.replicas:
                own = ", ".join(f"{r.name} :{r.own_port}" for r in svc.replicas)
                direct += f", {len(svc.replicas)} processes: {own}"
            rows.append((svc.name, via, direct + ")"))
    rows += [
        ("database", config.database_url, ""),
        ("nats", config.nats_url, ""),
        ("token", "make token", "(ROLE=staff or ROLE=admin, AS=alice for another user: signs in through auth)"),
        ("mail", "make mail", f"(what the services sent, caught by SMTP on port {config.mail_port})"),
        ("logs", "make logs", f"({config.layout.logs})"),
        ("stop", "Ctrl-C", ""),
    ]
    first = max(len(r[0]) for r in rows)
    second = max(len(r[1]) for r in rows)
    lines += [f"  {a:<{first}}  {b:<{second}}  {c}".rstrip() for a, b, c in rows]
    if users and config.auth is not None:
        lines.append("  sign in as (local demo users; passwords kept in .brigade/users.json):")
        width = max(len(u.email) for u in users)
        lines += [f"    {u.email:<{width}}  {u.password}  ({', '.join(u.roles)})" for u in users]
    return lines
