"""The insight run's faster paths give what the plain versions they replaced gave: the Hebrew
amounts found through a sign's first character, the churn words built without a loop over the
two languages, and dates and timestamps written as ISO text by Arrow."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from typing import Any

import pyarrow as pa
import pytest

from salesradar.claims import Claim, claim
from salesradar.currency import SIGN_PATTERN, SYMBOLS
from salesradar.insights import texts
from salesradar.insights.model import Texts
from salesradar.insights.rules import _plain_column, plain
from salesradar.models.churn_text import (
    rhythm_claims,
    rhythm_text,
    stake_claims,
    stake_text,
    terms_of,
)

# the amount pattern as it was, built here on its own: a sign, digits, k or M
_PLAIN_SHORT = re.compile(rf"({SIGN_PATTERN}-?[\d.]+)([kM])")


def _plain_hebrew(text: str) -> str:
    return _PLAIN_SHORT.sub(lambda m: m.group(1) + {"k": " אלף", "M": " מיליון"}[m.group(2)],
                            text)


def test_hebrew_amounts_as_the_plain_pattern_on_every_sign() -> None:
    cases = ["", "₪38k", "קנה ב-₪10.3M (נטו); ₪850; -₪3.5k", "Karmiel 5k M", "₪.5k ₪12.k",
             "USD\u00a012k", "ABC\u00a07M", "MXN\u00a05M5k", "zł\u00a01.5M"]
    cases += [f"{sign}{n}{unit} and {sign}-{n}{unit}." for sign in SYMBOLS.values()
              for n in ("3", "1.2", ".5") for unit in "kM"]
    rng = random.Random(17)
    pieces = [*SYMBOLS.values(), "USD\u00a0", "1", "2.", ".", "-", "k", "M", "K", "x", " ",
              "; ", "נטו", "\u00a0", "A", "Z"]
    cases += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
              for _ in range(5000)]
    for text in cases:
        assert texts._hebrew_amounts(text) == _plain_hebrew(text), text


def _loop_churn_claims(e: dict[str, Any]) -> tuple[Texts, Texts, list[Claim]]:
    """The churn words as they were built: a loop over the two languages."""
    t = terms_of(e)
    # a customer known only by its code: between the marks render_with_claims words
    code, name = str(e.get("customer_id")), e.get("customer_name")
    c = str(name) if name and str(name) != code else f"\ue000{code}\ue001"
    lost = bool(e.get("lost"))
    situation = str(e.get("situation") or "past_rhythm")
    head = "lost" if lost else (situation if situation in ("past_rhythm", "not_reordered")
                                else str(e.get("lead_reason") or "revenue"))
    p_en = p_he = f"{100 * float(e['churn_probability'] or 0.0):.0f}%"
    out: list[Texts] = []
    claims: list[Claim] = []
    for lang, reasons in (("en", e.get("reasons")), ("he", e.get("reasons_he"))):
        rhythm = rhythm_text(t, lang=lang)  # type: ignore[arg-type]
        stake = stake_text(t, lost=lost, lang=lang)  # type: ignore[arg-type]
        risk = f"churn risk {p_en}" if lang == "en" else f"סיכון נטישה {p_he}"
        if e.get("scored_by") == "recency_rule":
            risk += (" by the recency rule (the churn model did not beat it on this data)"
                     if lang == "en" else " לפי כלל הזמן מאז ההזמנה האחרונה (מודל הנטישה לא "
                     "גבר עליו בנתונים אלה)")
        why = "; ".join([rhythm, stake, risk, *(reasons or [])])
        what = texts._CHURN_HEAD[head][lang == "he"].format(
            c=c, d=round(t["days_since_last_order"]))
        out.append(Texts(what, why, texts._CHURN_NEXT[head][lang == "he"].format(c=c)))
        if lang == "en":
            claims = [*rhythm_claims(t), *stake_claims(t),
                      claim("model_output", round(float(e["churn_probability"]), 4),
                            output="churn_probability"),
                      *json.loads(e.get("reason_claims") or "[]")]
    return out[0], out[1], claims


def _churn_rows() -> list[dict[str, Any]]:
    base = {"as_of": "2026-10-30", "now": "2026-10-31T00:00:00", "customer_id": "C1",
            "customer_name": "Cohen Foods", "churn_probability": 0.8734, "value_at_stake": 38_250.5,
            "year_sales": 40_000.0, "year_returns": 1_749.5, "days_since_last_order": 41.0,
            "median_gap_days": 12.0, "purchase_days": 20, "first_order": "2024-01-03",
            "previous_order": "2026-09-01", "last_order": "2026-09-19",
            "last_order_sales": 3_528.0, "reasons": [], "reasons_he": [],
            "reason_claims": "[]", "scored_by": "model", "lost": False,
            "situation": "past_rhythm", "lead_reason": None}
    reason = {"reasons": ["spend fell 40% (₪12k vs ₪20k)"],
              "reasons_he": ["ההוצאה ירדה ב-40% (₪12k לעומת ₪20k)"],
              "reason_claims": json.dumps([claim("net_revenue", 12_000.0, customer_id="C1",
                                                 to="2026-10-30")])}
    return [
        base,
        {**base, "lost": True, "days_since_last_order": 400.0, "value_at_stake": 1_200_000.0},
        {**base, "situation": "within_rhythm", "lead_reason": "orders", **reason},
        {**base, "situation": "within_rhythm", "lead_reason": None, "reason_claims": None},
        {**base, "scored_by": "recency_rule", "customer_name": None, **reason},
        {**base, "situation": "not_reordered", "purchase_days": 2, "median_gap_days": None,
         "value_at_stake": math.nan},
        {**base, "situation": None, "purchase_days": 2, "last_order": None,
         "value_at_stake": 0.0, "churn_probability": 0.5},
        {**base, "purchase_days": 1, "situation": "within_rhythm", "lead_reason": "returns",
         "previous_order": None, "value_at_stake": 950.0},
    ]


@pytest.mark.parametrize("row", _churn_rows())
def test_churn_words_as_the_loop_over_languages(row: dict[str, Any]) -> None:
    en, he, claims = texts._churn_claims(row)
    assert (en, he, claims) == _loop_churn_claims(row)
    assert json.dumps(claims) == json.dumps(_loop_churn_claims(row)[2])
    # and through render_with_claims, the Hebrew amounts written out
    assert texts.render_with_claims("churn_risk", row)[1].why == _plain_hebrew(he.why)


_DAYS = [dt.date(1, 1, 1), dt.date(999, 12, 31), dt.date(1969, 12, 31), None,
         dt.date(2026, 10, 30), dt.date(9999, 12, 31)]
_MOMENTS = [dt.datetime(2026, 10, 27, 9, 17), dt.datetime(2026, 1, 1, 0, 0, 0, 5), None,
            dt.datetime(1, 1, 1), dt.datetime(1969, 12, 31, 23, 59, 59, 500_000),
            dt.datetime(1969, 12, 31, 23, 59, 59, 1),
            dt.datetime(9999, 12, 31, 23, 59, 59, 999_999),
            dt.datetime(2026, 1, 1, 0, 0, 0, 100_000), dt.datetime(1900, 2, 28, 0, 0, 0, 999_999)]


@pytest.mark.parametrize(("values", "kind"), [
    (_DAYS, pa.date32()), (_DAYS, pa.date64()), (_MOMENTS, pa.timestamp("us")),
    ([None, None], pa.date32()), ([], pa.timestamp("us")),
])
def test_dates_and_timestamps_as_python_writes_them(values: list[Any],
                                                    kind: pa.DataType) -> None:
    half = len(values) // 2  # two chunks, as a query's result may come
    column = pa.chunked_array([pa.array(values[:half], kind), pa.array(values[half:], kind)])
    expected = [plain(v) for v in column.to_pylist()]
    assert _plain_column(column) == expected
    assert all(type(a) is type(b) for a, b in zip(_plain_column(column), expected, strict=True))
