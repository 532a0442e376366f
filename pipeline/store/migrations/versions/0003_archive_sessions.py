"""archive sessions (server-side session records) -- owned by the security work (issue 12)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 02:30:00

One table, `archive_sessions`: every logged-in archive session, keyed by the SHA-256 of the
random id its cookie carries. A request is served only while its row exists, is not
revoked, has not expired and was made with the credential (password hash or token) that is
still configured, so logout, a password change and `compactwatch sessions revoke` take
effect at once.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "archive_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=20), nullable=False),
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("archive_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_archive_sessions_user_name"), ["user_name"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("archive_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_archive_sessions_user_name"))
    op.drop_table("archive_sessions")
