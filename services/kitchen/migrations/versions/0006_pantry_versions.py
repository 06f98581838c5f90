"""Each pantry balance has a version, bumped by every change of the row (a ledger move or a hold),
so a reader orders a balance it loaded against the events that change it.

Revision ID: 0006
"""

from brigade_common.migrations import execute_script

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE pantry ADD COLUMN version bigint NOT NULL DEFAULT 0 CHECK (version >= 0);")


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
