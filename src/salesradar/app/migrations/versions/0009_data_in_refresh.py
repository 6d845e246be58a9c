"""Data in and refresh from the browser: saved upload mappings, refresh runs, the schedule
(issue 16).

Revision ID: 0009_data_in_refresh
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_data_in_refresh"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "saved_mappings",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("table_name", sa.String(60), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=True),
    )
    op.create_table(
        "refresh_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("stage", sa.String(60), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "refresh_schedule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("at_time", sa.String(5), nullable=False),
        sa.Column("last_run_on", sa.String(10), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("refresh_schedule")
    op.drop_table("refresh_runs")
    op.drop_table("saved_mappings")
