"""A set of supervised processes, launched one by one and stopped together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

from brigade_devstack.backoff import CrashLoopBackOff
from brigade_devstack.console import Console
from brigade_devstack.process import Command, CommandChild
from brigade_devstack.supervised import Child, ProcessWatcher, SupervisedService


class Supervisor:
    """Runs each launched process as a `SupervisedService`; `stop` ends them all within `grace` seconds."""

    def __init__(
        self,
        console: Console,
        *,
        watcher: ProcessWatcher | None = None,
        backoff: Callable[[], CrashLoopBackOff] = CrashLoopBackOff,
        grace: float = 10.0,
    ) -> None:
        self.grace = grace
        self.services: dict[str, SupervisedService] = {}
        self._console = console
        self._watcher = watcher
        self._backoff = backoff
        self._stopping = False

    def supervise(
        self, name: str, make_child: Callable[[], Child], *, fatal_first_start: bool = False
    ) -> SupervisedService:
        """Keep `name` running, with a fresh child from `make_child` for every (re)start."""
        if self._stopping:
            raise RuntimeError("the supervisor is stopping")
        service = SupervisedService(
            name,
            make_child,
            self._console,
            backoff=self._backoff(),
            watcher=self._watcher,
            fatal_first_start=fatal_first_start,
        )
        self.services[name] = service
        service.start()
        return service

    def launch(self, command: Command) -> SupervisedService:
        """Keep a service's command running."""
        return self.supervise(command.name, lambda: CommandChild(command, self._console))

    def launch_all(self, commands: Iterable[Command]) -> None:
        for command in commands:
            self.launch(command)

    async def stop(self) -> None:
        self._stopping = True
        await asyncio.gather(*(s.stop(self.grace) for s in self.services.values()))

    def kill(self) -> None:
        for service in self.services.values():
            service.kill()
