"""`python -m brigade_payments api|migrate|seed`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_payments.definition import PAYMENTS

if __name__ == "__main__":
    sys.exit(run(PAYMENTS))
