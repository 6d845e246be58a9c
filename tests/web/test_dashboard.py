"""The CEO dashboard service and the visibility scope on a tiny hand-made company.

Two reps, three customers, two months (March and April 2026):

    line  date        customer  rep  revenue  cost
    1     2026-03-05  A         R1   100      60
    2     2026-03-20  B         R1   300      200
    3     2026-03-25  C         R2   600      300
    4     2026-04-02  A         R1   200      150
    5     2026-04-10  C         R2   800      400
    6     2026-04-15  C         R2   200      100
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from helpers import INVOICE_HEADER, write_csv
from salesradar.access import EVERYTHING, NotVisible, Scope, require_customer, scope_for
from salesradar.access import scoped_workspace as scoped
from salesradar.dashboard import ceo_dashboard
from salesradar.io import import_file
from salesradar.web import data, i18n
from salesradar.workspace import Workspace, last_invoice_day

LINES = [
    "I1,1,2026-03-05,A,S1,1,100,60,R1",
    "I2,1,2026-03-20,B,S1,3,300,200,R1",
    "I3,1,2026-03-25,C,S2,6,600,300,R2",
    "I4,1,2026-04-02,A,S2,2,200,150,R1",
    "I5,1,2026-04-10,C,S1,8,800,400,R2",
    "I6,1,2026-04-15,C,S2,2,200,100,R2",
]


@pytest.fixture
def company(tmp_path: Path) -> Path:
    path = tmp_path / "ws.duckdb"
    with Workspace.open(path) as ws:
        import_file(ws, "invoice_lines", write_csv(tmp_path / "lines.csv", INVOICE_HEADER, LINES))
        import_file(ws, "customers", write_csv(
            tmp_path / "customers.csv", "customer_id,name,rep_id",
            ["A,Alpha Ltd,R1", "B,Beta Ltd,R1", "C,Gamma Ltd,R2"]))
    return path


def tile(board: dict[str, object], name: str) -> dict[str, object]:
    tiles = board["tiles"]
    assert isinstance(tiles, list)
    return next(t for t in tiles if t["name"] == name)


def test_company_tiles_are_the_last_month_against_the_one_before(company: Path) -> None:
    with Workspace.open(company, read_only=True) as ws:
        board = ceo_dashboard(ws)
    assert board["as_of"] == "2026-04-15"  # the last invoice date
    active = tile(board, "active_customers")
    # the data end on 15/04: April is partial (15 of 30 days) and is compared with the same
    # days of March (01/03–15/03: only line 1, customer A), not with the whole of March.
    # April: A and C bought (2); 01/03–15/03: A (1); change +1, +100%
    assert (active["period"], active["value"], active["previous"]) == ("2026-04-01", 2, 1)
    assert active["partial"]["text_en"] == "partial: 15 of 30 days"
    assert active["change_pct"] == pytest.approx(1.0)
    assert active["change_display"]["text_en"] == "+100%"
    assert [p["value"] for p in active["trend"]] == [3, 2]  # type: ignore[index]
    assert [p["partial"] for p in active["trend"]] == [False, True]  # type: ignore[index]
    profit = tile(board, "gross_profit")
    # April: (200-150) + (800-400) + (200-100) = 550; 01/03–15/03: 100 - 60 = 40
    assert (profit["value"], profit["previous"]) == (pytest.approx(550), pytest.approx(40))
    margin = tile(board, "gross_margin")
    assert margin["value"] == pytest.approx(550 / 1200)  # April revenue 200 + 800 + 200
    # a rate changes in points: 45.8% against 40/100 = 40% is +5.8 pts
    assert margin["change_display"]["text_en"] == "+5.8 pts"
    deals = tile(board, "win_rate")
    assert deals["available"] is False and deals["missing_tables"] == ["deals"]
    found = next(r for r in board["comparison"] if r["metric"] == "active_customers")
    assert found["found_en"] == ("2 in 04/2026 (partial: 15 of 30 days), +100% vs the same days "
                                 "of the previous period.")
    assert "Not measured: import deals" in next(
        r for r in board["comparison"] if r["metric"] == "win_rate")["found_en"]


def test_the_as_of_date_is_the_last_invoice_date(company: Path, tmp_path: Path) -> None:
    with Workspace.open(company, read_only=True) as ws:
        assert last_invoice_day(ws) == date(2026, 4, 15)
        # trailing 12 months to 15/04/2026: C 600 + 800 + 200, A 100 + 200, B 300
        assert [(r["customer_id"], r["revenue_12m"]) for r in data.customers_list(ws)] == [
            ("C", 1600), ("A", 300), ("B", 300)]
    with Workspace.open(tmp_path / "empty.duckdb") as ws:  # the tables exist, with no rows
        assert last_invoice_day(ws) is None
        assert data.customers_list(ws) == []


def test_a_reps_customers_list_ends_on_the_companys_data_day(company: Path,
                                                           tmp_path: Path) -> None:
    # R1 last sold on 02/04/2026, the company on 15/04/2026: a line of B on 10/04/2025 is
    # inside R1's own 12 months (after 02/04/2025) but not the company's (after 15/04/2025)
    with Workspace.open(company) as ws:
        import_file(ws, "invoice_lines", write_csv(tmp_path / "old.csv", INVOICE_HEADER,
                                                   ["I0,1,2025-04-10,B,S1,1,50,30,R1"]))
    view = scoped(company, scope_for("rep", "R1", None, []))
    try:
        rows = data.customers_list(view, day=date(2026, 4, 15))
    finally:
        view.close()
    assert [(r["customer_id"], r["revenue_12m"]) for r in rows] == [("A", 300), ("B", 300)]


def test_forecast_against_actual_sums_each_reps_last_commit(tmp_path: Path) -> None:
    # March (forecasts of won amount): R1 committed 1,000 then 800 (the later counts; its best
    # case 1,500 is no commit), R2 300 -> 1,100 against the won 700 (the lost 999 does not
    # count); April (no measure: invoiced revenue): 500 against the 450 invoiced, not the won
    # 400.
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        import_file(ws, "forecast_submissions", write_csv(
            tmp_path / "forecasts.csv",
            "rep_id,period,grain,submitted_at,category,amount,measure",
            ["R1,2026-03-01,month,2026-02-20 09:00:00,commit,1000,won_amount",
             "R1,2026-03-01,month,2026-03-10 09:00:00,commit,800,won_amount",
             "R1,2026-03-01,month,2026-03-15 09:00:00,best_case,1500,won_amount",
             "R2,2026-03-01,month,2026-03-01 09:00:00,commit,300,won_amount",
             "R1,2026-04-01,month,2026-04-02 09:00:00,commit,500,"]))
        import_file(ws, "deals", write_csv(
            tmp_path / "deals.csv", "deal_id,owner_rep_id,amount,created_at,close_date,outcome",
            ["D1,R1,700,2026-02-01,2026-03-20,won", "D2,R2,400,2026-03-01,2026-04-05,won",
             "D3,R1,999,2026-02-01,2026-03-25,lost"]))
        import_file(ws, "invoice_lines", write_csv(
            tmp_path / "lines.csv",
            "invoice_id,line_no,invoice_date,customer_id,sku,quantity,net_revenue,rep_id",
            ["I1,1,2026-04-03,C1,S1,1,300,R1", "I2,1,2026-04-09,C2,S1,1,150,R1"]))
        rows = data.pipeline_view(ws, date(2026, 4, 15))["forecast_vs_actual"]
    assert [(str(r["period"])[:10], r["forecast"], r["actual"]) for r in rows] == [
        ("2026-03-01", 1100, 700), ("2026-04-01", 500, 450)]


def test_concentration_is_trailing_twelve_month_revenue(company: Path) -> None:
    with Workspace.open(company, read_only=True) as ws:
        conc = ceo_dashboard(ws)["concentration"]
    # 12 months to 2026-04-15: A 300, B 300, C 1,600 of 2,200; top 1 = 1600/2200 = 72.7%
    top = conc["top_customers"]
    assert [(c["customer_id"], c["name"]) for c in top] == [
        ("C", "Gamma Ltd"), ("A", "Alpha Ltd"), ("B", "Beta Ltd")]
    assert top[0]["share"] == pytest.approx(1600 / 2200)
    assert conc["over_threshold"] is True  # 72.7% > 15%


def test_a_reps_scope_sees_only_their_customers(company: Path) -> None:
    scope = scope_for("rep", "R1", None, [])
    assert scope == Scope(frozenset({"R1"}))
    with Workspace.open(company, read_only=True) as ws:
        board = ceo_dashboard(ws, scope=scope)
    # R1's customers A and B: April revenue 200 (A only), March 100 + 300
    assert tile(board, "active_customers")["value"] == 1
    assert tile(board, "gross_profit")["value"] == pytest.approx(50)
    assert {c["customer_id"] for c in board["concentration"]["top_customers"]} == {"A", "B"}
    # R1 last sold on 02/04, the company on 15/04: April is partial to the company's day
    assert board["as_of"] == "2026-04-15"
    assert tile(board, "active_customers")["partial"]["days"] == 15
    view = scoped(company, scope)
    try:
        require_customer(view, "A")
        with pytest.raises(NotVisible):
            require_customer(view, "C")  # R2's customer: as if it did not exist
        assert view.row_count("invoice_lines") == 3
        assert view.row_count("customers") == 2
    finally:
        view.close()


def test_manager_scope_is_the_team_and_the_reports() -> None:
    reps = [{"rep_id": "R1", "team": "North", "manager_id": "M"},
            {"rep_id": "R2", "team": "South", "manager_id": "M"},
            {"rep_id": "R3", "team": "North", "manager_id": "X"},
            {"rep_id": "R4", "team": "East", "manager_id": "X"}]
    assert scope_for("manager", None, "North", reps).rep_ids == {"R1", "R3"}
    assert scope_for("manager", "M", None, reps).rep_ids == {"M", "R1", "R2"}
    assert scope_for("admin", None, None, reps) is EVERYTHING
    assert scope_for("rep", None, None, reps).rep_ids == frozenset()  # no rep id, nothing


def test_numbers_money_and_dates_per_language() -> None:
    assert i18n.money_text(1250.4, "he") == "₪1,250"
    assert i18n.money_text(-38000, "en") == "-₪38,000"
    assert i18n.pct_text(0.125) == "12.5%"
    assert i18n.month_text("2026-03-01") == "03/2026"
    assert i18n.change_text(-1 / 3) == "-33%"
    assert i18n.t("nav_customers", "he") == "לקוחות"
    assert i18n.t("top_n", "en", n=3) == "Top 3"
    missing = [k for k, (en, he) in i18n.MESSAGES.items() if not en or not he]
    assert missing == []


def test_every_insight_kind_and_status_has_words_in_both_languages() -> None:
    from salesradar.insights import Kind, Status

    for key in [f"kind_{k.value}" for k in Kind] + [f"status_{s.value}" for s in Status]:
        assert key in i18n.MESSAGES, key


def test_numbers_in_hebrew_sentences_are_isolated_left_to_right() -> None:
    text = i18n.isolate_numbers("92 ב-10/2026, -33% לעומת <b>; ₪146,100 ו-2.3×")
    assert str(text) == ('<bdi dir="ltr">92</bdi> ב-<bdi dir="ltr">10/2026</bdi>, '
                         # a Latin word is a left-to-right run too; the markup stays escaped
                         '<bdi dir="ltr">-33%</bdi> לעומת &lt;<bdi dir="ltr">b</bdi>&gt;; '
                         '<bdi dir="ltr">₪146,100</bdi> ו-<bdi dir="ltr">2.3×</bdi>')
    assert str(i18n.ltr(i18n.change_text)(0.06)) == '<bdi dir="ltr">+6%</bdi>'


def test_contact_coverage_counts_levels_in_touch_within_90_days() -> None:
    from salesradar.web.data import contact_levels

    contacts = [
        {"level": "executive", "last_activity_at": "2026-03-20T10:00:00"},  # 26 days: in touch
        {"level": "executive", "last_activity_at": "2025-12-01T10:00:00"},  # 135 days: not
        {"level": "finance", "last_activity_at": None},
    ]
    levels = {r["level"]: (r["contacts"], r["in_touch"])
              for r in contact_levels(contacts, "2026-04-15")}
    assert levels == {"executive": (2, 1), "finance": (1, 0), "operations": (0, 0),
                      "end_user": (0, 0), "other": (0, 0)}


def test_isolated_numbers_inside_messages_stay_markup() -> None:
    text = i18n.t("whale_peak", "he", share=i18n.ltr(i18n.pct_text)(0.2), profit="<1>")
    assert str(text) == ('<bdi dir="ltr">20%</bdi> מהלקוחות המובילים מייצרים &lt;1&gt; '
                         'מהרווח.')


def test_the_dashboard_says_whose_numbers_it_shows(company: Path, tmp_path: Path) -> None:
    with Workspace.open(company) as ws:
        import_file(ws, "reps", write_csv(tmp_path / "reps.csv", "rep_id,name,team",
                                          ["R1,Dana,North", "R2,Eli,North"]))
    with Workspace.open(company, read_only=True) as ws:
        company_board = ceo_dashboard(ws)
        team_board = ceo_dashboard(ws, scope=Scope(frozenset({"R1", "R2"})))
        rep_board = ceo_dashboard(ws, scope=Scope(frozenset({"R1"})))
    assert company_board["whose"]["title_en"] == "CEO dashboard"
    assert team_board["whose"]["kind"] == "team"
    assert team_board["whose"]["title_en"] == "Team dashboard"
    assert team_board["whose"]["whose_en"] == ("The numbers of team North (2 reps) only, not the "
                                               "company's.")
    assert team_board["whose"]["whose_he"] == "הנתונים של צוות North (2 נציגים) בלבד, לא של החברה."
    assert rep_board["whose"]["whose_en"] == "The numbers of Dana only."


def test_the_kpi_api_marks_the_partial_month(company: Path) -> None:
    # GET /api/v1/kpis/revenue?period=month: April (15 of 30 days) against 01/03–15/03 (100)
    with Workspace.open(company, read_only=True) as ws:
        rows = {r["period"]: r for r in data.kpi_query(ws, "revenue", (), "month")["rows"]}
    april = rows["2026-04-01"]
    assert april["partial"]["text_en"] == "partial: 15 of 30 days"
    assert april["partial"]["text_he"] == "חלקי: 15 מתוך 30 ימים"
    assert (april["value"], april["previous"]) == (pytest.approx(1200), pytest.approx(100))
    assert rows["2026-03-01"]["partial"] is None


def test_a_dashboard_as_of_a_past_day_stops_on_that_day(company: Path) -> None:
    # as of 05/03/2026: March holds 5 of 31 days (line 1 only), too young to compare
    with Workspace.open(company, read_only=True) as ws:
        board = ceo_dashboard(ws, as_of=date(2026, 3, 5))
    active = tile(board, "active_customers")
    assert (active["period"], active["value"], active["previous"]) == ("2026-03-01", 1, None)
    assert active["partial"]["text_en"] == "partial: 5 of 31 days"
    assert not active["partial"]["comparable"]
    assert active["change_display"]["text_en"] is None
