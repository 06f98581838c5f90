"""Idempotency keys name the resource their first request created, nothing more: the stored
status and response body were never read (the kitchen replays the order as it stands now).

Revision ID: 0002
"""

from brigade_common.migrations import execute_script

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF EXISTS: databases created after this change got the new shape from 0001's shared DDL.
    execute_script("""
    ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS status;
    ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS response;
    """)


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
