"""A served order remembers the payment it was served for: the same payment seen again changes
nothing, any other payment for it is refused (and refunded).

Revision ID: 0004
"""

from brigade_common.migrations import execute_script

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("ALTER TABLE orders ADD COLUMN payment_id text;")


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
