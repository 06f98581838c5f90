"""Each stock balance has a version, bumped by every ledger move of the row, so a reader orders a
balance it loaded against the events that change it.

Revision ID: 0002
"""

from brigade_common.migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE stock ADD COLUMN version bigint NOT NULL DEFAULT 0 CHECK (version >= 0);")


def downgrade() -> None:
    raise NotImplementedError("the warehouse schema is not downgraded; restore from a backup")
