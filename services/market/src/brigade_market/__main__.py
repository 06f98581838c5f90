"""`python -m brigade_market api`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_market.definition import MARKET

if __name__ == "__main__":
    sys.exit(run(MARKET))
