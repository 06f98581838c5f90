"""`python -m brigade_web api` — the only place that reads settings."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_web.definition import WEB

if __name__ == "__main__":
    sys.exit(run(WEB))
