"""An order remembers its journey: every change of state and every step of its supply, each once
(keyed), with its time.

Revision ID: 0005
"""

from brigade_common.migrations import execute_script

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script(
        """
        CREATE TABLE order_steps (
            order_id   uuid NOT NULL REFERENCES orders (id),
            key        text NOT NULL,
            kind       text NOT NULL,
            ingredient text,
            amount     bigint,
            detail     text,
            at         timestamptz NOT NULL DEFAULT now(),
            -- Ties of `at` (the steps of one commit) read in the order they were written.
            seq        bigserial NOT NULL,
            PRIMARY KEY (order_id, key)
        );
        -- What the orders placed before the journey was kept still tell of it: when they were placed,
        -- what they asked the warehouse for and how that ended, and the state they are in now (the
        -- states in between and the market's purchases were not kept).
        INSERT INTO order_steps (order_id, key, kind, at)
            SELECT id, 'v1', 'pending', created_at FROM orders;
        INSERT INTO order_steps (order_id, key, kind, ingredient, amount, at)
            SELECT order_id, 'requested:' || id, 'requested', ingredient, amount, created_at FROM supply_requests;
        INSERT INTO order_steps (order_id, key, kind, ingredient, amount, at)
            SELECT order_id,
                   (CASE status WHEN 'delivered' THEN 'delivered:' ELSE 'supply_failed:' END) || id,
                   CASE status WHEN 'delivered' THEN 'delivered' ELSE 'supply_failed' END,
                   ingredient, amount, coalesce(resolved_at, created_at)
              FROM supply_requests WHERE status <> 'requested';
        INSERT INTO order_steps (order_id, key, kind, detail, at)
            SELECT id, 'v' || version, status, reason, updated_at FROM orders WHERE version > 1;
        """
    )


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
