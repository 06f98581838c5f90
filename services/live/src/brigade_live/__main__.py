"""`python -m brigade_live api`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_live.definition import LIVE

if __name__ == "__main__":
    sys.exit(run(LIVE))
