"""The models' short texts in English and Hebrew: tier names and handling, health factors,
churn reason labels.

:mod:`salesradar.models.churn_text` words a whole churn explanation; this module holds the
short labels the score tables carry. The tables store English (``score_tiers.tier_name`` and
``handling``, ``score_churn.reasons``) beside Hebrew columns (``tier_name_he``,
``handling_he``, ``reason_he``, ``score_health.explanation_he``, ``score_churn.reasons_he``);
readers of older tables translate the English with :func:`reason_labels`. Hebrew follows the
insight texts' style.
"""

from __future__ import annotations

from collections.abc import Iterable

from salesradar.lang import Lang, parse_lang

__all__ = [
    "HANDLING",
    "HEALTH_FACTORS",
    "REASONS_HE",
    "TIER_NAMES",
    "health_factor",
    "reason_labels",
    "tier_handling",
    "tier_name",
]

TIER_NAMES: dict[Lang, dict[str, str]] = {
    "en": {"A": "strategic", "B": "developing", "C": "operational", "D": "loss-making"},
    "he": {"A": "אסטרטגי", "B": "מתפתח", "C": "תפעולי", "D": "מפסיד"},
}
HANDLING: dict[Lang, dict[str, str]] = {
    "en": {
        "A": "Dedicated account manager; written account plan with yearly goals; executive-level "
             "contact on both sides; quarterly business reviews; protect and grow share of "
             "wallet.",
        "B": "Growth plan: offer what look-alike customers buy (cross-sell), regular visits, a "
             "share-of-wallet target and a named rep who develops the account.",
        "C": "Serve efficiently: phone/web and standard terms, automated reorders, periodic "
             "check-ins; no bespoke service.",
        "D": "Loss-making after cost to serve: reprice or set minimum order sizes, reduce the "
             "cost to serve (fewer deliveries, self-service), or move to a cheaper channel (web, "
             "distributor).",
    },
    "he": {
        "A": "מנהל לקוח ייעודי; תוכנית לקוח כתובה עם יעדים שנתיים; קשר בדרג בכיר משני הצדדים; "
             "סקירה עסקית רבעונית; לשמור ולהגדיל את נתח הארנק.",
        "B": "תוכנית צמיחה: להציע את מה שלקוחות דומים קונים, ביקורים קבועים, יעד נתח ארנק "
             "ונציג שמוביל את פיתוח הלקוח.",
        "C": "שירות יעיל: טלפון/אתר ותנאים סטנדרטיים, הזמנות חוזרות אוטומטיות, בדיקות "
             "תקופתיות; בלי שירות מותאם.",
        "D": "מפסיד אחרי עלות השירות: לתמחר מחדש או לקבוע מינימום הזמנה, להוזיל את השירות "
             "(פחות משלוחים, שירות עצמי) או להעביר לערוץ זול יותר (אתר, מפיץ).",
    },
}
HEALTH_FACTORS: dict[Lang, dict[str, str]] = {
    "en": {"rhythm": "purchase rhythm", "revenue_trend": "revenue trend",
           "breadth_trend": "breadth of items", "margin_trend": "margin trend",
           "payment": "payments", "contacts": "contacts"},
    "he": {"rhythm": "קצב רכישה", "revenue_trend": "מגמת הכנסות",
           "breadth_trend": "רוחב פריטים", "margin_trend": "מגמת רווחיות",
           "payment": "תשלומים", "contacts": "אנשי קשר"},
}
# every short reason label the churn model writes (English) -> Hebrew
REASONS_HE: dict[str, str] = {
    "overdue against its own rhythm": "מאחר ביחס לקצב שלו",
    "order rhythm": "קצב הזמנות",
    "bought only once": "קנה רק פעם אחת",
    "fewer orders lately": "פחות הזמנות לאחרונה",
    "few orders": "מעט הזמנות",
    "less revenue lately": "פחות הכנסות לאחרונה",
    "low revenue": "הכנסות נמוכות",
    "buys fewer items lately": "קונה פחות פריטים לאחרונה",
    "buys few items": "קונה מעט פריטים",
    "many returns": "הרבה החזרות",
    "margin": "רווחיות",
    "late payments": "תשלומים באיחור",
    "few contacts": "מעט אנשי קשר",
    "bought little in this season last year": "קנה מעט בעונה הזו בשנה שעברה",
    "no order in this season last year": "לא הזמין בעונה הזו בשנה שעברה",
    "not yet a customer this season last year": "עוד לא היה לקוח בעונה הזו בשנה שעברה",
}


def tier_name(tier: str | None, lang: str = "en") -> str | None:
    """The tier's name (``"A"`` -> strategic / אסטרטגי); None for no tier."""
    return TIER_NAMES[parse_lang(lang)].get(tier) if tier else None


def tier_handling(tier: str | None, lang: str = "en") -> str | None:
    """What to do with a customer of the tier; None for no tier."""
    return HANDLING[parse_lang(lang)].get(tier) if tier else None


def health_factor(factor: str | None, lang: str = "en") -> str | None:
    """A health factor code (``revenue_trend``) in words; unknown codes read as words."""
    if not factor:
        return None
    return HEALTH_FACTORS[parse_lang(lang)].get(factor, factor.replace("_", " "))


def reason_labels(labels: Iterable[str] | None, lang: str = "en") -> list[str]:
    """Churn reason labels as stored (English) in ``lang``; an unknown label stays as it is."""
    if parse_lang(lang) == "en":
        return list(labels or [])
    return [REASONS_HE.get(label, label) for label in labels or []]
