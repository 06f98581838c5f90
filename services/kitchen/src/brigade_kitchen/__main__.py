"""`python -m brigade_kitchen api|migrate|seed`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_kitchen.definition import KITCHEN

if __name__ == "__main__":
    sys.exit(run(KITCHEN))
