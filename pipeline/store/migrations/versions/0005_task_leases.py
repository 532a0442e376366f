"""task leases and relay claims for the Celery runner -- owned by the scale-out work (issue 11)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 02:30:00

Placeholder: no schema change yet. Fill in upgrade()/downgrade() with this revision's tables.
"""

from __future__ import annotations

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
