"""Tables as files people open in Excel: CSV (UTF-8 with a BOM) and .xlsx, in the user's language.

Every list the pages and the API show (insights, churned customers, customers with their scores
and tiers, a KPI table, a commission statement, open deals) is a list of plain dicts; this module
turns one into a download. Headers are the columns' labels in the reader's language; cells that a
spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) are neutralized: prefixed with an apostrophe in CSV, written as text in .xlsx.

>>> rows = [{"customer_id": "C1", "name": "=HYPERLINK(\\"x\\")", "revenue_12m": 1250.0}]
>>> text = to_csv(rows, columns_for(rows), "en").decode("utf-8-sig")
>>> text.splitlines()[0]
'Customer id,Name,"Revenue, 12 months"'
>>> text.splitlines()[1]
'C1,"\\'=HYPERLINK(""x"")",1250.0'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from salesradar.errors import UserInputError

Format = Literal["csv", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header

# column key -> (English, Hebrew): the columns of every exported list
LABELS: dict[str, tuple[str, str]] = {
    "id": ("Id", "מזהה"),
    "kind": ("Kind", "סוג"),
    "status": ("Status", "סטטוס"),
    "priority": ("Priority", "עדיפות"),
    "value_at_stake": ("Money at stake", "סכום בסיכון"),
    "owner_rep_id": ("Rep", "נציג"),
    "rep_id": ("Rep", "נציג"),
    "rep_name": ("Rep name", "שם נציג"),
    "team": ("Team", "צוות"),
    "subject_id": ("Subject", "נושא"),
    "customer_id": ("Customer id", "מזהה לקוח"),
    "customer_name": ("Customer", "לקוח"),
    "name": ("Name", "שם"),
    "what": ("What happened", "מה קרה"),
    "why": ("Why", "למה"),
    "next_step": ("Next step", "הצעד הבא"),
    "detected_at": ("Detected", "זוהה"),
    "due_at": ("Due", "מועד יעד"),
    "revenue_12m": ("Revenue, 12 months", "הכנסות, 12 חודשים"),
    "last_order": ("Last order", "הזמנה אחרונה"),
    "tier": ("Tier", "דירוג"),
    "health": ("Health", "בריאות"),
    "churn_probability": ("Churn risk", "סיכון נטישה"),
    "value": ("Value", "ערך"),
    "last_purchase": ("Last purchase", "רכישה אחרונה"),
    "purchase_days": ("Purchase days", "ימי רכישה"),
    "typical_gap_days": ("Typical gap (days)", "מרווח אופייני (ימים)"),
    "days_since_last": ("Days since last purchase", "ימים מהרכישה האחרונה"),
    "expected_purchases": ("Expected purchases", "רכישות צפויות"),
    "should_have_bought": ("Should have bought", "היה צפוי לקנות"),
    "period": ("Period", "תקופה"),
    "previous": ("Previous period", "תקופה קודמת"),
    "change": ("Change", "שינוי"),
    "partial": ("Partial period", "תקופה חלקית"),
    "metric": ("Metric", "מדד"),
    "weight": ("Weight", "משקל"),
    "target": ("Target", "יעד"),
    "actual": ("Actual", "בפועל"),
    "attainment": ("Attainment", "עמידה ביעד"),
    "commission": ("Commission", "עמלה"),
    "weighted": ("Weighted commission", "עמלה משוקללת"),
    "before_cap": ("Before cap", "לפני תקרה"),
    "payout": ("Payout", "תשלום"),
    "deal_id": ("Deal", "עסקה"),
    "pipeline": ("Pipeline", "צנרת"),
    "stage": ("Stage", "שלב"),
    "amount": ("Amount", "סכום"),
    "created_at": ("Created", "נוצרה"),
    "close_date": ("Expected close", "סגירה צפויה"),
    "age_days": ("Age (days)", "גיל (ימים)"),
    "stage_since": ("In stage since", "בשלב מאז"),
    "days_in_stage": ("Days in stage", "ימים בשלב"),
    "slipped": ("Slipped", "נדחתה"),
    "forecast_category": ("Forecast category", "קטגוריית תחזית"),
}


@dataclass(frozen=True)
class Column:
    """One exported column: the row key and its header in English and Hebrew."""

    key: str
    en: str
    he: str

    def label(self, lang: str) -> str:
        return self.he if lang == "he" else self.en


def column(key: str) -> Column:
    """The column ``key`` with its labels (a key without labels reads as words)."""
    en, he = LABELS.get(key, (key.replace("_", " ").capitalize(), key.replace("_", " ")))
    return Column(key, en, he)


def columns_for(rows: Sequence[Mapping[str, Any]], keys: Iterable[str] | None = None
                ) -> list[Column]:
    """The columns of ``rows``: ``keys`` in that order, else every key of the rows in the order
    first seen (nested lists and dicts included, written as JSON)."""
    if keys is None:
        seen: dict[str, None] = {}
        for row in rows:
            seen.update(dict.fromkeys(row))
        keys = seen
    return [column(k) for k in keys]


def check_format(fmt: str) -> Format:
    """``fmt`` when it is csv or xlsx, else a :class:`UserInputError` naming both."""
    if fmt not in FORMATS:
        raise UserInputError(f"format must be csv or xlsx, not {fmt!r}")
    return "csv" if fmt == "csv" else "xlsx"


def neutralized(text: str) -> str:
    """Text a spreadsheet would run as a formula, prefixed with an apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _plain(value: Any) -> Any:
    """A cell's value: numbers, booleans and dates as they are, containers as JSON text."""
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "is_finite") and not isinstance(value, float):  # Decimal
        return float(value)
    return value


def _csv_text(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str):
        return neutralized(value)
    return str(value)


def to_csv(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], lang: str) -> bytes:
    """``rows`` as CSV in UTF-8 with a byte-order mark (Excel then reads Hebrew right), headers
    in ``lang``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([neutralized(c.label(lang)) for c in columns])
    for row in rows:
        writer.writerow([_csv_text(row.get(c.key)) for c in columns])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], lang: str,
            sheet: str = "salesradar") -> bytes:
    """``rows`` as an Excel workbook of one sheet (right-to-left in Hebrew), headers in
    ``lang``; every text cell is written as text, never as a formula."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    if len(rows) > MAX_ROWS:
        raise UserInputError(f"{len(rows)} rows do not fit in one Excel sheet; use CSV")
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    if lang == "he":
        ws.sheet_view.rightToLeft = True

    def cell(value: Any) -> Any:
        value = _plain(value)
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.replace(tzinfo=None)
        if isinstance(value, str):
            # Excel has no room for control characters; a string is stored as a string
            value = "".join(ch for ch in value if ch >= " " or ch in "\t\n")
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str):
            c.data_type = "s"  # text, even when it starts with "="
        elif isinstance(value, dt.datetime):
            c.number_format = "dd/mm/yyyy hh:mm"
        elif isinstance(value, dt.date):
            c.number_format = "dd/mm/yyyy"
        return c

    ws.append([cell(c.label(lang)) for c in columns])
    for row in rows:
        ws.append([cell(row.get(c.key)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def export(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], fmt: str,
           lang: str, sheet: str = "salesradar") -> bytes:
    """``rows`` in ``fmt`` (csv or xlsx)."""
    if check_format(fmt) == "csv":
        return to_csv(rows, columns, lang)
    return to_xlsx(rows, columns, lang, sheet)


def filename(stem: str, fmt: str, day: dt.date | None = None) -> str:
    """The file name the server gives a download: ``salesradar-<stem>-<yyyy-mm-dd>.<fmt>``,
    ASCII letters, digits and dashes only (never a name the client chose)."""
    safe = "".join(ch if ch.isascii() and (ch.isalnum() or ch == "-") else "-" for ch in stem)
    safe = "-".join(part for part in safe.split("-") if part)[:60] or "export"
    return f"salesradar-{safe}-{(day or dt.date.today()).isoformat()}.{check_format(fmt)}"
