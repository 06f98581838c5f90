"""Stock held for the requests that are buying the rest: a request that must buy keeps what it found
on hand (`supply_requests.held`), counted on its stock row (`stock.reserved`), so that no request
coming after takes it meanwhile. Only what is not reserved is free to take.

Revision ID: 0003
"""

from brigade_common.migrations import execute_script

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    ALTER TABLE stock ADD COLUMN reserved bigint NOT NULL DEFAULT 0,
        ADD CONSTRAINT stock_reserved_on_hand CHECK (reserved >= 0 AND reserved <= on_hand);
    ALTER TABLE supply_requests ADD COLUMN held bigint NOT NULL DEFAULT 0,
        ADD CONSTRAINT supply_requests_held_amount CHECK (held >= 0 AND held < amount);
    """)


def downgrade() -> None:
    raise NotImplementedError("the warehouse schema is not downgraded; restore from a backup")
