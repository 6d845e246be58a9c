"""What the account-management and sales-performance commands share: the --as-of option,
percent cells, and tables with Hebrew headings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from salesradar.cli import output
from salesradar.cli.options import parse_date
from salesradar.errors import UserInputError

AsOfOption = Annotated[str | None, typer.Option(
    "--as-of", help="Judge as of this date (default: the last invoice date).",
    show_default=False)]


def pct(value: float | None) -> str:
    """A fraction as a whole percent, or a dash."""
    return "—" if value is None else f"{100 * value:.0f}%"


def say(text: str) -> None:
    """Print a line of text as is (no Rich markup or highlighting)."""
    output.console.print(text, highlight=False, markup=False)


ID_KEYS = ("customer_id", "rep_id", "sku", "id", "version")
PERCENT_KEYS = ("share", "rate", "attainment", "pace", "margin", "discount", "pct", "accuracy")


HEADINGS_HE = {
    "KPI": "מדד", "at stake": "על הכף", "accuracy": "דיוק", "actual": "בפועל",
    "author": "כותב", "avg sale/customer": "מכירה ממוצעת ללקוח", "best": "הטוב ביותר",
    "calls": "שיחות", "call→meeting": "שיחה←פגישה", "contacts": "אנשי קשר",
    "cost to serve": "עלות שירות", "created": "נוצר", "cts share": "חלק עלות השירות",
    "customer": "לקוח", "days": "ימים", "days since order": "ימים מההזמנה",
    "deals": "עסקאות", "deal→won": "עסקה←זכייה", "discount": "הנחה",
    "expansion": "הרחבה", "forecast": "תחזית", "gross profit": "רווח גולמי", "high": "גבוה",
    "in range": "בטווח", "last 4 months": "4 החודשים האחרונים",
    "lost deals stood at": "שלב העסקאות שהופסדו", "loses most": "מפסיד בעיקר", "low": "נמוך",
    "made from": "נעשתה ב", "meetings": "פגישות", "meeting→deal": "פגישה←עסקה",
    "month": "חודש", "name": "שם", "new business": "עסקים חדשים", "note": "הערה",
    "overdue": "בפיגור", "pace": "קצב", "period": "תקופה", "profit": "רווח",
    "recent": "פעילים לאחרונה", "rep": "נציג", "repeat": "חוזרים", "revenue": "הכנסות",
    "status": "מצב", "target": "יעד", "team": "צוות", "team median": "חציון הצוות",
    "tier": "דרג", "total": "סה\"כ", "usual gap": "מרווח רגיל", "value": "ערך",
    "version": "גרסה", "won": "זכיות", "flags": "סימונים", "executive": "בכיר",
    "finance": "כספים", "operations": "תפעול", "end_user": "משתמש קצה",
    "customers, lowest profit first": "לקוחות, מהרווח הנמוך ביותר",
    "sudden churn": "נטישה פתאומית", "teams": "צוותים",
}


def print_table(title: str, rows: list[dict[str, Any]], columns: list[tuple[str, str]],
           he: bool = False) -> None:
    """A table of ``rows`` with ``(key, heading)`` columns (headings in Hebrew with ``he``)."""
    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if isinstance(value, list):
            return ", ".join(map(str, value))
        if key.endswith(PERCENT_KEYS) or key in ("call_to_meeting", "meeting_to_deal",
                                                 "deal_to_won"):
            return pct(value)
        return output.fmt(value)

    headings = [HEADINGS_HE.get(h, h) if he else h for _, h in columns]
    whole = 0  # the leading id columns (what a user types next) are never broken
    while whole < len(columns) and columns[whole][0] in ID_KEYS:
        whole += 1
    output.console.print(output.table(HEADINGS_HE.get(title, title) if he else title, headings,
                                      [[cell(r, k) for k, _ in columns] for r in rows],
                                      whole=whole))


def parse_action(text: str) -> tuple[str, str, Any]:
    """An ``--action`` value 'TITLE|OWNER|YYYY-MM-DD' as (title, owner, due date)."""
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != 3:
        raise UserInputError(f"--action takes 'TITLE|OWNER|YYYY-MM-DD', not {text!r}")
    return parts[0], parts[1], parse_date(parts[2], "--action date")
