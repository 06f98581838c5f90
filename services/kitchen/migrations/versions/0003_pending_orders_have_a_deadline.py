"""A pending order has a deadline too (when it fails unless the warehouse delivered): orders placed
before this revision get the default one, 60 s after they were placed.

Revision ID: 0003
"""

from brigade_common.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    UPDATE orders SET expires_at = created_at + interval '60 seconds'
    WHERE status = 'pending' AND expires_at IS NULL;
    CREATE INDEX orders_by_deadline ON orders (expires_at) WHERE status IN ('pending', 'reserved');
    """)


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
