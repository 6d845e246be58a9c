"""What is wrong with a commitment before anyone measures it: vague terms, an unrealistic timeline.

A commitment without a baseline, a period or a data source cannot be judged at the end ("vague");
one whose period is shorter than its metric can move in is a promise the vendor cannot keep or
will "keep" by noise. The usual horizons (DESIGN.md): leading KPIs move in 60–90 days, close
rates in 3–6 months, revenue in 6–12 months.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from salesradar.commitments.model import Commitment

Horizon = Literal["kpi", "close_rate", "revenue"]

# (shortest, longest) realistic period in days, and how each reads
HORIZONS: dict[Horizon, tuple[int, int]] = {
    "kpi": (60, 90), "close_rate": (91, 182), "revenue": (182, 365)}
_HORIZON_TEXT = {
    "kpi": ("leading KPIs move in 60–90 days", "מדדים מובילים משתנים תוך 60–90 יום"),
    "close_rate": ("close rates move in 3–6 months", "שיעורי סגירה משתנים תוך 3–6 חודשים"),
    "revenue": ("revenue moves in 6–12 months", "הכנסות משתנות תוך 6–12 חודשים"),
}
# KPIs whose horizon is not their theme's (see horizon_of)
_BY_NAME: dict[str, Horizon] = {
    "arpa": "revenue", "active_customers": "close_rate", "unique_skus_per_customer": "kpi",
    "days_sales_outstanding": "close_rate",
}
_BY_THEME: dict[str, Horizon] = {
    "sales": "revenue", "profitability": "revenue", "customers": "close_rate",
    "pipeline": "close_rate", "centre": "kpi",
}


# the codes of vague_terms: a commitment with any of them cannot be judged
VAGUE_CODES = ("no_baseline", "no_period", "no_data_source")


@dataclass(frozen=True)
class Concern:
    """One problem: ``code`` for machines, the reason in English and Hebrew."""

    code: str
    en: str
    he: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "en": self.en, "he": self.he}


def horizon_of(metric: str, theme: str) -> Horizon:
    """Which realistic horizon a metric has: by name where known, else by its KPI theme."""
    return _BY_NAME.get(metric) or _BY_THEME.get(theme, "close_rate")


def vague_terms(c: Commitment) -> list[Concern]:
    """What is missing for the commitment to be judged at all."""
    out: list[Concern] = []
    if c.baseline is None:
        out.append(Concern("no_baseline", "no baseline: nothing to measure the improvement "
                           "against; agree one (e.g. the mean of the 12 months before the start)",
                           "אין בסיס להשוואה: אין מול מה למדוד את השיפור; יש להסכים על בסיס "
                           "(למשל ממוצע 12 החודשים שלפני ההתחלה)"))
    if c.start is None or c.end is None:
        out.append(Concern("no_period", "no period: without a start and an end date the promise "
                           "can never be called missed",
                           "אין תקופה: בלי תאריך התחלה וסיום אי אפשר לקבוע שההתחייבות לא עמדה"))
    if not c.data_source:
        out.append(Concern("no_data_source", "no data source: agree which system's numbers count "
                           "(ERP invoices, CRM) before the numbers are in",
                           "אין מקור נתונים: יש להסכים מראש מאיזו מערכת נלקחים המספרים "
                           "(ERP, CRM)"))
    return out


def timeline_warnings(c: Commitment) -> list[Concern]:
    """A period shorter than the metric's horizon is unrealistic; much longer blurs attribution."""
    days = c.days
    if days is None:
        return []
    horizon = horizon_of(c.metric, c.kpi.theme)
    shortest, longest = HORIZONS[horizon]
    en, he = _HORIZON_TEXT[horizon]
    if days < shortest:
        return [Concern("unrealistic_timeline",
                        f"unrealistic timeline: {days} days for {c.metric}, but {en}",
                        f"לוח זמנים לא מציאותי: {days} ימים עבור {c.kpi.label_he}, אבל {he}")]
    if days > 2 * longest:
        return [Concern("long_timeline",
                        f"long timeline: over {days} days much else changes too, so the "
                        f"improvement is hard to credit to the vendor ({en})",
                        f"לוח זמנים ארוך: לאורך {days} ימים משתנים גם דברים אחרים, וקשה לייחס "
                        f"את השיפור לספק ({he})")]
    return []


def term_warnings(c: Commitment) -> list[Concern]:
    """Fee terms that do not fit the commercial model chosen."""
    f = c.fees
    out: list[Concern] = []
    if c.model == "success_fee" and f.fixed > 0:
        out.append(Concern("fixed_in_success_fee", "a full success-fee model with a fixed fee: "
                           "call it hybrid, or drop the fixed part",
                           "מודל הצלחה מלא עם תשלום קבוע: זה מודל היברידי, או שיש לוותר על הקבוע"))
    if c.model == "success_fee" and f.success_fee_pct == 0 and f.bonus == 0:
        out.append(Concern("no_success_fee", "a success-fee model that pays nothing on success",
                           "מודל דמי הצלחה שאינו משלם דבר על הצלחה"))
    if c.model == "hybrid" and (f.fixed == 0 or (f.bonus == 0 and f.success_fee_pct == 0)):
        out.append(Concern("hybrid_incomplete", "a hybrid model needs a fixed fee and a bonus or "
                           "success fee", "מודל היברידי צריך תשלום קבוע וגם בונוס או דמי הצלחה"))
    if c.model == "revenue" and c.kpi.unit.value != "money":
        out.append(Concern("revenue_model_metric", f"a revenue commitment measured on {c.metric}, "
                           "which is not an amount", f"התחייבות הכנסות שנמדדת על "
                           f"{c.kpi.label_he}, שאינו סכום כספי"))
    if c.fees.fixed > 0 and c.refund.refund_pct == 0 and c.refund.extension_days == 0:
        out.append(Concern("no_refund_terms", "no refund or extension terms: the fixed fee is "
                           "kept even when the commitment is missed",
                           "אין תנאי החזר או הארכה: התשלום הקבוע נשאר אצל הספק גם אם לא עמד "
                           "בהתחייבות"))
    return out


def check(c: Commitment) -> list[Concern]:
    """Every warning about a commitment: vague terms first, then timeline, then fee terms."""
    return [*vague_terms(c), *timeline_warnings(c), *term_warnings(c)]
