"""Mail in the cluster: on kind (skaffold's kind profile, values/brigade-kind.yaml) Mailpit's published
image, pinned, catches what the notifications service sends and shows it at mail.kitchen.local;
only the notifications service may reach its SMTP port, only the Ingress its web UI. Elsewhere it is
off, and mail waits for a relay the deployment names."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.k8s.objects import env_of, pod_labels, pod_spec, selects

if TYPE_CHECKING:
    from tests.k8s.render import Rendered

SMTP_PORT = 1025


def container(rendered: Rendered, name: str) -> dict[str, Any]:
    (c,) = pod_spec(rendered.get("Deployment", name))["containers"]
    return c


def test_mailpit_runs_only_on_kind(render: Callable[[str], Rendered]) -> None:
    for scenario in ("default", "prod"):
        rendered = render(scenario)
        assert "mailpit" not in rendered.names("Deployment"), scenario
        hosts = {rule["host"] for ing in rendered.of_kind("Ingress") for rule in ing["spec"]["rules"]}
        assert "mail.kitchen.local" not in hosts, scenario
        assert "NOTIFICATIONS_SMTP_HOST" not in env_of(container(rendered, "notifications")), scenario
    assert "mailpit" in render("kind").names("Deployment")


def test_it_is_mailpits_published_image_at_a_pinned_release(render: Callable[[str], Rendered]) -> None:
    c = container(render("kind"), "mailpit")
    repository, _, tag = c["image"].rpartition(":")
    assert repository == "axllent/mailpit"
    assert re.fullmatch(r"v\d+\.\d+\.\d+", tag), tag
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8025, "smtp": SMTP_PORT}
    env = {k: v["value"] for k, v in env_of(c).items()}
    assert env["MP_SMTP_BIND_ADDR"] == f"0.0.0.0:{SMTP_PORT}" and env["MP_UI_BIND_ADDR"] == "0.0.0.0:8025"
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}


def test_the_notifications_service_sends_to_mailpit_on_kind(render: Callable[[str], Rendered]) -> None:
    rendered = render("kind")
    env = {k: v.get("value") for k, v in env_of(container(rendered, "notifications")).items()}
    service = rendered.get("Service", "mailpit")
    ports = {p["name"]: p["port"] for p in service["spec"]["ports"]}
    assert env["NOTIFICATIONS_SMTP_HOST"] == service["metadata"]["name"]
    assert int(env["NOTIFICATIONS_SMTP_PORT"]) == ports["smtp"] == SMTP_PORT
    assert env["NOTIFICATIONS_PUBLIC_URL"] == "http://kitchen.local"


def test_mail_kitchen_local_shows_mailpits_ui_and_nothing_else(render: Callable[[str], Rendered]) -> None:
    rendered = render("kind")
    rules = {rule["host"]: rule for ing in rendered.of_kind("Ingress") for rule in ing["spec"]["rules"]}
    (path,) = rules["mail.kitchen.local"]["http"]["paths"]
    assert (path["path"], path["backend"]["service"]) == ("/", {"name": "mailpit", "port": {"number": 8025}})
    elsewhere = {
        p["backend"]["service"]["name"]
        for h, r in rules.items()
        if h != "mail.kitchen.local"
        for p in r["http"]["paths"]
    }
    assert "mailpit" not in elsewhere


def test_only_the_notifications_service_reaches_mailpits_smtp_port(render: Callable[[str], Rendered]) -> None:
    rendered = render("kind")
    mailpit = rendered.get("NetworkPolicy", "mailpit")["spec"]
    smtp_from = [
        peer
        for rule in mailpit["ingress"]
        if {"port": SMTP_PORT, "protocol": "TCP"} in rule["ports"]
        for peer in rule["from"]
    ]
    labels = {name: pod_labels(rendered.get("Deployment", name)) for name in rendered.names("Deployment")}
    admitted = {name for name, pod in labels.items() for peer in smtp_from if selects(peer["podSelector"], pod)}
    assert admitted == {"notifications"}
    assert all("namespaceSelector" not in peer for peer in smtp_from)
    egress = rendered.get("NetworkPolicy", "notifications")["spec"]["egress"]
    to_mailpit = [
        rule
        for rule in egress
        for peer in rule.get("to", [])
        if "podSelector" in peer and selects(peer["podSelector"], labels["mailpit"])
    ]
    assert [r["ports"] for r in to_mailpit] == [[{"port": SMTP_PORT, "protocol": "TCP"}]]
    assert mailpit["egress"][1:] == [], "Mailpit itself reaches nothing but DNS: it relays no mail"
