"""Staff manage the menu: a dish may be retired (it leaves the menu, its row and the orders that name
it stay), a name is unique among the dishes still on it, and uploaded pictures are kept by their
content's SHA-256 (the only name a file gets: nothing a client sends names a place to store it).

Revision ID: 0007
"""

from brigade_common.migrations import execute_script

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    execute_script("""
    ALTER TABLE dishes ADD COLUMN retired_at timestamptz;
    ALTER TABLE dishes ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
    ALTER TABLE dishes ADD CONSTRAINT dishes_version_positive CHECK (version >= 1);
    CREATE UNIQUE INDEX dishes_active_name ON dishes (lower(name)) WHERE retired_at IS NULL;
    CREATE TABLE dish_images (
        sha256       text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        content_type text NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
        data         bytea NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    raise NotImplementedError("the kitchen schema is not downgraded; restore from a backup")
