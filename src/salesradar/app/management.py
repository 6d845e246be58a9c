"""Application-state tables of account and sales-performance management.

* ``account_plans`` -- one row per *version* of a customer's account plan: a plan is never edited
  in place, a change writes version n + 1, so the history shows who changed what and when.
* ``account_actions`` -- the actions of a customer's plan (owner, due date, status); they live
  across plan versions, so closing an action does not need a new version.
* ``sales_targets`` -- targets set in the app (the canonical ``targets`` table holds imported
  ones); an app target for the same rep/team, period, grain and metric replaces the imported one.
* ``commission_plans`` -- commission plans kept in the app (the same document as the YAML file).
* ``forecast_snapshots`` -- each portfolio forecast saved for a period, so that its accuracy can
  be measured once the period is over.

The migration ``0003`` creates exactly these tables (``tests/app/test_migrations.py``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from salesradar.app.models import Base


class AccountPlanRow(Base):
    """One version of the account plan of one customer."""

    __tablename__ = "account_plans"
    __table_args__ = (UniqueConstraint("customer_id", "version", name="uq_account_plan_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    author: Mapped[str | None] = mapped_column(String(100))
    tier: Mapped[str | None] = mapped_column(String(1))  # ABCD tier when the plan was written
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    revenue_today: Mapped[float] = mapped_column(Float)  # trailing 12 months at creation
    revenue_target: Mapped[float] = mapped_column(Float)  # for [period_start, period_end]
    needs: Mapped[list[str]] = mapped_column(JSON)
    opportunities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    risks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{risk, contingency}]
    pricing_strategy: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # what changed in this version


class AccountActionRow(Base):
    """One action of an account plan: what, who, by when, and whether it is done."""

    __tablename__ = "account_actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(100), index=True)
    title: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10))  # open, done, dropped
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class SalesTargetRow(Base):
    """A target set in the app for a rep or a team, one period and one metric."""

    __tablename__ = "sales_targets"
    __table_args__ = (Index("ix_sales_targets_key", "rep_id", "team", "period", "metric"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rep_id: Mapped[str | None] = mapped_column(String(100))
    team: Mapped[str | None] = mapped_column(String(100))
    period: Mapped[date] = mapped_column(Date)  # first day of the period
    grain: Mapped[str] = mapped_column(String(10))  # month, quarter, year
    metric: Mapped[str] = mapped_column(String(60))
    value: Mapped[float] = mapped_column(Float)
    set_at: Mapped[datetime]
    set_by: Mapped[str | None] = mapped_column(String(100))


class CommissionPlanRow(Base):
    """A commission plan kept in the app: the same document as a plan YAML file."""

    __tablename__ = "commission_plans"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class ForecastSnapshotRow(Base):
    """A portfolio forecast of one period as it was made, kept to measure its accuracy later."""

    __tablename__ = "forecast_snapshots"
    __table_args__ = (Index("ix_forecast_snapshots_period", "period", "grain"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    made_at: Mapped[datetime]
    as_of: Mapped[date] = mapped_column(Date)  # the data the forecast was made from
    period: Mapped[date] = mapped_column(Date)
    grain: Mapped[str] = mapped_column(String(10))
    repeat: Mapped[float] = mapped_column(Float)
    expansion: Mapped[float] = mapped_column(Float)
    new_business: Mapped[float] = mapped_column(Float)
    total: Mapped[float] = mapped_column(Float)
    low: Mapped[float] = mapped_column(Float)
    high: Mapped[float] = mapped_column(Float)
