"""Did the alerts move the numbers? Delivered insights against the holdout, per kind and per rep.

Two groups are compared: *delivered* (not in the holdout, sent on at least one channel) and
*holdout* (withheld on purpose). Only insights with a recorded outcome count; the rest are
reported as pending. For each group: the recovery rate (recovered ÷ with outcome) and the revenue
recovered. The uplift is the difference of the two rates, with a confidence interval by
**Newcombe's hybrid score method** (method 10 of Newcombe 1998, *Statistics in Medicine* 17:873),
built from the two Wilson score intervals; it behaves well with small groups and rates near 0 or 1,
where the Wald interval (also given, :func:`wald_diff_ci`) is too narrow or leaves [-1, 1].

>>> lo, hi = newcombe_diff_ci(56, 70, 48, 80)
>>> round(lo, 4), round(hi, 4)
(0.0524, 0.3339)
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

from sqlalchemy import select

from salesradar.app import InsightRow
from salesradar.insights.store import InsightStore


def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson_ci(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when ``n`` is 0."""
    if n == 0:
        return 0.0, 1.0
    z = _z(confidence)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_diff_ci(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe hybrid score interval for p1 − p2 (p1 = x1/n1, p2 = x2/n2); both n > 0."""
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson_ci(x1, n1, confidence)
    l2, u2 = wilson_ci(x2, n2, confidence)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def wald_diff_ci(
    x1: int, n1: int, x2: int, n2: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Wald interval for p1 − p2: d ± z·sqrt(p1(1−p1)/n1 + p2(1−p2)/n2); both n > 0."""
    p1, p2 = x1 / n1, x2 / n2
    half = _z(confidence) * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p1 - p2 - half, p1 - p2 + half


@dataclass(frozen=True)
class OutcomeRecord:
    """One insight as the impact computation sees it."""

    kind: str
    rep_id: str | None
    holdout: bool
    delivered: bool
    outcome: str | None  # recovered, not_recovered, or None (pending)
    value: float  # revenue recovered (0 unless recovered)


@dataclass(frozen=True)
class GroupStats:
    n: int
    recovered: int
    revenue: float
    pending: int

    @property
    def rate(self) -> float | None:
        return self.recovered / self.n if self.n else None


@dataclass(frozen=True)
class ImpactRow:
    """Delivered vs holdout for one slice (``dimension`` all, kind or rep; ``key`` its value)."""

    dimension: str
    key: str
    delivered: GroupStats
    holdout: GroupStats
    uplift: float | None  # delivered rate − holdout rate
    ci_low: float | None
    ci_high: float | None
    method: str = "newcombe-hybrid-score"

    def to_dict(self) -> dict[str, Any]:
        def group(g: GroupStats) -> dict[str, Any]:
            return {"n": g.n, "recovered": g.recovered, "rate": g.rate, "revenue": g.revenue,
                    "pending": g.pending}

        return {"dimension": self.dimension, "key": self.key,
                "delivered": group(self.delivered), "holdout": group(self.holdout),
                "uplift": self.uplift, "ci_low": self.ci_low, "ci_high": self.ci_high,
                "method": self.method}


def _stats(records: list[OutcomeRecord]) -> GroupStats:
    measured = [r for r in records if r.outcome is not None]
    won = [r for r in measured if r.outcome == "recovered"]
    return GroupStats(
        n=len(measured), recovered=len(won), revenue=float(sum(r.value for r in won)),
        pending=len(records) - len(measured),
    )


def _row(
    dimension: str, key: str, records: list[OutcomeRecord], confidence: float
) -> ImpactRow:
    delivered = _stats([r for r in records if r.delivered and not r.holdout])
    holdout = _stats([r for r in records if r.holdout])
    if delivered.n and holdout.n:
        lo, hi = newcombe_diff_ci(
            delivered.recovered, delivered.n, holdout.recovered, holdout.n, confidence
        )
        uplift = delivered.recovered / delivered.n - holdout.recovered / holdout.n
        return ImpactRow(dimension, key, delivered, holdout, uplift, lo, hi)
    return ImpactRow(dimension, key, delivered, holdout, None, None, None)


def _key(record: OutcomeRecord, dimension: str) -> str:
    return record.kind if dimension == "kind" else record.rep_id or ""


def compute_impact(
    records: Iterable[OutcomeRecord], confidence: float = 0.95
) -> list[ImpactRow]:
    """Delivered vs holdout overall, then per kind, then per rep (pure; no database)."""
    items = list(records)
    rows = [_row("all", "all", items, confidence)]
    for dimension in ("kind", "rep"):
        keys = sorted({_key(r, dimension) for r in items})
        rows += [
            _row(dimension, k, [r for r in items if _key(r, dimension) == k], confidence)
            for k in keys
        ]
    return rows


def impact(store: InsightStore, confidence: float = 0.95) -> list[ImpactRow]:
    """:func:`compute_impact` over every insight in the store."""
    with store.db.session() as s:
        records = [
            OutcomeRecord(
                kind=r.kind, rep_id=r.owner_rep_id, holdout=r.holdout,
                delivered=r.sent_at is not None, outcome=r.outcome,
                value=r.outcome_value or 0.0,
            )
            for r in s.scalars(select(InsightRow))
        ]
    return compute_impact(records, confidence)


def reported(store: InsightStore) -> list[dict[str, Any]]:
    """The outcomes reps reported (source ``rep``: their latest ``ordered`` or ``lost`` per
    insight), per kind, beside what the data measured for the same insights. Kept apart from
    :func:`impact`: only delivered insights can be reported on, so mixing them in would tilt
    the comparison with the holdout."""
    from salesradar.app.rep_outcomes import FINAL, RepOutcome

    with store.db.session() as s:
        latest: dict[int, str] = {}
        for r in s.scalars(select(RepOutcome).where(RepOutcome.outcome.in_(FINAL))
                           .order_by(RepOutcome.id)):
            latest[r.insight_id] = r.outcome
        rows = {r.id: r for r in s.scalars(select(InsightRow).where(
            InsightRow.id.in_(sorted(latest))))} if latest else {}
        per: dict[str, dict[str, Any]] = {}
        for insight_id, outcome in latest.items():
            row = rows.get(insight_id)
            if row is None:
                continue
            k = per.setdefault(row.kind, {"dimension": "kind", "key": row.kind, "source": "rep",
                                          "ordered": 0, "lost": 0, "ordered_and_measured": 0,
                                          "ordered_confirmed": 0})
            k[outcome] += 1
            if outcome == "ordered" and row.outcome is not None:
                k["ordered_and_measured"] += 1
                k["ordered_confirmed"] += row.outcome == "recovered"
    return [per[k] for k in sorted(per)]
