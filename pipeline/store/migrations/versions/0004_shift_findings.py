"""shift findings (volume surge, frame-share shift, frame spread) -- owned by the shift-alerts work (issue 14)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:30:00

One table, `shift_findings`: what the shift detectors found, when it started and ended.
`active_key` is the condition's key while the finding is open and NULL after it ended; its
unique constraint (NULLs never collide, on SQLite and PostgreSQL alike) makes "at most one
open finding per condition" a database guarantee. The Slack messages themselves go through
the existing `alerts` outbox.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shift_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("active_key", sa.String(length=300), nullable=True),
        sa.Column("headline", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("period_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("active_key"),
    )
    with op.batch_alter_table("shift_findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shift_findings_key"), ["key"], unique=False)
        batch_op.create_index("ix_shift_findings_started", ["started_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("shift_findings", schema=None) as batch_op:
        batch_op.drop_index("ix_shift_findings_started")
        batch_op.drop_index(batch_op.f("ix_shift_findings_key"))
    op.drop_table("shift_findings")
