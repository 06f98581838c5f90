"""Helpers for supervisor tests: a fake service run through the real service table and commands."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

from brigade_devstack.catalog import ServiceSpec
from brigade_devstack.console import Console
from brigade_devstack.layout import Layout
from brigade_devstack.process import Command
from brigade_devstack.stackconfig import StackConfig, resolve

SUPPORT = Path(__file__).parent / "support"
FAKE_MODULE = "devstack_fakesvc"
REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Fakes:
    """Everything a test needs to plan, run and inspect fake services."""

    tmp: Path
    environ: dict[str, str]
    state: Path
    layout: Layout

    def plan(self, specs: Sequence[ServiceSpec]) -> StackConfig:
        return resolve(self.layout, specs, self.environ)

    def commands(self, config: StackConfig, modes: Mapping[str, str] | None = None) -> list[Command]:
        modes = modes or {}
        out = []
        for svc in config.services:
            command = config.command(svc, "api", self.environ, jwks='{"keys": []}')
            env = {**command.env, "FAKE_NAME": svc.name, "FAKE_MODE": modes.get(svc.name, "ok")}
            out.append(replace(command, env=env))
        return out

    def console(self, names: Sequence[str]) -> tuple[Console, io.StringIO]:
        out = io.StringIO()
        return Console(names, self.layout.logs, stream=out), out

    def lines(self, name: str, kind: str) -> list[str]:
        path = self.state / f"{name}.{kind}"
        return path.read_text().splitlines() if path.exists() else []


def fake_spec(name: str, port: int, **kwargs: bool) -> ServiceSpec:
    return ServiceSpec(name, FAKE_MODULE, port, **kwargs)


def alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
