"""Kitchen: dishes, pantry with its ledger, orders, supply requests, outbox, inbox, idempotency keys.

Revision ID: 0001
"""

from brigade_common.idempotency import IDEMPOTENCY_DDL
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
    execute_script("""
    CREATE TABLE dishes (
        id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]*$'),
        name        text NOT NULL,
        description text NOT NULL DEFAULT '',
        image_url   text,
        price_cents integer NOT NULL CHECK (price_cents > 0),
        version     integer NOT NULL DEFAULT 1,
        created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE dish_ingredients (
        dish_id    text NOT NULL REFERENCES dishes (id) ON DELETE CASCADE,
        ingredient text NOT NULL,
        amount     integer NOT NULL CHECK (amount > 0),
        PRIMARY KEY (dish_id, ingredient)
    );
    -- Balances live beside the ledger and change in the same transaction as its rows, so reading
    -- them costs the same at a thousand or a million movements.
    CREATE TABLE pantry (
        ingredient text PRIMARY KEY CHECK (ingredient ~ '^[a-z][a-z0-9_]*$'),
        on_hand    bigint NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
        reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        CHECK (reserved <= on_hand)
    );
    CREATE TABLE pantry_movements (
        id         bigserial PRIMARY KEY,
        ingredient text NOT NULL REFERENCES pantry (ingredient),
        delta      bigint NOT NULL CHECK (delta <> 0),
        reason     text NOT NULL CHECK (reason IN ('seed', 'delivery', 'consume')),
        order_id   uuid,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE orders (
        id          uuid PRIMARY KEY,
        customer_id text NOT NULL,
        dish_id     text NOT NULL REFERENCES dishes (id),
        dish_name   text NOT NULL,
        quantity    integer NOT NULL CHECK (quantity > 0),
        total_cents bigint NOT NULL CHECK (total_cents > 0),
        status      text NOT NULL
                    CHECK (status IN ('pending', 'reserved', 'served', 'cancelled', 'expired', 'failed')),
        version     integer NOT NULL DEFAULT 1,
        expires_at  timestamptz,
        reason      text,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX orders_by_customer ON orders (customer_id, created_at DESC, id DESC);
    CREATE INDEX orders_open ON orders (status) WHERE status IN ('pending', 'reserved');
    -- What each order needs of each ingredient and how much of the pantry's `reserved` is its hold.
    CREATE TABLE order_lines (
        order_id   uuid NOT NULL REFERENCES orders (id),
        ingredient text NOT NULL,
        needed     bigint NOT NULL CHECK (needed > 0),
        reserved   bigint NOT NULL DEFAULT 0 CHECK (reserved >= 0 AND reserved <= needed),
        PRIMARY KEY (order_id, ingredient)
    );
    CREATE TABLE supply_requests (
        id          uuid PRIMARY KEY,
        order_id    uuid NOT NULL REFERENCES orders (id),
        ingredient  text NOT NULL,
        amount      bigint NOT NULL CHECK (amount > 0),
        status      text NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'delivered', 'failed')),
        created_at  timestamptz NOT NULL DEFAULT now(),
        resolved_at timestamptz
    );
    CREATE INDEX supply_requests_by_order ON supply_requests (order_id);
    """)


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
