"""The typed insight: what happened, why we think so, what to do next, how much is at stake.

An insight is identified across runs by its :attr:`Insight.dedup_key` (kind + subject): the same
customer drifting away is one insight that each run updates, never a new one.

>>> i = Insight(kind=Kind.CHURN_RISK, subject=Subject("customer", "C-17"), owner_rep_id="r1",
...             manager_id="m1", detected_at=datetime(2026, 11, 24, tzinfo=UTC), priority=80,
...             value_at_stake=38_000.0,
...             en=Texts("Orders every ~12 days; last ordered 41 days ago", "3.4x", "Call"),
...             he=Texts("מזמין כל ~12 יום; הזמנה אחרונה לפני 41 יום", "פער פי 3.4", "להתקשר"))
>>> i.dedup_key
'churn_risk:customer:C-17'
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from salesradar.errors import UserInputError

__all__ = ["UTC", "Insight", "Kind", "Status", "Subject", "SubjectType", "Texts"]

SubjectType = Literal["customer", "rep", "deal", "lead", "sku", "customer_sku"]
SUBJECT_TYPES: tuple[str, ...] = ("customer", "rep", "deal", "lead", "sku", "customer_sku")


# json.dumps(value, allow_nan=False), without building an encoder for every call
_STRICT_JSON = json.JSONEncoder(allow_nan=False)


class Kind(StrEnum):
    """What kind of situation an insight reports."""

    CHURN_RISK = "churn_risk"
    NO_REPEAT_ORDER = "no_repeat_order"
    STOPPED_ITEM = "stopped_item"
    CROSS_SELL = "cross_sell"
    ACTIVE_CUSTOMERS_DROP = "active_customers_drop"
    MARGIN_EROSION = "margin_erosion"
    LEAD_NOT_CONTACTED = "lead_not_contacted"
    PIPELINE_COVERAGE_LOW = "pipeline_coverage_low"
    FORECAST_AT_RISK = "forecast_at_risk"
    CONCENTRATION = "concentration"
    SINGLE_THREADED_ACCOUNT = "single_threaded_account"
    OVERDUE_PAYMENTS_AT_RISK = "overdue_payments_at_risk"


class Status(StrEnum):
    """Where an insight is in its life; ``resolved`` is set by the system, never by a person."""

    NEW = "new"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    DONE = "done"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Subject:
    """What the insight is about: ``("customer", "C-17")``, ``("customer_sku", "C-17/SKU-9")``."""

    type: SubjectType
    id: str

    def __post_init__(self) -> None:
        if self.type not in SUBJECT_TYPES:
            raise UserInputError(
                f"subject type must be one of {', '.join(SUBJECT_TYPES)}, got {self.type!r}"
            )
        if not self.id:
            raise UserInputError("subject id must not be empty")


@dataclass(frozen=True)
class Texts:
    """The three sentences a rep reads, in one language."""

    what: str
    why: str
    next_step: str


@dataclass(frozen=True)
class Insight:
    """One situation worth a person's attention, as produced by a rule or model run.

    ``priority`` is 0–100 (higher is more urgent); ``value_at_stake`` is in shekels;
    ``evidence`` holds the numbers behind *why* (JSON-serialisable). ``evidence_json`` is its
    JSON text (``json.dumps``), made once when the evidence is checked: the store writes it as
    it is instead of encoding the evidence a second time.
    """

    kind: Kind
    subject: Subject
    owner_rep_id: str | None
    manager_id: str | None
    detected_at: datetime
    priority: int
    value_at_stake: float
    en: Texts
    he: Texts
    evidence: dict[str, Any] = field(default_factory=dict)
    team: str | None = None
    evidence_json: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not 0 <= self.priority <= 100:
            raise UserInputError(f"priority must be between 0 and 100, got {self.priority}")
        if self.value_at_stake < 0:
            raise UserInputError(f"value_at_stake must be >= 0, got {self.value_at_stake}")
        if self.detected_at.tzinfo is None:
            raise UserInputError("detected_at must be timezone-aware")
        Kind(self.kind)  # raises ValueError for an unknown kind
        try:
            text = _STRICT_JSON.encode(self.evidence)
        except (TypeError, ValueError) as exc:
            raise UserInputError(
                f"evidence of {self.dedup_key} must be plain JSON numbers and text: {exc}"
            ) from exc
        # json.dumps(evidence) writes the same text: NaN and infinity, the only values it
        # writes otherwise, were refused just now
        object.__setattr__(self, "evidence_json", text)

    @property
    def dedup_key(self) -> str:
        """Stable identity across runs: ``<kind>:<subject type>:<subject id>``."""
        return f"{self.kind.value}:{self.subject.type}:{self.subject.id}"
