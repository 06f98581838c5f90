"""Payments: the order replica, payments, outbox, inbox, idempotency keys (with their results).

Revision ID: 0001
"""

from brigade_common.idempotency import IDEMPOTENCY_DDL, IDEMPOTENCY_RESULTS_DDL
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
    execute_script(IDEMPOTENCY_DDL)
    execute_script(IDEMPOTENCY_RESULTS_DDL)
    execute_script("""
    -- The kitchen's orders as their events tell them (and, for one not heard of yet, as the kitchen
    -- answers): only what paying needs. `version` only grows.
    CREATE TABLE orders (
        order_id    uuid PRIMARY KEY,
        customer_id text NOT NULL,
        total_cents bigint NOT NULL CHECK (total_cents > 0),
        status      text NOT NULL
                    CHECK (status IN ('pending', 'reserved', 'served', 'cancelled', 'expired', 'failed')),
        version     integer NOT NULL CHECK (version > 0),
        updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE payments (
        id              uuid PRIMARY KEY,
        order_id        uuid NOT NULL,
        customer_id     text NOT NULL,
        amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
        token           text NOT NULL,
        status          text NOT NULL CHECK (status IN ('processing', 'succeeded', 'failed', 'refunded')),
        failure_code    text,
        failure_message text,
        charge_id       text,
        refund_id       text,
        refund_reason   text,
        created_at      timestamptz NOT NULL,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        CHECK ((status IN ('succeeded', 'refunded')) = (charge_id IS NOT NULL)),
        CHECK ((status = 'refunded') = (refund_id IS NOT NULL)),
        CHECK ((status = 'failed') = (failure_code IS NOT NULL))
    );
    -- At most one charge per order, whatever the concurrency: one payment in flight, succeeded or
    -- refunded; failed attempts (declined, not processed) took nothing and do not count.
    CREATE UNIQUE INDEX payments_one_charge_per_order ON payments (order_id) WHERE status <> 'failed';
    CREATE INDEX payments_by_customer ON payments (customer_id, created_at DESC, id DESC);
    CREATE INDEX payments_by_order ON payments (order_id, created_at DESC, id DESC);
    CREATE INDEX payments_processing ON payments (created_at) WHERE status = 'processing';
    """)


def downgrade() -> None:
    raise NotImplementedError("the payments schema is not downgraded; restore from a backup")
