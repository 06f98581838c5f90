"""`python -m brigade_notifications api|migrate`."""

from __future__ import annotations

import sys

from brigade_common.commands import run
from brigade_notifications.definition import NOTIFICATIONS

if __name__ == "__main__":
    sys.exit(run(NOTIFICATIONS))
