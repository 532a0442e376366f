"""task leases for the Celery runner (issue 11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:30:00

`task_leases` holds one row per unit of distributed work currently leased (a feed poll is
`feed:<id>`): the token of the task that holds it and when the lease runs out. A redelivered
task (a worker died, the broker handed the message to another) finds either its own token
(carry on) or someone else's live lease (skip), so two workers never poll one feed at once.
Relay claims need no new table: they use FOR UPDATE SKIP LOCKED on `alerts`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "task_leases",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_task_leases_lease_until", "task_leases", ["lease_until"])


def downgrade() -> None:
    op.drop_index("ix_task_leases_lease_until", table_name="task_leases")
    op.drop_table("task_leases")
