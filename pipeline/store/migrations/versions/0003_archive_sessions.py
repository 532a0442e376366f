"""archive sessions (server-side session records / per-user session version) -- owned by the security work (issue 12)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 02:30:00

Placeholder: no schema change yet. Fill in upgrade()/downgrade() with this revision's tables.
"""

from __future__ import annotations

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
