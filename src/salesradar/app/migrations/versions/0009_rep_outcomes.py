"""Outcomes a rep logs on an insight: reached, no answer, ordered, lost, with a note (issue 16).

Revision ID: 0009_rep_outcomes
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_rep_outcomes"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_rep_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("insight_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_insight_rep_outcomes_insight_id", "insight_rep_outcomes",
                    ["insight_id"])


def downgrade() -> None:
    op.drop_index("ix_insight_rep_outcomes_insight_id", table_name="insight_rep_outcomes")
    op.drop_table("insight_rep_outcomes")
