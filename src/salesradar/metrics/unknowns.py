"""What the data cannot tell: cost coverage, for gross profit and everything built on it.

A workspace without a cost on its invoice lines (UCI Online Retail has none) has no gross profit:
it is unknown, never revenue at 100% margin. :func:`cost_status` says how much of the revenue has
a cost and whether that is enough (:data:`~salesradar.metrics.catalog.sales.MIN_COST_COVERAGE`)
for gross profit and margin; ``status``, the dashboard and anything that would use profit (a
commitment's ROI) ask it first.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from salesradar.engine import table_names
from salesradar.metrics.catalog.sales import MIN_COST_COVERAGE


def cost_status(backend: Any, start: date | None = None, end: date | None = None,
                ) -> dict[str, Any]:
    """Cost coverage of the invoice lines dated in ``[start, end]`` (all by default).

    Returns ``coverage`` (share of absolute revenue on lines with a cost; null without
    revenue), ``profit_known`` (coverage ≥ 95%: gross profit and margin can be shown, over the
    lines with a cost), and ``text_en``/``text_he`` saying so, or why not.
    """
    from salesradar.metrics.compute import compute_kpi, kpi_records

    if "invoice_lines" not in table_names(backend):
        coverage = None
    else:
        rows = kpi_records(compute_kpi(backend, "cost_coverage", (), None, start, end,
                                       persist=False))
        coverage = rows[0]["value"] if rows else None
    known = coverage is not None and coverage >= MIN_COST_COVERAGE
    if coverage is None:
        en, he = "No revenue: gross profit is unknown.", "אין הכנסות: הרווח הגולמי לא ידוע."
    elif known and coverage >= 1:
        en, he = "Every invoice line has a cost.", "לכל שורות החשבוניות יש עלות."
    else:
        share = f"{coverage:.1%}"
        if known:
            en = (f"Cost is known for {share} of revenue: gross profit and margin are computed "
                  "over the lines with a cost.")
            he = (f"העלות ידועה ל-{share} מההכנסות: הרווח הגולמי ושיעורו מחושבים על השורות "
                  "שיש להן עלות.")
        else:
            en = (f"Cost is known for {share} of revenue (95% needed): gross profit and margin "
                  "are unknown, not 100%; import the cost column of the invoice lines.")
            he = (f"העלות ידועה ל-{share} מההכנסות (נדרשים 95%): הרווח הגולמי ושיעורו לא "
                  "ידועים, ולא 100%; יש לייבא את עמודת העלות של שורות החשבוניות.")
    return {"coverage": coverage, "profit_known": known, "text_en": en, "text_he": he}


# why a KPI row has no value (a dash), in English and Hebrew
_NULL_REASONS: dict[str, tuple[str, str]] = {
    "gross_profit": ("cost is known for less than 95% of the revenue (see cost_coverage)",
                     "העלות ידועה לפחות מ-95% מההכנסות (ראו cost_coverage)"),
    "gross_margin": ("cost is known for less than 95% of the revenue (see cost_coverage), or "
                     "revenue is 0", "העלות ידועה לפחות מ-95% מההכנסות (ראו cost_coverage), או "
                     "שההכנסות אפס"),
    "customer_profitability": ("cost is known for less than 95% of the revenue",
                               "העלות ידועה לפחות מ-95% מההכנסות"),
    "pipeline_coverage": ("no revenue target for the period, it is already won, or the period "
                          "is over (coverage looks ahead: a past period has no open pipeline)",
                          "אין יעד הכנסות לתקופה, הוא כבר הושג, או שהתקופה הסתיימה (הכיסוי צופה "
                          "קדימה: לתקופה שעברה אין צנרת פתוחה)"),
    "target_attainment": ("no revenue target for the period", "אין יעד הכנסות לתקופה"),
    "forecast_accuracy": ("no forecast submission, or an actual of 0, in the period",
                          "אין הגשת תחזית, או שהביצוע אפס, בתקופה"),
    "win_rate": ("no deal won or lost in the period", "אין עסקה שנסגרה בזכייה או בהפסד בתקופה"),
    "win_rate_amount": ("no deal won or lost in the period",
                        "אין עסקה שנסגרה בזכייה או בהפסד בתקופה"),
    "meeting_to_deal_rate": ("no lead with a meeting in the period",
                             "אין ליד עם פגישה בתקופה"),
    "answer_rate": ("no call in the period", "אין שיחה בתקופה"),
    "revenue_per_rep": ("no selling rep active in the period", "אין נציג מוכר פעיל בתקופה"),
    "stage_conversion": ("no deal left or lost the stage in the period",
                         "אין עסקה שעזבה את השלב או אבדה בו בתקופה"),
}


def null_reason(name: str) -> tuple[str, str]:
    """Why a row of KPI ``name`` has no value, (English, Hebrew).

    >>> null_reason("target_attainment")[0]
    'no revenue target for the period'
    """
    return _NULL_REASONS.get(name, ("nothing to divide by in the period (its denominator is 0)",
                                    "אין במה לחלק בתקופה (המכנה אפס)"))
