"""What the vendor is owed and what the company got for it: the fee due and the ROI.

Both compare the commitment period with the baseline periods, period by period of the baseline
grain: for an amount (revenue, gross profit) the increment is ``Σ during_k − before × Σ f_k``,
where ``before`` is the mean of the baseline periods and ``f_k`` the share of a full period that
window ``k`` covers (the last one is cut at the as-of day). For rates and averages (margin, sales
cycle, revenue per customer) the report shows before and during side by side.

Fee due = fixed + success fee % × max(0, increment of the fee base) + bonus (only when met), at
most the cap, minus the refund % of the fixed fee when the commitment is missed.
ROI = (incremental gross profit − fee due) ÷ fee due, only when the invoice lines carry a cost
for at least :data:`MIN_COST_COVERAGE` of revenue in every baseline and commitment period;
otherwise gross profit is unknown (never revenue) and the ROI is None with the reason.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from salesradar.commitments import windows as W
from salesradar.commitments.model import Baseline, Commitment
from salesradar.commitments.tracker import Tracking
from salesradar.engine import table_names
from salesradar.metrics.catalog.sales import MIN_COST_COVERAGE

FeeStatus = Literal["final", "to_date", "not_computed"]
AMOUNTS = ("revenue", "gross_profit")
RATES = ("gross_margin", "sales_cycle_days", "arpa")


@dataclass(frozen=True)
class Fee:
    """The fee due, its parts and whether it is final (the verdict is in) or accrued to date."""

    status: FeeStatus
    fixed: float = 0.0
    success_fee: float = 0.0
    success_base: float | None = None  # the increment the success fee is a share of
    bonus: float = 0.0
    capped_by: float = 0.0  # how much the cap took off
    refund: float = 0.0
    due: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Before:
    """One metric before (mean of the baseline periods) and during the commitment."""

    before: float | None
    during: float | None
    increment: float | None = None  # for amounts: Σ during − before × periods

    @property
    def change_pct(self) -> float | None:
        """During against before: revenue growth, margin change, cycle shortening (negative)."""
        if self.before is None or self.during is None or self.before == 0:
            return None
        return (self.during - self.before) / abs(self.before)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "change_pct": self.change_pct}


@dataclass(frozen=True)
class Roi:
    """Return on the vendor: the business metrics before and during, and the ratio."""

    metrics: dict[str, Before]
    fee_due: float
    roi: float | None  # (incremental gross profit − fee) ÷ fee
    cost_coverage: float | None = None  # the lowest share of revenue with a cost, any period
    reason_en: str | None = None  # why the ROI is unknown
    reason_he: str | None = None

    @property
    def incremental_revenue(self) -> float | None:
        return self.metrics["revenue"].increment

    @property
    def incremental_gross_profit(self) -> float | None:
        return self.metrics["gross_profit"].increment

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": {k: v.to_dict() for k, v in self.metrics.items()},
                "fee_due": self.fee_due, "roi": self.roi, "cost_coverage": self.cost_coverage,
                "reason_en": self.reason_en, "reason_he": self.reason_he,
                "incremental_revenue": self.incremental_revenue,
                "incremental_gross_profit": self.incremental_gross_profit}


def before_and_during(backend: Any, c: Commitment, until: date) -> dict[str, Before]:
    """Revenue, gross profit, margin, sales cycle and revenue per customer, before and during."""
    assert c.start is not None
    spec = c.baseline if c.baseline is not None and c.baseline.value is None else Baseline()
    before_w = W.windows_before(c.start, spec.grain, spec.window)
    during_w = W.windows_from(c.start, until, spec.grain) if until >= c.start else []
    fractions = [W.full_fraction(w, spec.grain) for w in during_w]
    present = table_names(backend)
    out: dict[str, Before] = {}
    for metric in (*AMOUNTS, *RATES):
        if metric == "sales_cycle_days" and "deals" not in present:
            continue
        values = W.measure(backend, metric, [*before_w, *during_w])
        before = W.aggregate(values[:len(before_w)], "mean")
        during_vals = values[len(before_w):]
        pairs = [(v, f) for v, f in zip(during_vals, fractions, strict=True) if v is not None]
        if metric in AMOUNTS:
            total = sum(v for v, _ in pairs)
            covered = sum(fractions)
            during = total / covered if covered else None
            increment = None if before is None or not during_w else total - before * covered
            out[metric] = Before(before, during, increment)
        else:
            weight = sum(f for _, f in pairs)
            during = sum(v * f for v, f in pairs) / weight if weight else None
            out[metric] = Before(before, during)
    return out


def fee_due(c: Commitment, t: Tracking, metrics: dict[str, Before]) -> Fee:
    """The fee by the terms: final once met or missed, accrued to date before that."""
    if t.verdict == "vague":
        return Fee("not_computed")
    f = c.fees
    base = metrics[f.success_fee_base].increment if f.success_fee_base in metrics else None
    success = f.success_fee_pct * max(0.0, base or 0.0)
    bonus = f.bonus if t.verdict == "met" else 0.0
    gross = f.fixed + success + bonus
    capped = min(gross, f.cap) if f.cap is not None else gross
    refund = c.refund.refund_pct * f.fixed if t.verdict == "missed" else 0.0
    status: FeeStatus = "final" if t.verdict in ("met", "missed") else "to_date"
    return Fee(status, fixed=f.fixed, success_fee=success, success_base=base, bonus=bonus,
               capped_by=gross - capped, refund=refund, due=capped - refund)


def value_of(backend: Any, t: Tracking) -> tuple[Fee, Roi | None]:
    """The fee due and the ROI of a tracked commitment (no ROI without a start)."""
    c = t.commitment
    if c.start is None:
        return fee_due(c, t, {}), None
    until = min(t.as_of, t.deadline or t.as_of)
    metrics = before_and_during(backend, c, until)
    coverage = cost_coverage(backend, c, until)
    if coverage is None or coverage < MIN_COST_COVERAGE:
        # without cost, gross profit would be revenue: neither it nor the ROI is known
        metrics["gross_profit"] = Before(None, None, None)
        metrics.pop("gross_margin", None)
    fee = fee_due(c, t, metrics)
    gp = metrics["gross_profit"].increment
    roi = (gp - fee.due) / fee.due if gp is not None and fee.due > 0 else None
    reason = None
    if gp is None:
        share = "no" if coverage is None else f"{coverage:.0%} of"
        reason = (f"ROI unknown: the invoice lines have a cost for {share} revenue (it needs "
                  f"{MIN_COST_COVERAGE:.0%} in every period): gross profit is not revenue",
                  f"החזר ההשקעה אינו ידוע: לשורות החשבונית יש עלות ל־"
                  f"{'אפס' if coverage is None else f'{coverage:.0%}'} מההכנסות (נדרשים "
                  f"{MIN_COST_COVERAGE:.0%} בכל תקופה): רווח גולמי אינו הכנסות")
    elif fee.due <= 0:
        reason = ("ROI not computed: no fee is due", "החזר ההשקעה לא חושב: אין עמלה לתשלום")
    return fee, Roi(metrics, fee.due, roi, coverage, *(reason or (None, None)))


def cost_coverage(backend: Any, c: Commitment, until: date) -> float | None:
    """The lowest share of revenue on lines with a cost over the baseline and commitment
    periods (the registry's ``cost_coverage``); None when no period has revenue."""
    assert c.start is not None
    spec = c.baseline if c.baseline is not None and c.baseline.value is None else Baseline()
    wins = [*W.windows_before(c.start, spec.grain, spec.window),
            *(W.windows_from(c.start, until, spec.grain) if until >= c.start else [])]
    known = [v for v in W.measure(backend, "cost_coverage", wins) if v is not None]
    return min(known) if known else None
