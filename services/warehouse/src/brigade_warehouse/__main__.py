"""`python -m brigade_warehouse api|migrate|seed`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_warehouse.definition import WAREHOUSE

if __name__ == "__main__":
    sys.exit(run(WAREHOUSE))
