"""Warehouse: stock with its ledger, supply requests, purchases, outbox, inbox.

Revision ID: 0001
"""

from brigade_common.migrations import execute_script
from brigade_common.outbox import OUTBOX_DDL
from brigade_common.unit_of_work import INBOX_DDL

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(OUTBOX_DDL)
    execute_script(INBOX_DDL)
    execute_script("""
    CREATE TABLE stock (
        ingredient text PRIMARY KEY CHECK (ingredient ~ '^[a-z][a-z0-9_]*$'),
        on_hand    bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0)
    );
    CREATE TABLE stock_movements (
        id         bigserial PRIMARY KEY,
        ingredient text NOT NULL REFERENCES stock (ingredient),
        delta      bigint NOT NULL CHECK (delta <> 0),
        reason     text NOT NULL CHECK (reason IN ('seed', 'purchase', 'supply')),
        request_id uuid,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE supply_requests (
        id          uuid PRIMARY KEY,
        order_id    text NOT NULL,
        ingredient  text NOT NULL,
        amount      bigint NOT NULL CHECK (amount > 0),
        status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'delivered', 'failed')),
        deadline    timestamptz NOT NULL,
        reason      text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
    );
    CREATE TABLE purchases (
        id         bigserial PRIMARY KEY,
        request_id uuid NOT NULL REFERENCES supply_requests (id),
        ingredient text NOT NULL,
        requested  bigint NOT NULL CHECK (requested > 0),
        received   bigint NOT NULL CHECK (received >= 0),
        supplier   text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX purchases_by_request ON purchases (request_id);
    """)


def downgrade() -> None:
    raise NotImplementedError("the warehouse schema is not downgraded; restore from a backup")
