"""`python -m brigade_common.dlq`: see `brigade_common.dlq.cli`."""

import sys

from brigade_common.dlq.cli import main

sys.exit(main())
