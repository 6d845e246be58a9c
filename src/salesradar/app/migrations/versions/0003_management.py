"""Account plans (versioned), plan actions, app-set targets, commission plans, forecast snapshots.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_plans",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(100), nullable=True),
        sa.Column("tier", sa.String(1), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("revenue_today", sa.Float(), nullable=False),
        sa.Column("revenue_target", sa.Float(), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("opportunities", sa.JSON(), nullable=False),
        sa.Column("risks", sa.JSON(), nullable=False),
        sa.Column("pricing_strategy", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.UniqueConstraint("customer_id", "version", name="uq_account_plan_version"),
    )
    op.create_index("ix_account_plans_customer_id", "account_plans", ["customer_id"])
    op.create_table(
        "account_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_account_actions_customer_id", "account_actions", ["customer_id"])
    op.create_table(
        "sales_targets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("rep_id", sa.String(100), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("grain", sa.String(10), nullable=False),
        sa.Column("metric", sa.String(60), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("set_at", sa.DateTime(), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=True),
    )
    op.create_index("ix_sales_targets_key", "sales_targets", ["rep_id", "team", "period", "metric"])
    op.create_table(
        "commission_plans",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "forecast_snapshots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("grain", sa.String(10), nullable=False),
        sa.Column("repeat", sa.Float(), nullable=False),
        sa.Column("expansion", sa.Float(), nullable=False),
        sa.Column("new_business", sa.Float(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
    )
    op.create_index("ix_forecast_snapshots_period", "forecast_snapshots", ["period", "grain"])


def downgrade() -> None:
    for index, table in (("ix_forecast_snapshots_period", "forecast_snapshots"),
                         ("ix_sales_targets_key", "sales_targets"),
                         ("ix_account_actions_customer_id", "account_actions"),
                         ("ix_account_plans_customer_id", "account_plans")):
        op.drop_index(index, table_name=table)
    for table in ("forecast_snapshots", "commission_plans", "sales_targets", "account_actions",
                  "account_plans"):
        op.drop_table(table)
