"""`python -m brigade_auth api|migrate|seed`, and the operator's `keys rotate|list`, `admin EMAIL`."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import pydantic

from brigade_auth.bootstrap import open_tools
from brigade_auth.config import Settings
from brigade_auth.definition import AUTH
from brigade_auth.entrypoints import cli
from brigade_common.commands import run, settings_error
from brigade_common.logging import configure_logging


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in cli.COMMANDS:
        return run(AUTH, args)
    try:
        settings = Settings()
    except pydantic.ValidationError as exc:
        raise SystemExit(settings_error(Settings, exc)) from None
    configure_logging(AUTH.name, settings.log_format, settings.log_level)
    return cli.main(args, lambda: open_tools(settings))


if __name__ == "__main__":
    sys.exit(main())
