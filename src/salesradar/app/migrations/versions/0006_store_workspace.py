"""The workspace an application store serves (one store per workspace, issue 13).

Revision ID: 0006_store_workspace
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_store_workspace"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "store_workspace",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workspace_path", sa.String(4000), nullable=False),
        sa.Column("workspace_name", sa.String(255), nullable=False),
        sa.Column("bound_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.String(4000), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("store_workspace")
