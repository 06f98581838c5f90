"""Auth: users, refresh-token families, sign-in attempt counters, signing keys, outbox, inbox.

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
    CREATE TABLE users (
        id            uuid PRIMARY KEY,
        -- Normalised (brigade_auth.domain.model.normalise_email): one account per address.
        email         text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
        display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
        roles         jsonb NOT NULL CHECK (jsonb_typeof(roles) = 'array'
                                            AND roles <@ '["customer", "staff", "admin"]'::jsonb),
        password_hash text NOT NULL,
        created_at    timestamptz NOT NULL,
        updated_at    timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX users_newest_first ON users (created_at DESC, id DESC);
    CREATE INDEX users_by_role ON users USING gin (roles);
    -- A sign-in starts a family; each refresh spends one token of it and adds the next.
    CREATE TABLE refresh_families (
        id             uuid PRIMARY KEY,
        user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at     timestamptz NOT NULL DEFAULT now(),
        revoked_at     timestamptz,
        revoked_reason text
    );
    CREATE INDEX refresh_families_by_user ON refresh_families (user_id);
    -- Only the SHA-256 of a token is kept: the table gives no token away.
    CREATE TABLE refresh_tokens (
        id         uuid PRIMARY KEY,
        family_id  uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
        user_id    uuid NOT NULL,
        digest     text NOT NULL UNIQUE,
        expires_at timestamptz NOT NULL,
        spent_at   timestamptz,
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX refresh_tokens_by_family ON refresh_tokens (family_id);
    CREATE INDEX refresh_tokens_by_expiry ON refresh_tokens (expires_at);
    -- Sign-in attempts per account and per client address in the current window (every replica
    -- counts in the same rows).
    CREATE TABLE signin_attempts (
        scope          text NOT NULL CHECK (scope IN ('account', 'address')),
        key            text NOT NULL,
        attempts       integer NOT NULL CHECK (attempts >= 0),
        window_started timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
    );
    CREATE TABLE signing_keys (
        kid           text PRIMARY KEY,
        private_pem   text NOT NULL,
        public_jwk    jsonb NOT NULL,
        created_at    timestamptz NOT NULL,
        superseded_at timestamptz
    );
    """)


def downgrade() -> None:
    raise NotImplementedError("the auth schema is not downgraded; restore from a backup")
