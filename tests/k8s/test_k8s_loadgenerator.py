"""The locust load generator in the chart (`components.loadgenerator`, skaffold's `load` profile): off by
default; on, a hardened Deployment that reaches the app only through the ingress controller, with
no key and no literal credential: it signs its users up and in through the auth service."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

if TYPE_CHECKING:
    from tests.k8s.render import Rendered

REPO = Path(__file__).resolve().parents[2]
VALUES = yaml.safe_load((REPO / "infra/helm/brigade/values.yaml").read_text())
LOCUSTFILE = REPO / "tests/load/locustfile.py"
NAME = "loadgenerator"


def container(rendered: Rendered) -> dict[str, Any]:
    (c,) = rendered.get("Deployment", NAME)["spec"]["template"]["spec"]["containers"]
    return c


def env(rendered: Rendered) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container(rendered).get("env", [])}


def test_it_is_off_by_default(render: Callable[[str], Rendered]) -> None:
    rendered = render("default")
    assert not [d for d in rendered.docs if d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == NAME]
    hosts = {rule["host"] for ing in rendered.of_kind("Ingress") for rule in ing["spec"]["rules"]}
    assert hosts == {"kitchen.local"}


def test_it_runs_locust_from_its_own_image_with_probes_and_limits(render: Callable[[str], Rendered]) -> None:
    rendered = render("kind-load")
    c = container(rendered)
    assert c["image"].startswith("brigade-loadgenerator:")
    assert c["command"][:2] == ["locust", "--autostart"], "the swarm starts with the pod"
    assert c["ports"] == [{"name": "http", "containerPort": 8089, "protocol": "TCP"}]
    assert c["command"][c["command"].index("--web-port") + 1] == "8089"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/", "port": "http"}, probe
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(c["resources"][kind])
    spec = rendered.get("Deployment", NAME)["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsUser"] == 10001
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert "initContainers" not in spec, "no dev-mode source sync: the locustfile is in the image"


def test_it_signs_in_through_auth_and_holds_no_key_or_literal_credential(render: Callable[[str], Rendered]) -> None:
    variables = env(render("kind-load"))
    assert not [name for name in variables if "JWT" in name], "the load mints no token: it signs in"
    for name, entry in variables.items():
        if re.search(r"KEY|TOKEN|SECRET|PASSWORD", name):
            assert "value" not in entry, f"{name} is a literal"
    # Every LOAD_ variable the chart sets is one the locustfile reads.
    documented = set(re.findall(r"\bLOAD_[A-Z_]+\b", LOCUSTFILE.read_text()))
    assert {n for n in variables if n.startswith("LOAD_")} <= documented


def test_it_loads_the_app_through_the_ingress_controller_by_a_host_the_ingress_routes(
    render: Callable[[str], Rendered],
) -> None:
    rendered = render("kind-load")
    target = urlsplit(env(rendered)["LOCUST_HOST"]["value"])
    assert target.scheme == "http" and target.port in (None, 80)
    assert target.hostname == VALUES["ingress"]["inClusterHost"]
    assert target.hostname.startswith("ingress-nginx-controller.ingress-nginx.")
    rules = {rule["host"]: rule for ing in rendered.of_kind("Ingress") for rule in ing["spec"]["rules"]}
    assert rules[target.hostname]["http"] == rules["kitchen.local"]["http"], "routed like kitchen.local"
    backends = {p["backend"]["service"]["name"] for rule in rules.values() for p in rule["http"]["paths"]}
    assert NAME not in backends, "the load generator's UI is never exposed through the Ingress"


def test_its_network_policy_admits_no_one_and_lets_it_reach_only_dns_and_the_controller(
    render: Callable[[str], Rendered],
) -> None:
    policy = render("kind-load").get("NetworkPolicy", NAME)["spec"]
    assert policy["ingress"] == []
    peers = []
    for rule in policy["egress"]:
        for peer in rule["to"]:
            assert "ipBlock" not in peer
            namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            peers.append((namespace, {(p["port"], p["protocol"]) for p in rule["ports"]}))
    assert sorted(peers) == [("ingress-nginx", {(80, "TCP")}), ("kube-system", {(53, "UDP"), (53, "TCP")})]
    controller = [
        p
        for r in policy["egress"]
        for p in r["to"]
        if p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "ingress-nginx"
    ]
    assert controller[0]["podSelector"]["matchLabels"] == VALUES["networkPolicy"]["ingressController"]["podLabels"]
