"""Notifications: the users replica, per-user notifications, the mail queue (its sent ones are the
sent-mail log), outbox, inbox.

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
    -- What auth has said of each user. `roles_as_of` is when the roles held were set: auth's events
    -- may be handled out of order, and an older one never undoes a newer one.
    CREATE TABLE users (
        user_id      text PRIMARY KEY,
        email        text,
        display_name text,
        roles        text[] NOT NULL DEFAULT '{}',
        roles_as_of  timestamptz,
        updated_at   timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX users_staff ON users (user_id) WHERE 'staff' = ANY (roles);
    -- `source` names the cause (an order at a version, a payment …): one notification per cause and user.
    CREATE TABLE notifications (
        id         uuid PRIMARY KEY,
        user_id    text NOT NULL,
        kind       text NOT NULL,
        source     text NOT NULL,
        title      text NOT NULL,
        body       text NOT NULL,
        facts      jsonb NOT NULL DEFAULT '{}'::jsonb,
        created_at timestamptz NOT NULL,
        read_at    timestamptz,
        UNIQUE (user_id, source)
    );
    CREATE INDEX notifications_by_user ON notifications (user_id, created_at DESC, id DESC);
    CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;
    -- The mail queue. A consumer only adds to it, in the transaction of the notification; the
    -- sender takes what is due. Sent rows stay: they are the sent-mail log.
    CREATE TABLE mail (
        id              uuid PRIMARY KEY,
        message_id      text NOT NULL UNIQUE,
        notification_id uuid NOT NULL REFERENCES notifications (id),
        user_id         text NOT NULL,
        to_address      text,
        subject         text NOT NULL,
        text_body       text NOT NULL,
        html_body       text NOT NULL,
        status          text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
        attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at timestamptz,
        last_error      text,
        created_at      timestamptz NOT NULL DEFAULT now(),
        sent_at         timestamptz,
        CHECK ((status = 'sent') = (sent_at IS NOT NULL))
    );
    CREATE INDEX mail_due ON mail (next_attempt_at) WHERE status = 'queued' AND to_address IS NOT NULL;
    CREATE INDEX mail_unaddressed ON mail (user_id) WHERE status = 'queued' AND to_address IS NULL;
    CREATE INDEX mail_log ON mail (created_at DESC, id DESC);
    CREATE INDEX mail_by_status ON mail (status, created_at DESC, id DESC);
    """)


def downgrade() -> None:
    raise NotImplementedError("the notifications schema is not downgraded; restore from a backup")
