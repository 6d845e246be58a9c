"""Initial application state: insights, insight events, outbox, holdout, team settings.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "holdout_assignments",
        sa.Column("dedup_key", sa.String(300), primary_key=True),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "team_settings",
        sa.Column("team", sa.String(100), primary_key=True),
        sa.Column("operating_model", sa.String(10), nullable=False),
        sa.Column("daily_limit_per_rep", sa.Integer(), nullable=False),
        sa.Column("digest_weekday", sa.Integer(), nullable=False),
    )
    op.create_table(
        "insights",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("dedup_key", sa.String(300), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_type", sa.String(20), nullable=False),
        sa.Column("subject_id", sa.String(200), nullable=False),
        sa.Column("owner_rep_id", sa.String(100), nullable=True),
        sa.Column("manager_id", sa.String(100), nullable=True),
        sa.Column("team", sa.String(100), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("value_at_stake", sa.Float(), nullable=False),
        sa.Column("what_en", sa.Text(), nullable=False),
        sa.Column("why_en", sa.Text(), nullable=False),
        sa.Column("next_step_en", sa.Text(), nullable=False),
        sa.Column("what_he", sa.Text(), nullable=False),
        sa.Column("why_he", sa.Text(), nullable=False),
        sa.Column("next_step_he", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("detected_at", sa.DateTime(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(), nullable=True),
        sa.Column("quiet_value", sa.Float(), nullable=True),
        sa.Column("quiet_priority", sa.Integer(), nullable=True),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=True),
        sa.Column("outcome_value", sa.Float(), nullable=True),
        sa.Column("outcome_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_insights_kind", "insights", ["kind"])
    op.create_index("ix_insights_owner_rep_id", "insights", ["owner_rep_id"])
    op.create_index("ix_insights_status", "insights", ["status"])
    op.create_table(
        "insight_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("insight_id", sa.Integer(), sa.ForeignKey("insights.id"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("from_status", sa.String(20), nullable=True),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_insight_events_insight_id", "insight_events", ["insight_id"])
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_key", sa.String(300), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("recipient", sa.String(100), nullable=False),
        sa.Column("insight_id", sa.Integer(), sa.ForeignKey("insights.id"), nullable=True),
        sa.Column("insight_ids", sa.JSON(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("message_key", "channel", "recipient", name="uq_outbox_message"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.create_index("ix_outbox_insight_id", "outbox", ["insight_id"])


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("insight_events")
    op.drop_table("insights")
    op.drop_table("team_settings")
    op.drop_table("holdout_assignments")
