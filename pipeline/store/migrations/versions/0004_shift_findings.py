"""shift findings (volume surge, frame-share shift, frame spread) -- owned by the shift-alerts work (issue 14)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 02:30:00

Placeholder: no schema change yet. Fill in upgrade()/downgrade() with this revision's tables.
"""

from __future__ import annotations

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
