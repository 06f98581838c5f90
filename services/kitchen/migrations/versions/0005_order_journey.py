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
        """
    )


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
