"""The pages' words in English and Hebrew; numbers, money and dates as each language writes them.

Hebrew pages are right-to-left (``dir="rtl"``); both languages write ``₪1,250``, thousands with a
comma and dates as dd/mm/yyyy (Israeli usage), through the same formatters the charts use.

>>> t("nav_inbox", "he")
'תיבת משימות'
>>> money_text(1250.4, "he")
'₪1,250'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from markupsafe import Markup, escape

from salesradar.charts import format_value
from salesradar.currency import SIGN_PATTERN
from salesradar.lang import Lang

MESSAGES: dict[str, tuple[str, str]] = {
    "app": ("salesradar", "salesradar"),
    "nav_dashboard": ("Dashboard", "לוח בקרה"),
    "nav_inbox": ("Inbox", "תיבת משימות"),
    "nav_customers": ("Customers", "לקוחות"),
    "nav_reps": ("Reps", "נציגים"),
    "nav_pipeline": ("Pipeline", "צנרת"),
    "nav_manage": ("Management", "ניהול"),
    "nav_admin": ("Administration", "ניהול מערכת"),
    "http_404": ("This page does not exist.", "הדף הזה לא קיים."),
    "http_405": ("This page cannot be used that way.", "אי אפשר להשתמש בדף הזה כך."),
    "http_401": ("Please log in.", "יש להתחבר."),
    "http_403": ("You do not have access to this page.", "אין לך גישה לדף הזה."),
    "http_413": ("The file is too large.", "הקובץ גדול מדי."),
    "empty_scope": ("No customers in your scope yet: nothing to manage here until your reps "
                    "or customers have sales.", "אין עדיין לקוחות בתחום שלך: אין כאן מה לנהל עד "
                    "שלנציגים או ללקוחות שלך יהיו מכירות."),
    "empty_workspace": ("No invoice lines yet: import them under Administration → Data in, then "
                        "run a refresh.", "אין עדיין שורות חשבונית: יש לייבא אותן בניהול מערכת ← "
                        "קליטת נתונים, ואז לרענן."),
    "manage_title": ("Accounts and performance", "לקוחות וביצועים"),
    "risk_title": ("Portfolio risk", "סיכוני תיק"),
    "pacing_title": ("Pacing against target", "קצב מול יעד"),
    "target": ("Target", "יעד"),
    "expected": ("Expected by now", "צפוי עד כה"),
    "forecast_title": ("Portfolio forecast", "תחזית תיק"),
    "low_high": ("Range", "טווח"),
    "funnel_title": ("Funnels", "משפכים"),
    "calls": ("Calls", "שיחות"),
    "meetings": ("Meetings", "פגישות"),
    "deals": ("Deals", "עסקאות"),
    "won": ("Won", "נסגרו"),
    "reports_title": ("Reports", "דוחות"),
    "report_ceo": ("CEO report", "דוח מנכ\"ל"),
    "report_account-review": ("Account review", "סקירת לקוחות"),
    "report_diagnostic": ("Diagnostic", "אבחון"),
    "logout": ("Log out", "התנתקות"),
    "lang_other": ("עברית", "English"),
    "login_title": ("Log in", "כניסה"),
    "username": ("Username", "שם משתמש"),
    "password": ("Password", "סיסמה"),
    "login_button": ("Log in", "כניסה"),
    "login_failed": ("Wrong username or password.", "שם משתמש או סיסמה שגויים."),
    "login_blocked": ("Too many failed attempts from here; wait a few minutes and try again.",
                      "יותר מדי ניסיונות כושלים מכאן; יש להמתין כמה דקות ולנסות שוב."),
    "login_expired": ("The form expired; try again.", "פג תוקף הטופס; נסו שוב."),
    "login_busy": ("Many logins are being checked right now; try again in a few seconds.",
                   "ניסיונות כניסה רבים נבדקים כרגע; נסו שוב בעוד כמה שניות."),
    "workspace_busy": ("The data is being refreshed right now; try again in a minute.",
                       "הנתונים מתעדכנים כרגע; נסו שוב בעוד דקה."),
    "internal_error": ("Something went wrong on our side; try again, and if it keeps "
                       "happening tell your administrator (the server log has the details).",
                       "משהו השתבש אצלנו; נסו שוב, ואם זה חוזר פנו למנהל המערכת (הפרטים "
                       "ביומן השרת)."),
    "bad_characters": ("The address holds a control character (such as NUL); remove it and "
                       "try again.", "הכתובת מכילה תו בקרה (כגון NUL); הסירו אותו ונסו שוב."),
    "dashboard_title": ("CEO dashboard", "לוח בקרה למנכ\"ל"),
    "as_of": ("as of", "נכון ל-"),
    "vs_previous": ("vs previous period", "לעומת התקופה הקודמת"),
    "vs_same_days": ("vs the same days of the previous period",
                     "לעומת אותם ימים בתקופה הקודמת"),
    "too_young": ("too young to compare", "מוקדם מדי להשוואה"),
    "partial_note": ("{period} is a partial period ({text}); changes: {compared}; no flag "
                     "fires on it.",
                     "{period} היא תקופה חלקית ({text}); שינויים: {compared}; שום התראה לא "
                     "מופעלת עליה."),
    "cost_coverage_note": ("on the lines with a cost: {pct} of revenue",
                           "על השורות שיש להן עלות: {pct} מההכנסות"),
    "not_measured": ("not measured", "לא נמדד"),
    "comparison_title": ("Quick comparison", "השוואה מהירה"),
    "metric": ("Metric", "מדד"),
    "why_matters": ("Why it matters", "למה זה חשוב"),
    "what_check": ("What to check", "מה לבדוק"),
    "what_found": ("What the system found", "מה המערכת מצאה"),
    "concentration_title": ("Concentration (trailing 12 months)", "ריכוזיות (12 חודשים אחרונים)"),
    "top_n": ("Top {n}", "{n} הגדולים"),
    "over_threshold": ("One customer holds more than {pct} of revenue.",
                       "לקוח אחד מחזיק יותר מ-{pct} מההכנסות."),
    "whale_title": ("Whale curve: cumulative profit by customer",
                    "עקומת לווייתן: רווח מצטבר לפי לקוח"),
    "whale_peak": ("The top {share} of customers make {profit} of the profit.",
                   "{share} מהלקוחות המובילים מייצרים {profit} מהרווח."),
    "risks_title": ("Top risks by value", "הסיכונים המובילים לפי ערך"),
    "customer": ("Customer", "לקוח"),
    "rep": ("Rep", "נציג"),
    "at_risk": ("Money at stake", "סכום בסיכון"),
    "churn_risk": ("Churn risk", "סיכון נטישה"),
    "days_since": ("Days since last order", "ימים מההזמנה האחרונה"),
    "inbox_title": ("Inbox", "תיבת משימות"),
    "inbox_of": ("Insights of {who}", "תובנות של {who}"),
    "team": ("team", "צוות"),
    "no_insights": ("Nothing open. Well done.", "אין משימות פתוחות. כל הכבוד."),
    "why": ("Why", "למה"),
    "next_step": ("Next step", "הצעד הבא"),
    "at_stake": ("at stake", "על הכף"),
    "priority": ("priority", "עדיפות"),
    "act_ack": ("Acknowledge", "אישור"),
    "act_done": ("Done", "בוצע"),
    "act_dismiss": ("Dismiss", "לא רלוונטי"),
    "act_snooze": ("Snooze a week", "תזכורת בעוד שבוע"),
    "show_rep": ("Show rep", "הצגת נציג"),
    "show": ("Show", "הצגה"),
    "all_team": ("Whole team", "כל הצוות"),
    "customers_title": ("Customers", "לקוחות"),
    "search": ("Search", "חיפוש"),
    "revenue_12m": ("Revenue, 12 months", "הכנסות, 12 חודשים"),
    "last_order": ("Last order", "הזמנה אחרונה"),
    "tier": ("Tier", "דירוג"),
    "health": ("Health", "בריאות"),
    "timeline": ("Purchase timeline", "ציר רכישות"),
    "rhythm": ("Rhythm and risk", "קצב וסיכון"),
    "p_alive": ("Probability still active", "הסתברות שעדיין פעיל"),
    "orders_every": ("Orders every ~{days} days", "מזמין כל ~{days} ימים"),
    "no_rhythm": ("No rhythm yet: {n} purchase day(s)", "אין עדיין קצב: {n} ימי רכישה"),
    "invoices": ("invoices", "חשבוניות"),
    "skus": ("SKUs", "מק\"טים"),
    "sku_history": ("SKU history", "היסטוריית מק\"טים"),
    "stopped": ("stopped", "הופסק"),
    "first": ("First", "ראשון"),
    "last": ("Last", "אחרון"),
    "recommendations": ("Worth offering", "כדאי להציע"),
    "profitability": ("Profitability after cost to serve", "רווחיות אחרי עלות שירות"),
    "revenue": ("Revenue", "הכנסות"),
    "gross_profit": ("Gross profit", "רווח גולמי"),
    "cost_to_serve": ("Cost to serve", "עלות שירות"),
    "profit": ("Profit", "רווח"),
    "health_factors": ("Health and its factors", "בריאות והגורמים שלה"),
    "contacts": ("Contacts coverage", "כיסוי אנשי קשר"),
    "level_executive": ("Executive", "הנהלה"),
    "level_finance": ("Finance", "כספים"),
    "level_operations": ("Operations", "תפעול"),
    "level_end_user": ("End user", "משתמש קצה"),
    "level_other": ("Other", "אחר"),
    "in_touch": ("{n} in touch (90 days)", "{n} בקשר (90 יום)"),
    "no_data": ("No data.", "אין נתונים."),
    "reps_title": ("Team comparison", "השוואת צוות"),
    "scorecard": ("Scorecard", "כרטיס ביצועים"),
    "value": ("Value", "ערך"),
    "team_median": ("Team median", "חציון הצוות"),
    "top_performer": ("Top performer", "המוביל"),
    "strengths": ("Strengths", "חוזקות"),
    "improvements": ("To improve", "לשיפור"),
    "pipeline_title": ("Pipeline", "צנרת"),
    "coverage": ("Coverage vs target (3× line)", "כיסוי מול יעד (קו פי 3)"),
    "win_rate": ("Win rate", "שיעור זכייה"),
    "cycle": ("Sales cycle", "מחזור מכירה"),
    "deal_size": ("Average deal", "עסקה ממוצעת"),
    "stages": ("Stage conversion", "המרה בין שלבים"),
    "stage": ("Stage", "שלב"),
    "stage_conversion": ("Moved on to the next stage", "התקדמו לשלב הבא"),
    "forecast_vs_actual": ("Forecast vs actual", "תחזית מול ביצוע"),
    "forecast": ("Forecast", "תחזית"),
    "actual": ("Actual", "בפועל"),
    # insight kinds and statuses
    "kind_churn_risk": ("Churn risk", "סיכון נטישה"),
    "kind_no_repeat_order": ("No second order", "ללא הזמנה שנייה"),
    "kind_stopped_item": ("Stopped item", "פריט שהופסק"),
    "kind_cross_sell": ("Worth offering", "כדאי להציע"),
    "kind_active_customers_drop": ("Active customers drop", "ירידה בלקוחות פעילים"),
    "kind_margin_erosion": ("Margin erosion", "שחיקת רווחיות"),
    "kind_lead_not_contacted": ("Lead not contacted", "ליד שלא טופל"),
    "kind_pipeline_coverage_low": ("Thin pipeline", "צנרת דלה"),
    "kind_forecast_at_risk": ("Forecast at risk", "תחזית בסיכון"),
    "kind_concentration": ("Concentration", "ריכוזיות"),
    "kind_single_threaded_account": ("Single-threaded account", "לקוח תלוי באיש קשר אחד"),
    "kind_overdue_payments_at_risk": ("Overdue payments", "תשלומים באיחור"),
    "status_new": ("new", "חדש"),
    "status_sent": ("sent", "נשלח"),
    "status_acknowledged": ("acknowledged", "אושר"),
    "status_done": ("done", "בוצע"),
    "status_dismissed": ("dismissed", "סומן כלא רלוונטי"),
    "status_snoozed": ("snoozed", "תזכורת מאוחרת יותר"),
    "status_resolved": ("resolved", "נפתר"),
    "error_title": ("Something is wrong", "משהו השתבש"),
    "back_home": ("Back to the start", "חזרה להתחלה"),
}


def register(messages: dict[str, tuple[str, str]]) -> None:
    """Add a page module's words (``key -> (English, Hebrew)``); a key already taken with other
    words is a programming error, caught at import."""
    for key, words in messages.items():
        if MESSAGES.get(key, words) != words:
            raise ValueError(f"message {key!r} is already defined with other words")
    MESSAGES.update(messages)


def lang_of(code: str | None) -> Lang:
    """A supported language code (English for anything else)."""
    return "he" if code == "he" else "en"


def t(key: str, lang: str, **values: Any) -> str:
    """The message ``key`` in ``lang`` (English when unknown), with ``{name}`` filled in."""
    en, he = MESSAGES.get(key, (key, key))
    text = he if lang == "he" else en
    if any(isinstance(v, Markup) for v in values.values()):
        return escape(text).format(**values)  # keeps markup values, escapes the rest
    return text.format(**values) if values else text


def money_text(value: float | None, lang: str = "en") -> str:
    return format_value(value, "money", lang=lang_of(lang))


def value_text(value: float | None, unit: str, lang: str = "en") -> str:
    """A KPI value in its unit (``money``, ``%``, ``days``, ``ratio`` ...)."""
    return format_value(value, unit, lang=lang_of(lang))


def pct_text(value: float | None, lang: str = "en") -> str:
    return format_value(value, "%", lang=lang_of(lang))


def change_text(value: float | None) -> str:
    """A relative change with its sign, e.g. ``+12%`` (an en dash when unknown)."""
    return "–" if value is None else f"{value:+.0%}"


def month_text(value: str | None) -> str:
    """``mm/yyyy`` from an ISO period start."""
    return "–" if not value else f"{value[5:7]}/{value[:4]}"


STAGES: dict[str, tuple[str, str]] = {
    "new": ("New", "חדש"), "qualified": ("Qualified", "מוסמך"),
    "discovery": ("Discovery", "גילוי צרכים"), "qualification": ("Qualification", "הסמכה"),
    "proposal": ("Proposal", "הצעה"), "negotiation": ("Negotiation", "משא ומתן"),
    "closed_won": ("Won", "נסגרה בהצלחה"), "closed_lost": ("Lost", "אבדה"),
}
TIERS: dict[str, tuple[str, str]] = {
    "strategic": ("strategic", "אסטרטגי"), "developing": ("developing", "מתפתח"),
    "operational": ("operational", "תפעולי"), "loss-making": ("loss-making", "מפסיד"),
    "loss_making": ("loss-making", "מפסיד"),
}
FACTORS: dict[str, tuple[str, str]] = {
    "rhythm": ("Purchase rhythm", "קצב רכישה"), "revenue_trend": ("Revenue trend", "מגמת הכנסות"),
    "breadth_trend": ("Breadth of items", "רוחב פריטים"),
    "margin_trend": ("Margin trend", "מגמת רווחיות"), "payment": ("Payments", "תשלומים"),
    "contacts": ("Contacts", "אנשי קשר"),
}


def word(table: dict[str, tuple[str, str]], code: str | None, lang: str) -> str:
    """A code from the data (a stage, a tier) in words; unknown codes read as words too."""
    if not code:
        return "–"
    en, he = table.get(code, (code.replace("_", " "), code.replace("_", " ")))
    return he if lang == "he" else en


def stage_text(code: str | None, lang: str) -> str:
    return word(STAGES, code, lang)


# a left-to-right run inside right-to-left text: words of Latin letters and digits (an id such
# as L000006, a SKU name such as "Gilboa Jumbo Roll x6", a period 2026-11, a score 40.2/100,
# "HHI 0.017", an amount -₪1.2k, a span 01/09/2026–30/09/2026), each with an optional sign and
# currency, joined by spaces
_LTR_WORD = (rf"(?:(?:(?<![^\s(])[-+−])?{SIGN_PATTERN}?[0-9]|{SIGN_PATTERN}?\(?[A-Za-z0-9])"
             # inner separators (1,250.5 · 10/2026 · 12:30), never a sentence's comma or colon
             r"(?:[A-Za-z0-9_.,:/%×#'&+\-−–@]*[A-Za-z0-9_/%×#'&+\-−–@])?\)?")
_LTR_RUN = re.compile(rf"{_LTR_WORD}(?:[ \u00a0]+(?:[&/+\-–][ \u00a0]+)?{_LTR_WORD})*")
_TRAILING = ".,:;"
_HEBREW = re.compile("[\u0590-\u05ff]")


def _ltr_runs(text: str) -> list[tuple[int, int]]:
    """Where the left-to-right runs of ``text`` are (start, end), sentence punctuation after a
    run and a closing parenthesis it does not open left outside."""
    runs = []
    for m in _LTR_RUN.finditer(text):
        start, end = m.span()
        while end > start and (text[end - 1] in _TRAILING or (text[end - 1] == ")" and (
                text.count("(", start, end) < text.count(")", start, end)))):
            end -= 1
        if start < end and text[start] == "(" and text.count(")", start, end) == 0:
            start += 1
        if end > start:
            runs.append((start, end))
    return runs


def isolate_numbers(text: object) -> Markup:
    """Escape ``text`` and isolate each left-to-right run (``<bdi dir="ltr">``): in a Hebrew
    sentence "-33%" does not read "33%-", "2.3×" not "×2.3", "Gilboa Jumbo Roll x6" not
    "6Gilboa Jumbo Roll x" and "L000006" not "000006L".

    >>> str(isolate_numbers("מוצר Gilboa Roll (x6), ליד L000006."))
    'מוצר <bdi dir="ltr">Gilboa Roll (x6)</bdi>, ליד <bdi dir="ltr">L000006</bdi>.'
    """
    raw = str(text)
    if raw and not _HEBREW.search(raw):  # all left to right: one run, as written
        return Markup(f'<bdi dir="ltr">{escape(raw)}</bdi>')
    out, last = [], 0
    for start, end in _ltr_runs(raw):
        out.append(str(escape(raw[last:start])))
        out.append(f'<bdi dir="ltr">{escape(raw[start:end])}</bdi>')
        last = end
    out.append(str(escape(raw[last:])))
    return Markup("".join(out))


def isolate_plain(text: str) -> str:
    """``text`` with each left-to-right run of a Hebrew sentence between Unicode isolates
    (LRI ... PDI), for plain text read right to left (a message's text part): the runs of
    :func:`isolate_numbers`, without HTML. Text without Hebrew is returned as it is.

    >>> isolate_plain("רווח גולמי -20.5% לעומת 27.5%") == (
    ...     "רווח גולמי \u2066-20.5%\u2069 לעומת \u206627.5%\u2069")
    True
    """
    if not _HEBREW.search(text):
        return text
    out, last = [], 0
    for start, end in _ltr_runs(text):
        out += [text[last:start], "\u2066", text[start:end], "\u2069"]
        last = end
    out.append(text[last:])
    return "".join(out)


def ltr(fmt: Callable[..., str]) -> Callable[..., Markup]:
    """A formatter whose result is isolated left-to-right (numbers inside Hebrew text)."""
    def wrapped(*args: Any, **kwargs: Any) -> Markup:
        return Markup(f'<bdi dir="ltr">{escape(fmt(*args, **kwargs))}</bdi>')
    return wrapped
