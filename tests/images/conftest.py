"""Brigade's images, built from their Dockerfiles and run as the rendered chart runs them, on a local
container engine (Docker or Podman): `make test-images`. No Kubernetes: PostgreSQL and nats-server
are the tests' own processes, the pods are containers on the host network, the Ingress is a routing
HTTP transport built from the rendered Ingress objects (tests/images/pods.py says what is translated).

Run only when asked for by path (not part of `make test`); asked for with no working engine, the run
stops with exit code 3 and says so.

Environment: BRIGADE_CONTAINER_ENGINE (docker, then podman), BRIGADE_IMAGE_BUILD_ARGS (extra build
flags, e.g. base images from a local registry when Docker Hub is out of reach: see
tests/images/standin-bases.sh).
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import httpx
import pytest
import yaml

from brigade_common.devservers import FAST_SETTINGS, NatsServer, PostgresServer, free_port
from tests.images.engine import Engine, build_all, find_engine
from tests.images.pods import Obj, Pod, PodRunner
from tests.journey import new_customer, new_staff
from tests.k8s.build_config import REPO, releases, with_profile
from tests.k8s.render import CHART, POSTGRES_CHART, find_helm, template
from tests.optin import opt_in

HERE = Path(__file__).resolve().parent
NAMESPACE = "brigade"

# Values each skaffold profile layers on the two Brigade releases (skaffold.yaml).
# Production values turn seeding off; the journey needs dishes, and only the demo data makes them.
EXTRA_VALUES = {"prod": ["--set", "demoData=true"]}


def helm_args(profiles: str, release: str) -> list[str]:
    """The values skaffold passes to `release` under `-p profiles`, as helm flags."""
    files = releases(with_profile(profiles))[release].get("valuesFiles", [])
    return [arg for path in files for arg in ("-f", str(REPO / path))]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def missing() -> str | None:
        engine, why = find_engine()
        if engine is None:
            return f"no container engine answers ({why}): install Docker or Podman to build and run the images"
        if find_helm() is None:
            return "helm not found: run `make helm`"
        return None

    opt_in(config, items, HERE, missing)


@pytest.fixture(scope="session")
def engine() -> Engine:
    found, why = find_engine()
    assert found is not None, why
    return found


@pytest.fixture(scope="session")
def images(engine: Engine) -> dict[str, str]:
    """Every artifact of skaffold.yaml, built once per session: image name → local reference."""
    return build_all(engine)


# ------------------------------------------------------------------------------------------ system


class IngressTransport(httpx.BaseTransport):
    """Routes each request as the rendered Ingress rules for its Host do (pathType Prefix, longest
    prefix first) to the host port of a pod behind the backend Service, looked up per request (pods
    get replaced)."""

    def __init__(self, routes: dict[str, list[tuple[str, str]]], upstream: Callable[[str], str]) -> None:
        self._routes = {host: sorted(r, key=lambda r: len(r[0]), reverse=True) for host, r in routes.items()}
        self._upstream = upstream  # Service name → base URL
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        for prefix, service in self._routes.get(request.headers.get("host", "").split(":")[0], []):
            if prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                target = httpx.URL(self._upstream(service))
                request.url = request.url.copy_with(scheme=target.scheme, host=target.host, port=target.port)
                return self._inner.handle_request(request)
        return httpx.Response(404, text=f"no Ingress rule for {request.headers.get('host')}{path}")

    def close(self) -> None:
        self._inner.close()


class IngressController(ThreadingHTTPServer):
    """The ingress controller's part: an HTTP proxy on a local port that routes with IngressTransport.
    A pod that was pointed at the controller's in-cluster name reaches it as 127.0.0.1:<port> (the
    runner rewrote the address), so that Host is read back as the name it replaced."""

    daemon_threads = True
    HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host"})

    def __init__(self, transport: IngressTransport, in_cluster_host: str) -> None:
        self.client = httpx.Client(transport=transport, timeout=60)
        controller = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in controller.HOP_BY_HOP}
                host = self.headers.get("host", "")
                headers["host"] = in_cluster_host if host == f"127.0.0.1:{controller.port}" else host
                response = controller.client.request(
                    self.command, f"http://ingress{self.path}", headers=headers, content=body
                )
                self.send_response(response.status_code)
                for key, value in response.headers.multi_items():
                    if key.lower() not in controller.HOP_BY_HOP and key.lower() != "content-encoding":
                        self.send_header(key, value)
                self.send_header("content-length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _forward  # noqa: N815

            def log_message(self, format: str, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def close(self) -> None:
        self.shutdown()
        self.server_close()
        self.client.close()


@dataclass
class System:
    runner: PodRunner
    objects: list[Obj]
    pods: dict[str, list[Pod]]  # Deployment name → its running pods (spec.replicas of them)
    http: httpx.Client

    def deployment(self, name: str) -> Obj:
        return next(o for o in self.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name)

    def delete_pods(self, name: str) -> None:
        """Deletes every pod of the Deployment at once, with no grace period."""
        for pod in self.pods.pop(name):
            self.runner.kill(pod)

    def scale_up(self, name: str) -> list[Pod]:
        """Starts the Deployment's missing pods and waits for their probes, as the ReplicaSet would."""
        deployment = self.deployment(name)
        pods = self.pods.setdefault(name, [])
        while len(pods) < deployment["spec"].get("replicas", 1):
            pods.append(self.runner.start(name, deployment["spec"]["template"]))
        for pod in pods:
            self.runner.wait_started(pod)
        return pods

    def token(self, name: str, role: str = "customer") -> str:
        """A customer signed up and in through the chart's auth service; for staff, made admin (and
        staff) by the operator's command in the auth pod first."""
        if role == "customer":
            return new_customer(self.http, name)
        assert role == "staff", role

        def grant_admin(email: str) -> None:
            auth = self.pods["auth"][0].containers[0]
            result = self.runner.engine.run("exec", auth, "python", "-m", "brigade_auth", "admin", email)
            assert "now has the roles" in result.stdout, result.stdout + result.stderr

        return new_staff(self.http, name, grant_admin)


def _hook_order(obj: Obj) -> tuple[int, str]:
    return int(obj["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "0")), obj["metadata"]["name"]


def _is_pre_install_hook(obj: Obj) -> bool:
    return "pre-install" in obj["metadata"].get("annotations", {}).get("helm.sh/hook", "")


async def _prepare_database(
    pg: PostgresServer, cluster: Obj, databases: list[Obj], secrets: dict[str, dict[str, str]]
) -> None:
    """What CloudNativePG does for the rendered Cluster and Database objects: the application database
    and its owner, the post-init SQL, every managed role with the password of its Secret, and the
    declared schemas with their owners."""
    initdb = cluster["spec"]["bootstrap"]["initdb"]
    admin = await asyncpg.connect(pg.url)
    try:
        await admin.execute(f'CREATE ROLE "{initdb["owner"]}" LOGIN')
        await admin.execute(f'CREATE DATABASE "{initdb["database"]}" OWNER "{initdb["owner"]}"')
    finally:
        await admin.close()
    app = await asyncpg.connect(pg.url_for(initdb["database"]))
    try:
        for statement in initdb.get("postInitApplicationSQL", []):
            await app.execute(statement)
        for role in cluster["spec"]["managed"]["roles"]:
            password = secrets[role["passwordSecret"]["name"]]["password"].replace("'", "''")
            login = "LOGIN" if role.get("login") else "NOLOGIN"
            await app.execute(f"CREATE ROLE \"{role['name']}\" {login} PASSWORD '{password}'")
            for parent in role.get("inRoles", []):
                await app.execute(f'GRANT "{parent}" TO "{role["name"]}"')
        for database in databases:
            assert database["spec"]["name"] == initdb["database"], "one application database"
            for schema in database["spec"].get("schemas", []):
                if schema.get("ensure", "present") == "present":
                    await app.execute(f'CREATE SCHEMA "{schema["name"]}" AUTHORIZATION "{schema["owner"]}"')
    finally:
        await app.close()


def _ingress_routes(objects: list[Obj]) -> dict[str, list[tuple[str, str]]]:
    """Host → (path prefix, Service name) of every rendered Ingress rule."""
    routes: dict[str, list[tuple[str, str]]] = {}
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["pathType"] == "Prefix", path
                routes.setdefault(rule["host"], []).append((path["path"], path["backend"]["service"]["name"]))
    assert "kitchen.local" in routes, "no Ingress rule for kitchen.local"
    return routes


def _service_endpoint(objects: list[Obj], pods: dict[str, list[Pod]]) -> Callable[[str], str]:
    """Service name → base URL of a pod its selector picks now (round robin), on the port its
    targetPort names."""
    services = {o["metadata"]["name"]: o["spec"] for o in objects if o["kind"] == "Service"}
    turns = itertools.count()

    def endpoint(name: str) -> str:
        spec = services[name]
        chosen = [p for group in pods.values() for p in group if spec["selector"].items() <= p.labels.items()]
        assert chosen, f"Service {name} selects no running pod"
        return chosen[next(turns) % len(chosen)].url(spec["ports"][0]["targetPort"])

    return endpoint


@pytest.fixture
def system(
    request: pytest.FixtureRequest, engine: Engine, images: dict[str, str], nats_server: NatsServer
) -> Iterator[System]:
    """Brigade installed from its charts with one of skaffold's profiles (the test's `profile`
    parameter): hook Jobs run in order, then every Deployment's pod, each checked by its probe."""
    profile: str = request.param
    helm = find_helm()
    assert helm is not None
    brigade_args = helm_args(profile, "brigade") + EXTRA_VALUES.get(profile, [])
    objects = template(helm, CHART, "brigade", *brigade_args).docs
    pg_objects = template(helm, POSTGRES_CHART, "brigade-postgres", *helm_args(profile, "brigade-postgres")).docs

    secrets: dict[str, dict[str, str]] = {}  # the database credentials: no other Secret exists
    for secret in (o for o in pg_objects if o["kind"] == "Secret"):
        secrets[secret["metadata"]["name"]] = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    cluster = next(o for o in pg_objects if o["kind"] == "Cluster")

    root = Path(tempfile.mkdtemp(prefix="brigade-images-"))
    pg = PostgresServer(root / "pg", free_port(), log_file=root / "pg.log", settings=FAST_SETTINGS)
    pg.start()
    runner = None
    ingress = None
    try:
        databases = [o for o in pg_objects if o["kind"] == "Database"]
        asyncio.run(_prepare_database(pg, cluster, databases, secrets))
        pods: dict[str, list[Pod]] = {}
        values = yaml.safe_load((CHART / "values.yaml").read_text())
        transport = IngressTransport(_ingress_routes(objects), _service_endpoint(objects, pods))
        ingress = IngressController(transport, values["ingress"]["inClusterHost"])
        nats = urlsplit(values["nats"]["url"])
        database = urlsplit(next(s["uri"] for s in secrets.values() if "uri" in s))
        addresses = {
            (str(nats.hostname), nats.port or 4222): ("127.0.0.1", nats_server.port),
            (str(database.hostname), database.port or 5432): ("127.0.0.1", pg.port),
            (values["postgres"]["host"], values["postgres"]["port"]): ("127.0.0.1", pg.port),
            (values["ingress"]["inClusterHost"], 80): ("127.0.0.1", ingress.port),
        }
        workdir = root / "volumes"
        workdir.mkdir()
        runner = PodRunner(engine, dict(images), secrets, addresses, workdir)

        for job in sorted((o for o in objects if o["kind"] == "Job" and _is_pre_install_hook(o)), key=_hook_order):
            runner.run_to_completion(job["metadata"]["name"], job["spec"]["template"])
        # Clients outside the cluster come through the controller, as http://kitchen.local.
        address = f"http://127.0.0.1:{ingress.port}"
        with httpx.Client(base_url=address, headers={"host": "kitchen.local"}, timeout=30) as http:
            system = System(runner, objects, pods, http)
            for deployment in (o for o in objects if o["kind"] == "Deployment"):
                system.scale_up(deployment["metadata"]["name"])
            yield system
    finally:
        if ingress is not None:
            ingress.close()
        if runner is not None:
            runner.cleanup()
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)
