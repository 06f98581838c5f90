"""The one exception the command line turns into a readable message and an exit code."""

from __future__ import annotations


class DevstackError(RuntimeError):
    """Something the developer must fix; the message says what and how."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class LaunchError(RuntimeError):
    """A supervised process could not be started (or, for a server, did not become ready): a crash
    for the back-off, with the reason for the log."""
