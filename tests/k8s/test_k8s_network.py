"""Network policies and the Ingress of every rendered Brigade values set: default deny, then only the
flows each component needs; every public component routed under kitchen.local."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from tests.k8s.build_config import CHART_CATALOG, REPO
from tests.k8s.objects import (
    ROUTES,
    component_of,
    component_setting,
    pod_labels,
    pod_spec,
    selects,
    workloads,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.k8s.render import Rendered

# ----------------------------------------------------------------------------------------- network


def policies_for(rendered: Rendered, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [
        p
        for p in rendered.of_kind("NetworkPolicy")
        if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)
    ]


def egress_ports(policies: list[dict[str, Any]]) -> set[tuple[int, str]]:
    return {
        (port["port"], port.get("protocol", "TCP"))
        for p in policies
        for rule in p["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }


def test_the_namespace_denies_all_traffic_by_default(rendered: Rendered) -> None:
    deny = rendered.get("NetworkPolicy", "default-deny")
    assert deny["spec"]["podSelector"] == {}
    assert sorted(deny["spec"]["policyTypes"]) == ["Egress", "Ingress"]
    assert "ingress" not in deny["spec"]
    assert "egress" not in deny["spec"]


def test_every_deployment_has_a_network_policy_that_opens_only_what_it_needs(rendered: Rendered) -> None:
    for deployment in rendered.of_kind("Deployment"):
        name = component_of(deployment)
        policies = policies_for(rendered, pod_labels(deployment))
        assert policies, f"{name}: no NetworkPolicy selects it"
        ports = egress_ports(policies)
        assert {(53, "UDP"), (53, "TCP")} <= ports, f"{name}: DNS"
        assert ((4222, "TCP") in ports) == bool(component_setting(name, "nats")), f"{name}: NATS"
        assert ((5432, "TCP") in ports) == bool(component_setting(name, "database", "enabled")), name
        (container,) = pod_spec(deployment)["containers"]
        port = container["ports"][0]["containerPort"]
        sources = [
            peer
            for p in policies
            for rule in p["spec"].get("ingress", [])
            if {"port": port, "protocol": "TCP"} in rule.get("ports", [])
            for peer in rule["from"]
        ]
        from_controller = any(
            peer.get("namespaceSelector", {}).get("matchLabels", {}).get("kubernetes.io/metadata.name")
            == "ingress-nginx"
            for peer in sources
        )
        assert from_controller == bool(component_setting(name, "networkPolicy", "fromIngress")), name


def test_migration_pods_may_reach_postgres_and_postgres_admits_them(rendered: Rendered) -> None:
    postgres_labels = {"cnpg.io/cluster": "brigade-pg"}
    (postgres,) = policies_for(rendered, postgres_labels)
    admitted = [
        peer["podSelector"]["matchLabels"]
        for rule in postgres["spec"]["ingress"]
        if {"port": 5432, "protocol": "TCP"} in rule["ports"]
        for peer in rule["from"]
        if "podSelector" in peer and "namespaceSelector" not in peer
    ]
    for workload in workloads(rendered):
        labels = pod_labels(workload)
        if component_setting(component_of(workload), "database", "enabled"):
            assert (5432, "TCP") in egress_ports(policies_for(rendered, labels)), workload["metadata"]["name"]
            assert any(all(labels.get(k) == v for k, v in sel.items()) for sel in admitted)
        else:
            assert not any(all(labels.get(k) == v for k, v in sel.items()) for sel in admitted)


def test_nats_and_nats_box_pods_are_not_cut_off_by_the_default_deny(rendered: Rendered) -> None:
    nats = {
        "app.kubernetes.io/name": "nats",
        "app.kubernetes.io/instance": "nats",
        "app.kubernetes.io/component": "nats",
    }
    box = {"app.kubernetes.io/instance": "nats", "app.kubernetes.io/component": "nats-box"}
    assert (4222, "TCP") in {
        (p["port"], p["protocol"])
        for pol in policies_for(rendered, nats)
        for rule in pol["spec"]["ingress"]
        for p in rule["ports"]
    }
    assert (4222, "TCP") in egress_ports(policies_for(rendered, box))


# ----------------------------------------------------------------------------------------- ingress


def enabled_components(rendered: Rendered) -> set[str]:
    return {component_of(d) for d in rendered.of_kind("Deployment")}


def test_the_ingress_routes_every_public_component_under_kitchen_local(rendered: Rendered) -> None:
    services = {s["metadata"]["name"]: s for s in rendered.of_kind("Service")}
    enabled = enabled_components(rendered)
    routed: dict[str, tuple[str, int, str]] = {}
    own_hosts: dict[str, str] = {}  # a component with a host of its own (Mailpit's UI): host → Service
    for ingress in rendered.of_kind("Ingress"):
        assert ingress["spec"]["ingressClassName"] == "nginx"
        hosts = [rule["host"] for rule in ingress["spec"]["rules"]]
        assert "kitchen.local" in hosts
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] == "Prefix"
                backend = path["backend"]["service"]
                if rule["host"] == "kitchen.local":
                    routed[path["path"]] = (backend["name"], backend["port"]["number"], ingress["metadata"]["name"])
                elif component_setting(backend["name"], "ingressHost") == rule["host"]:
                    assert [p["path"] for p in rule["http"]["paths"]] == ["/"], rule["host"]
                    own_hosts[rule["host"]] = backend["name"]
                service = services[backend["name"]]
                assert backend["port"]["number"] == service["spec"]["ports"][0]["port"]
    expected = {r["prefix"]: r for r in ROUTES if r["component"] in enabled}
    assert set(routed) == set(expected)
    for prefix, route in expected.items():
        service, _port, ingress_name = routed[prefix]
        assert service == route["component"]
        assert ingress_name == ("brigade-live" if route.get("websocket") else "brigade"), prefix
    # A component the controller may call but that has no route would be unreachable.
    public = {n for n in enabled if component_setting(n, "networkPolicy", "fromIngress")}
    assert public <= {r["component"] for r in expected.values()} | set(own_hosts.values())
    assert own_hosts == {component_setting(n, "ingressHost"): n for n in enabled if component_setting(n, "ingressHost")}


def test_websocket_routes_get_an_ingress_of_their_own_with_long_proxy_timeouts(
    render: Callable[[str], Rendered],
) -> None:
    """The live feed's sockets stay open for hours: nginx must not cut them at its 60 s default."""
    rendered = render("default")
    live = rendered.get("Ingress", "brigade-live")
    annotations = live["metadata"]["annotations"]
    for key in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(annotations[f"nginx.ingress.kubernetes.io/{key}"]) >= 3600
    main = rendered.get("Ingress", "brigade")
    assert not any("timeout" in k for k in main["metadata"].get("annotations", {}))
    paths = {(p["path"], p["backend"]["service"]["name"]) for r in live["spec"]["rules"] for p in r["http"]["paths"]}
    assert paths == {("/api/live", "live")}
    main_paths = {p["path"] for rule in main["spec"]["rules"] for p in rule["http"]["paths"]}
    assert "/api/live" not in main_paths


def test_a_controller_reload_leaves_open_websockets_their_hour() -> None:
    """ingress-nginx reloads on every Ingress change: its old workers keep serving open sockets for
    `worker-shutdown-timeout` (240 s by default) before closing them."""
    values = yaml.safe_load((REPO / "infra/helm/values/ingress-nginx.yaml").read_text())
    config = values["controller"]["config"]
    assert int(config["worker-shutdown-timeout"].removesuffix("s")) >= 3600
    assert int(config["proxy-read-timeout"]) <= 60, "only the WebSocket Ingress keeps idle connections long"


def test_ingress_and_route_table_agree_on_the_default_components(render: Callable[[str], Rendered]) -> None:
    rendered = render("default")
    assert rendered.names("Ingress") == {"brigade", "brigade-live"}, "the live feed's sockets have their own"
    assert {component_of(d) for d in rendered.of_kind("Deployment")} == set(CHART_CATALOG), "every service, by default"
