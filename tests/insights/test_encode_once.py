"""An insight's evidence is encoded once: the text its check makes is what the store writes,
the same text SQLAlchemy's JSON column wrote (``json.dumps``); and the churn terms read dates
and languages faster, giving what the plain versions gave."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from salesradar.dates import as_date
from salesradar.errors import UserInputError
from salesradar.insights import store as store_module
from salesradar.models.churn_text import rhythm_text, stake_text, terms_of

from .insight_helpers import T0, make_insight, memory_store

EVIDENCE: dict[str, Any] = {
    "reasons_he": ["קנה ב-₪3.5 אלף"], "value": 7808.39, "n": 3, "none": None, "ok": True,
    "nested": {"claims": [{"claim": "setting", "value": 0.1235}], "tuple": (1, 2.5)},
}


def test_the_checked_text_is_json_dumps_of_the_evidence() -> None:
    insight = make_insight(**EVIDENCE)
    assert insight.evidence_json == json.dumps(insight.evidence)
    # made again for a changed copy, and no part of equality or repr
    other = replace(insight, evidence={"gap_days": 1})
    assert other.evidence_json == '{"gap_days": 1}'
    assert insight == make_insight(**EVIDENCE)
    assert "evidence_json" not in repr(insight)


@pytest.mark.parametrize("bad", [math.nan, math.inf, {1, 2}, dt.date(2026, 1, 1)])
def test_evidence_that_is_not_plain_json_is_refused(bad: Any) -> None:
    with pytest.raises(UserInputError, match="must be plain JSON"):
        make_insight(bad=bad)


def _stored_evidence(store: Any) -> list[str]:
    with store.db.session() as s:
        return [row[0] for row in s.execute(text("SELECT evidence FROM insights ORDER BY id"))]


@pytest.mark.parametrize("as_dumped", [True, False])
def test_the_store_writes_the_same_text(monkeypatch: pytest.MonkeyPatch,
                                        as_dumped: bool) -> None:
    """An update writes json.dumps of the new evidence, whether the checked text is bound as
    it is (SQLite's default serializer) or parsed and converted by the column's type."""
    monkeypatch.setattr(store_module, "_binds_json_dumps", lambda dialect: as_dumped)
    store = memory_store()
    first = [make_insight("C-1"), make_insight("C-2", gap_days=50)]
    store.upsert_many(first, T0)
    assert _stored_evidence(store) == [json.dumps(i.evidence) for i in first]
    later = T0 + dt.timedelta(days=1)
    second = [make_insight("C-1", **EVIDENCE), make_insight("C-2", gap_days=50)]
    counts = store.upsert_many(second, later)
    assert (counts.updated, counts.unchanged) == (1, 1)
    assert _stored_evidence(store) == [json.dumps(i.evidence) for i in second]
    assert store.get(1).evidence == json.loads(json.dumps(second[0].evidence))


# -- the churn terms ---------------------------------------------------------------------------
def _reference_terms(row: dict[str, Any]) -> dict[str, Any]:
    """terms_of as it was before its dates were read with a fast path."""
    def num(value: Any) -> float:
        return math.nan if value is None else float(value)

    as_of = as_date(row.get("as_of"))
    last = as_date(row.get("last_order"))
    days_since = num(row.get("days_since_last_order"))
    if last is None and as_of is not None and not math.isnan(days_since):
        last = as_of - dt.timedelta(days=round(days_since))
    return {
        "customer_id": str(row.get("customer_id")), "as_of": as_of,
        "purchase_days": int(num(row.get("purchase_days")) if row.get("purchase_days")
                             is not None else 0),
        "first_order": as_date(row.get("first_order")),
        "previous_order": as_date(row.get("previous_order")), "last_order": last,
        "last_order_sales": num(row.get("last_order_sales")),
        "days_since_last_order": days_since,
        "typical_gap_days": num(row.get("typical_gap_days", row.get("median_gap_days"))),
        "longest_gap_days": num(row.get("longest_gap_days")),
        "value_at_stake": num(row.get("value_at_stake")),
        "year_sales": num(row.get("year_sales")), "year_returns": num(row.get("year_returns")),
    }


class _Text(str):
    """A str subclass (the general path of as_date)."""


ROWS: list[dict[str, Any]] = [
    {"customer_id": "C1", "as_of": "2026-03-31", "purchase_days": 5, "last_order": "2026-02-20",
     "first_order": "2025-01-02T00:00:00", "previous_order": "2026-02-01",
     "days_since_last_order": 39, "median_gap_days": 12.5, "value_at_stake": 3528.0},
    {"customer_id": 7, "as_of": dt.datetime(2026, 3, 31, 9), "purchase_days": 2.0,
     "last_order": None, "first_order": dt.date(2026, 1, 1), "previous_order": math.nan,
     "days_since_last_order": 10.6, "typical_gap_days": 3, "year_sales": 5, "year_returns": 0},
    {"customer_id": "C3", "as_of": _Text("2026-03-31"), "last_order": _Text("2026-03-01"),
     "purchase_days": None, "days_since_last_order": None, "value_at_stake": None},
    {"as_of": None, "last_order": None, "days_since_last_order": 4},
]


def _same(a: Any, b: Any) -> bool:
    """Equal with the same types (NaN equals NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


@pytest.mark.parametrize("row", ROWS)
def test_terms_read_as_before(row: dict[str, Any]) -> None:
    assert _same(terms_of(row), _reference_terms(row))


def test_rhythm_words_in_both_languages() -> None:
    past = terms_of(ROWS[0])  # 39 days since, a rhythm of 12.5 days
    assert rhythm_text(past) == "orders every ~12 days; last order 39 days ago (past its rhythm)"
    within = {**past, "days_since_last_order": 12.5}
    assert rhythm_text(within).endswith("(within its rhythm)")
    # with the longest pause kept: 39 days once before (equal counts as came back), or 30
    assert rhythm_text({**past, "longest_gap_days": 39.0}).endswith(
        "(past its rhythm, but it paused 39 days before and came back)")
    assert rhythm_text({**past, "longest_gap_days": 30.0}).endswith(
        "(past its rhythm; its longest pause before was 30 days)")
    assert rhythm_text({**past, "longest_gap_days": 30.0}, lang="he").endswith(
        "(מעבר לקצב שלו; ההפסקה הארוכה ביותר שלו לפני כן הייתה 30 יום)")
    assert rhythm_text({**within, "longest_gap_days": 30.0}).endswith("(within its rhythm)")
    assert rhythm_text(past, lang="he") == (
        "מזמין כל ~12 יום; הזמנה אחרונה לפני 39 יום (מעבר לקצב שלו)")
    assert stake_text(past, currency="₪") == (
        "₪3.5k at stake: its net purchases in the year to its last order")
    for lang in ("fr", ["en"]):
        with pytest.raises(UserInputError, match="en or he"):
            rhythm_text(past, lang=lang)  # type: ignore[arg-type]


def test_sqlite_binds_the_dumped_text() -> None:
    store = memory_store()
    with store.db.session() as s:
        assert store_module._binds_json_dumps(s.get_bind().dialect)
