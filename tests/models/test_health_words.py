"""Health explanations of several customers at once, each worded by its own weakest factor (or
why it has no score), in both languages: the words of one row never come from another's."""

from __future__ import annotations

import datetime as dt

from salesradar.models.tiers import health_scores
from salesradar.workspace import Workspace

from .test_tiers import add_lines

AS_OF = dt.date(2026, 10, 31)
D = dt.date


def test_each_customer_is_explained_by_its_own_weakest_factor(ws: Workspace) -> None:
    # H1: every 30 days, 3 x 100 before Aug 2 and 2 x 100 after: its revenue fell the most
    rows: list[tuple[str, str, dt.date, float, float | None]] = [
        ("H1", "X", d, 100.0, 60.0) for d in (D(2026, 6, 1), D(2026, 7, 1), D(2026, 7, 31))]
    rows += [("H1", "X", d, 100.0, 70.0) for d in (D(2026, 8, 30), D(2026, 9, 29))]
    # R1: every 30 days to June 30, then nothing for 123 days: its rhythm lost the most
    rows += [("R1", "Y", d, 100.0, None) for d in (D(2026, 5, 1), D(2026, 5, 31), D(2026, 6, 30))]
    # Y1: two purchase days, no rhythm yet
    rows += [("Y1", "Z", d, 50.0, None) for d in (D(2026, 10, 1), D(2026, 10, 20))]
    add_lines(ws, rows)
    table = health_scores(ws, AS_OF).sort_by("customer_id")
    assert table["customer_id"].to_pylist() == ["H1", "R1", "Y1"]
    assert table["weakest"].to_pylist() == ["revenue_trend", "rhythm", None]
    assert table["explanation"].to_pylist() == [
        "revenue 200 in the last 90 days vs 300 before",
        "orders every ~30 days; last order 123 days ago",
        "no health score yet: bought on 2 day(s); a rhythm needs 3",
    ]
    assert table["explanation_he"].to_pylist() == [
        "הכנסות 200 ב-90 הימים האחרונים לעומת 300 לפני כן",
        "מזמין כל ~30 יום; הזמנה אחרונה לפני 123 יום",
        "אין עדיין ציון בריאות: קנה ב-2 ימים; קצב דורש 3",
    ]
