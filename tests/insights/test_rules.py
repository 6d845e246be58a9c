"""Insight rules: every kind on a demo company (recall against the planted truth), dedup across
runs, and small hand-made cases at the thresholds."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from salesradar.demo import generate
from salesradar.errors import UserInputError
from salesradar.insights import Insight, Kind
from salesradar.insights.audit import audit_insights
from salesradar.insights.generate import available_kinds, generate_insights, priority, run_insights
from salesradar.insights.rules import RuleSettings, quarter_windows
from salesradar.insights.texts import money
from salesradar.io.folder import import_folder
from salesradar.models.scoring import score_workspace
from salesradar.workspace import Workspace

from .insight_helpers import memory_store

HEBREW = re.compile(r"[\u05d0-\u05ea]")
RUN_AT = dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC)

# recall floors: over every planted subject, and within scope (what a rule can see as of the day)
RECALL_FLOORS: dict[Kind, tuple[float, float]] = {
    Kind.CHURN_RISK: (0.65, 0.6),  # a customer that stopped days ago is not overdue yet
    Kind.STOPPED_ITEM: (0.7, 0.7),
    Kind.LEAD_NOT_CONTACTED: (0.9, 0.95),
    Kind.SINGLE_THREADED_ACCOUNT: (0.7, 0.9),
    # most late payers show no churn risk: 2 to 6 of the 21 cross the 0.3 churn-risk threshold
    # with the booster's seed alone (seeds 0-4: 5, 6, 5, 5, 2 without the "this season last
    # year" features, 2, 5, 4, 5, 4 with them), so the floor is 2 of 21; in scope it stays 0.9
    Kind.OVERDUE_PAYMENTS_AT_RISK: (0.09, 0.9),
}


@dataclass(frozen=True)
class Demo:
    ws: Workspace
    truth: Path
    insights: list[Insight]


INSERT_LINES = ("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, customer_id, sku, "
                "quantity, net_revenue, cost, rep_id, channel) VALUES")

@pytest.fixture(scope="module")

def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    folder = tmp_path_factory.mktemp("insights")
    generate(folder / "data", customers=300, years=2, seed=7)
    with Workspace.open(folder / "ws.duckdb") as ws:
        import_folder(ws, folder / "data")
        score_workspace(ws)
        yield Demo(ws, folder / "data" / "truth", generate_insights(ws))


def _truth(demo: Demo, name: str) -> list[dict[str, str]]:
    with (demo.truth / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _subjects(demo: Demo, kind: Kind) -> set[str]:
    if kind == Kind.STOPPED_ITEM:  # one card per customer holds its stopped items
        return {f"{i.subject.id}/{item['sku']}" for i in demo.insights if i.kind == kind
                for item in i.evidence["items"]}
    return {i.subject.id for i in demo.insights if i.kind == kind}


def _planted(demo: Demo) -> dict[Kind, set[str]]:
    return {
        Kind.CHURN_RISK: {r["customer_id"] for r in _truth(demo, "churned_customers")
                          if r["churned_before_end"] == "true"},
        Kind.STOPPED_ITEM: {f"{r['customer_id']}/{r['sku']}"
                            for r in _truth(demo, "dropped_pairs")},
        Kind.LEAD_NOT_CONTACTED: {r["lead_id"] for r in _truth(demo, "uncontacted_leads")},
        Kind.SINGLE_THREADED_ACCOUNT: {r["customer_id"]
                                       for r in _truth(demo, "single_threaded_customers")},
        Kind.OVERDUE_PAYMENTS_AT_RISK: {r["customer_id"] for r in _truth(demo, "late_payers")},
    }


def _in_scope(demo: Demo) -> dict[Kind, set[str]]:
    """The planted subjects a rule can see as of the scoring day (see the report)."""
    con = demo.ws.con
    as_of = con.execute("SELECT max(as_of) FROM score_churn").fetchone()[0]  # type: ignore[index]
    now = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    rules = RuleSettings()
    return {
        # churned within the last 12 months (older ones are long lost, still flagged as win-backs)
        Kind.CHURN_RISK: {r["customer_id"] for r in _truth(demo, "churned_customers")
                          if r["churned_before_end"] == "true"
                          and dt.date.fromisoformat(r["churned_at"])
                          > as_of - dt.timedelta(days=365)},
        Kind.STOPPED_ITEM: _planted(demo)[Kind.STOPPED_ITEM],
        # created before the moment judged
        Kind.LEAD_NOT_CONTACTED: {r["lead_id"] for r in _truth(demo, "uncontacted_leads")
                                  if dt.datetime.fromisoformat(r["created_at"]) <= now},
        # still buying in the last 12 months
        Kind.SINGLE_THREADED_ACCOUNT: {
            r["customer_id"] for r in _truth(demo, "single_threaded_customers")
            if con.execute("SELECT count(*) FROM invoice_lines WHERE customer_id = ? AND "
                           "invoice_date > ?::DATE - 365", [r["customer_id"], as_of]
                           ).fetchone()[0]},  # type: ignore[index]
        # owing overdue money as of the day judged and at churn risk
        Kind.OVERDUE_PAYMENTS_AT_RISK: {
            r["customer_id"] for r in _truth(demo, "late_payers")
            if con.execute(
                "SELECT count(*) FROM payments p JOIN score_churn s USING (customer_id) "
                "WHERE p.customer_id = ? AND p.due_date < ? AND (p.paid_date IS NULL OR "
                "p.paid_date > ?) AND s.churn_probability >= ?",
                [r["customer_id"], as_of, as_of, rules.overdue_min_probability],
            ).fetchone()[0]},  # type: ignore[index]
    }


def recall_table(demo: Demo) -> dict[Kind, tuple[int, int, float, int, int, float, int]]:
    """kind -> (planted, found, recall, in scope, found, recall in scope, insights)."""
    out = {}
    scope = _in_scope(demo)
    for kind, planted in _planted(demo).items():
        found = _subjects(demo, kind)
        hit, hit_scope = len(planted & found), len(scope[kind] & found)
        out[kind] = (len(planted), hit, hit / max(len(planted), 1), len(scope[kind]),
                     hit_scope, hit_scope / max(len(scope[kind]), 1), len(found))
    return out


# --------------------------------------------------------------------------- the demo company
def test_every_kind_with_data_produces_insights(demo: Demo) -> None:
    kinds = {i.kind for i in demo.insights}
    expected = set(available_kinds(demo.ws)) - {Kind.ACTIVE_CUSTOMERS_DROP, Kind.CONCENTRATION}
    # the demo plants no unexplained drop and no customer above 15% of revenue
    assert expected <= kinds, sorted(expected - kinds)
    assert len(kinds) >= 9
    assert len({i.dedup_key for i in demo.insights}) == len(demo.insights)


def test_texts_owner_priority_and_evidence(demo: Demo) -> None:
    reps = {r[0] for r in demo.ws.con.execute("SELECT rep_id FROM reps").fetchall()}
    for i in demo.insights:
        for texts in (i.en, i.he):
            assert texts.what and texts.why and texts.next_step, i.dedup_key
        assert HEBREW.search(i.he.what + i.he.why + i.he.next_step), i.dedup_key
        assert i.owner_rep_id in reps, i.dedup_key
        assert i.manager_id is not None or i.owner_rep_id == "R01", i.dedup_key
        assert i.team, i.dedup_key
        assert 1 <= i.priority <= 100
        assert i.value_at_stake >= 0
        numbers = [v for v in i.evidence.values()
                   if isinstance(v, int | float) and not isinstance(v, bool)]
        assert numbers, i.dedup_key
        assert re.search(r"\d", i.en.why) and re.search(r"\d", i.he.why), i.dedup_key
    assert demo.insights == sorted(demo.insights,
                                   key=lambda i: (-i.priority, -i.value_at_stake, i.dedup_key))


def test_churn_wording_states_the_rhythm(demo: Demo) -> None:
    i = next(i for i in demo.insights if i.kind == Kind.CHURN_RISK and not i.evidence["lost"])
    assert re.match(r"orders every ~\d+ days; last order \d+ days ago \((past|within) its "
                    r"rhythm[^)]*\); ₪[\d.]+[kM]? at stake: its net purchases in the year to "
                    r"its last order; churn risk \d+%", i.en.why), i.en.why
    if i.evidence["situation"] == "past_rhythm":
        assert "drifting from its rhythm" in i.en.what
        assert "(past its rhythm; its longest pause before was " in i.en.why
        assert i.evidence["days_since_last_order"] > i.evidence["median_gap_days"]
        assert i.evidence["days_since_last_order"] > i.evidence["longest_gap_days"]
    lost = next(i for i in demo.insights if i.kind == Kind.CHURN_RISK and i.evidence["lost"])
    assert "stopped ordering" in lost.en.what and "win-back" in lost.en.next_step


def test_recall_of_planted_situations(demo: Demo) -> None:
    table = recall_table(demo)
    print("\nkind | planted | found | recall | in scope | found | recall in scope | insights")
    for kind, (n, hit, recall, n_scope, hit_scope, recall_scope, found) in table.items():
        print(f"{kind.value} | {n} | {hit} | {recall:.2f} | {n_scope} | {hit_scope} | "
              f"{recall_scope:.2f} | {found}")
    for kind, (floor, floor_in_scope) in RECALL_FLOORS.items():
        assert table[kind][2] >= floor, (kind, table[kind])
        assert table[kind][5] >= floor_in_scope, (kind, table[kind])


def test_concentration_and_drops_on_the_demo(demo: Demo) -> None:
    big = [r["customer_id"] for r in _truth(demo, "big_customers")]
    loose = RuleSettings(concentration_threshold=0.1, anomaly_k=0.5, anomaly_min_drop=0.05)
    found = generate_insights(demo.ws, settings=loose,
                              kinds=[Kind.CONCENTRATION, Kind.ACTIVE_CUSTOMERS_DROP])
    concentrated = [i.subject.id for i in found if i.kind == Kind.CONCENTRATION]
    assert concentrated and set(concentrated) <= set(big[:3])
    assert "10% concentration threshold" in found[0].en.why
    named = 0
    for i in found:
        if i.kind == Kind.ACTIVE_CUSTOMERS_DROP:
            assert i.subject.type == "rep" and i.owner_rep_id == i.subject.id.split("/")[0]
            assert i.evidence["value"] < i.evidence["expected"]
            for c in i.evidence["customers"]:  # named from the master data, as the card says
                named += c["name"] is not None
                master = demo.ws.con.execute("SELECT name FROM customers WHERE customer_id = ?",
                                             [c["customer_id"]]).fetchone()
                assert c["name"] == (master[0] if master else None)
                assert c["name"] is None or c["name"] in i.en.why or len(
                    i.evidence["customers"]) > 5
    assert named > 0


def test_forecast_flags_the_over_committing_reps(demo: Demo) -> None:
    biased = {r["rep_id"] for r in _truth(demo, "forecast_bias") if float(r["commit_bias"]) > 1}
    flagged = {i.owner_rep_id for i in demo.insights if i.kind == Kind.FORECAST_AT_RISK}
    assert flagged and flagged <= biased


def test_margin_erosion_points_at_the_eroding_category(demo: Demo) -> None:
    eroding = {r["category"] for r in _truth(demo, "margin_erosion") if r["eroding"] == "true"}
    found = [i for i in demo.insights if i.kind == Kind.MARGIN_EROSION]
    assert found
    drivers = [i.evidence.get("driver_category") for i in found]
    print("\nmargin erosion drivers:", drivers, "planted:", sorted(eroding))
    assert any(d in eroding for d in drivers)


def test_run_twice_creates_nothing_new(demo: Demo) -> None:
    store = memory_store()
    first = run_insights(demo.ws, store, run_at=RUN_AT)
    assert first["new"] == first["total"] == len(demo.insights)
    second = run_insights(demo.ws, store, run_at=RUN_AT + dt.timedelta(days=1))
    assert (second["new"], second["resolved"], second["reopened"]) == (0, 0, 0)
    assert second["unchanged"] == first["total"]
    assert sum(second["kinds"].values()) == second["total"]
    assert set(second["kinds"]) == {k.value for k in available_kinds(demo.ws)}


def test_missing_scores_are_a_clear_error(ws: Workspace) -> None:
    with pytest.raises(UserInputError, match="run salesradar score first"):
        generate_insights(ws)
    with pytest.raises(UserInputError, match="run salesradar score first"):
        run_insights(ws, memory_store())


# ---------------------------------------------------------------------------- hand-made cases
def _reps(ws: Workspace) -> None:
    ws.con.execute("""INSERT INTO reps (rep_id, name, team, manager_id, model) VALUES
        ('M', 'Manager', 'Sales', NULL, NULL), ('C1', 'Centre Rep', 'Centre', 'M', 'centre'),
        ('A1', 'Account Rep', 'Keys', 'M', 'account'),
        ('A2', 'Second Rep', 'Keys', 'M', 'account')""")


def test_lead_sla_boundary(ws: Workspace) -> None:
    _reps(ws)
    now = dt.datetime(2026, 11, 24, 12, 0)
    ws.con.execute("""INSERT INTO leads (lead_id, created_at, owner_rep_id, status) VALUES
        ('L-at-sla', ?, 'C1', 'new'), ('L-late', ?, 'C1', 'new'),
        ('L-called', ?, 'C1', 'new'), ('L-closed', ?, 'C1', 'disqualified'),
        ('L-account', ?, 'A1', 'new')""",
                   [now - dt.timedelta(hours=24), now - dt.timedelta(hours=24, minutes=1),
                    now - dt.timedelta(hours=30), now - dt.timedelta(hours=30),
                    now - dt.timedelta(hours=30)])
    ws.con.execute("""INSERT INTO activities (activity_id, kind, rep_id, lead_id, "at")
                      VALUES ('A1', 'call', 'C1', 'L-called', ?)""",
                   [now - dt.timedelta(hours=1)])
    found = generate_insights(ws, now.replace(tzinfo=dt.UTC), kinds=[Kind.LEAD_NOT_CONTACTED])
    assert [i.subject.id for i in found] == ["L-late"]  # account reps get 72 h
    (i,) = found
    assert (i.owner_rep_id, i.manager_id, i.team) == ("C1", "M", "Centre")
    assert i.evidence["sla_hours"] == 24 and "24 hours" in i.en.why
    strict = RuleSettings(lead_sla_hours_account=24)
    found = generate_insights(ws, now.replace(tzinfo=dt.UTC), settings=strict,
                              kinds=[Kind.LEAD_NOT_CONTACTED])
    assert {i.subject.id for i in found} == {"L-late", "L-account"}


def _lines(ws: Workspace, revenue: dict[str, float], day: dt.date) -> None:
    rows = [(f"I-{c}", 1, day, c, "SKU-1", 1.0, v, v / 2, "A1", "direct")
            for c, v in revenue.items()]
    ws.con.executemany(INSERT_LINES + " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    ws.con.executemany("INSERT INTO customers (customer_id, name, rep_id) VALUES (?, ?, 'A1')",
                       [(c, f"Customer {c}") for c in revenue])


def test_concentration_threshold(ws: Workspace) -> None:
    _reps(ws)
    day = dt.date(2026, 10, 1)
    # shares: BIG 20%, EDGE exactly 15% (not above), the rest 5% each
    _lines(ws, {"BIG": 200.0, "EDGE": 150.0, **{f"S{k}": 50.0 for k in range(13)}}, day)
    found = generate_insights(ws, day, kinds=[Kind.CONCENTRATION])
    assert [i.subject.id for i in found] == ["BIG"]
    assert found[0].evidence["share"] == pytest.approx(0.2)
    assert found[0].en.what == "Customer BIG is 20% of the last year's revenue"
    assert HEBREW.search(found[0].he.what)
    _truthful(ws, found)
    looser = RuleSettings(concentration_threshold=0.149)
    found = generate_insights(ws, day, settings=looser, kinds=[Kind.CONCENTRATION])
    assert {i.subject.id for i in found} == {"BIG", "EDGE"}
    # revenue older than 12 months does not count
    later = generate_insights(ws, day + dt.timedelta(days=400), kinds=[Kind.CONCENTRATION])
    assert later == []


def test_pipeline_coverage_below_and_at_three(ws: Workspace) -> None:
    _reps(ws)
    nov = dt.date(2026, 11, 1)
    ws.con.execute("""INSERT INTO targets (rep_id, period, grain, metric, value) VALUES
        ('A1', ?, 'month', 'revenue', 100), ('A2', ?, 'month', 'revenue', 100),
        ('C1', ?, 'month', 'revenue', 100)""", [nov, nov, nov])
    ws.con.execute("""INSERT INTO deals (deal_id, owner_rep_id, amount, close_date, outcome,
                                         forecast_category) VALUES
        ('D1', 'A1', 20, '2026-11-03', 'won', 'closed'),
        ('D2', 'A1', 240, '2026-11-20', 'open', 'commit'),
        ('D3', 'A2', 299, '2026-11-25', 'open', 'pipeline'),
        ('D4', 'A2', 500, '2026-12-05', 'open', 'pipeline')""")
    found = generate_insights(ws, dt.date(2026, 11, 10), kinds=[Kind.PIPELINE_COVERAGE_LOW])
    # A1: 240 / (100 - 20) = 3.0 -> fine; A2: 299 / 100 < 3; C1 is a centre rep: not judged
    assert [i.subject.id for i in found] == ["A2/2026-11"]
    (i,) = found
    assert i.evidence["coverage"] == pytest.approx(2.99)
    assert i.value_at_stake == 100
    assert "coverage 2.99x, below 3x" in i.en.why
    _truthful(ws, found)
    # near the end of November the rule looks at December instead
    late = generate_insights(ws, dt.date(2026, 11, 28), kinds=[Kind.PIPELINE_COVERAGE_LOW])
    assert late == []  # no December targets


def test_forecast_uses_run_rate_or_weighted_pipeline(ws: Workspace) -> None:
    _reps(ws)
    nov = dt.date(2026, 11, 1)
    ws.con.execute("""INSERT INTO forecast_submissions (rep_id, period, grain, submitted_at,
                                                        category, amount) VALUES
        ('A1', ?, 'month', '2026-11-01 08:00', 'commit', 999),
        ('A1', ?, 'month', '2026-11-02 08:00', 'commit', 300),
        ('A2', ?, 'month', '2026-11-02 08:00', 'commit', 300)""", [nov, nov, nov])
    # 15 of 30 days gone: A1 invoiced 100 (run rate adds 100), A2 invoiced 100 plus a commit
    # deal of 200 closing later this month (weighted 0.8 -> 160)
    _lines(ws, {"X": 100.0}, dt.date(2026, 11, 5))
    ws.con.execute(INSERT_LINES + """
        ('I-Y', 1, '2026-11-06', 'Y', 'SKU-1', 1, 100, 50, 'A2', 'direct')""")
    ws.con.execute("""INSERT INTO deals (deal_id, owner_rep_id, amount, close_date, outcome,
                                         forecast_category) VALUES
        ('D1', 'A2', 200, '2026-11-25', 'open', 'commit')""")
    found = generate_insights(ws, dt.date(2026, 11, 15), kinds=[Kind.FORECAST_AT_RISK])
    # A1: latest commit 300 vs 100 + 100 = 200 < 270 -> at risk; A2: 100 + 160 = 260 < 270
    assert [i.subject.id for i in found] == ["A1/2026-11", "A2/2026-11"]
    a1 = found[0]
    assert (a1.evidence["forecast"], a1.evidence["projected"]) == (300, pytest.approx(200))
    assert a1.value_at_stake == pytest.approx(100)
    _truthful(ws, found)
    lenient = RuleSettings(forecast_tolerance=0.15)  # A2: 260 >= 255 -> fine
    found = generate_insights(ws, dt.date(2026, 11, 15), settings=lenient,
                              kinds=[Kind.FORECAST_AT_RISK])
    assert [i.subject.id for i in found] == ["A1/2026-11"]
    # too early in the month to judge
    assert generate_insights(ws, dt.date(2026, 11, 3), kinds=[Kind.FORECAST_AT_RISK]) == []


def test_margin_erosion_against_the_same_quarter_a_year_before(ws: Workspace) -> None:
    _reps(ws)
    ws.con.execute("INSERT INTO customers (customer_id, name, rep_id) VALUES "
                   "('E', 'Eroding Ltd', 'A1'), ('K', 'Keeping Ltd', 'A2')")
    ws.con.execute(INSERT_LINES + """
        ('1', 1, '2025-08-01', 'E', 'S', 1, 10000, 6000, 'A1', 'direct'),
        ('2', 1, '2025-08-01', 'K', 'S', 1, 10000, 6000, 'A2', 'direct'),
        ('3', 1, '2026-08-01', 'E', 'S', 1, 10000, 7000, 'A1', 'direct'),
        ('4', 1, '2026-08-01', 'K', 'S', 1, 10000, 6100, 'A2', 'direct')""")
    found = generate_insights(ws, dt.date(2026, 10, 30), kinds=[Kind.MARGIN_EROSION])
    assert [i.subject.id for i in found] == ["E"]  # K lost 1 point only
    (i,) = found
    assert i.owner_rep_id == "A1" and i.value_at_stake == pytest.approx(1000)
    assert "30.0% in 01/07/2026–30/09/2026 vs 40.0% in 01/07/2025–30/09/2025" in i.en.why
    assert i.evidence["driver_sku"] == "S" and "S alone took 10.0 points" in i.en.why
    _truthful(ws, found)


def test_margin_needs_a_year_ago_quarter_worth_comparing(ws: Workspace) -> None:
    """T bought one 6.30 item at 90% margin a year ago and 10,000 at 30% now: its 60-point
    "drop" (6,000 lost by the rule's arithmetic) compares with one small line, and is not told
    (``margin_min_base_share`` 0.25: the year-ago quarter needs 2,500 of costed sales).
    E: S at 40% both times (10,000), and a year ago G, 6,000 at 80%, not bought now: 8,800 of
    16,000 (55%) against 4,000 of 10,000 (40%), 1,500 lost; G's part: 0 - 4,800 / 16,000 =
    -30 points, S's +15. The card says G took them and is no longer bought."""
    _reps(ws)
    ws.con.execute("INSERT INTO customers (customer_id, name, rep_id) VALUES "
                   "('T', 'Tiny Base Ltd', 'A1'), ('E', 'Eroding Ltd', 'A2')")
    ws.con.execute(INSERT_LINES + """
        ('1', 1, '2025-08-01', 'T', 'L', 1, 6.30, 0.63, 'A1', 'direct'),
        ('2', 1, '2026-08-01', 'T', 'S', 1, 10000, 7000, 'A1', 'direct'),
        ('3', 1, '2025-08-01', 'E', 'S', 1, 10000, 6000, 'A2', 'direct'),
        ('4', 2, '2025-08-01', 'E', 'G', 1, 6000, 1200, 'A2', 'direct'),
        ('5', 1, '2026-08-01', 'E', 'S', 1, 10000, 6000, 'A2', 'direct')""")
    day = dt.date(2026, 10, 30)
    found = generate_insights(ws, day, kinds=[Kind.MARGIN_EROSION])
    assert [i.subject.id for i in found] == ["E"]
    (e,) = found
    assert e.value_at_stake == pytest.approx(1500)
    assert "40.0% in 01/07/2026–30/09/2026 vs 55.0% in 01/07/2025–30/09/2025" in e.en.why
    assert e.en.why.endswith("G alone took 30.0 points (not bought in the last quarter)")
    assert e.he.why.endswith("(לא נקנה ברבעון האחרון)")
    _truthful(ws, found)
    looser = RuleSettings(margin_min_base_share=0.0)
    found = generate_insights(ws, day, settings=looser, kinds=[Kind.MARGIN_EROSION])
    assert sorted(i.subject.id for i in found) == ["E", "T"]


# -------------------------------------------------------------------------------- helpers
def _truthful(ws: Workspace, insights: list[Insight]) -> None:
    """Every claim behind the insights recomputes from the raw rows (the truth audit)."""
    report = audit_insights(ws, insights, explanations=False)
    assert report.false_claims == 0, report.to_dict()["disagreements"]


def test_priority_money_and_quarters() -> None:
    assert priority(0.0, 0.0, 250_000) == 1
    assert priority(250_000, 1.0, 250_000) == 100
    assert priority(1_000, 0.5, 250_000) < priority(100_000, 0.5, 250_000)
    assert [money(v) for v in (850, 3_812, 38_250, 1_234_567)] == [
        "₪850", "₪3.8k", "₪38k", "₪1.2M"]
    assert quarter_windows(dt.date(2026, 10, 30)) == (
        (dt.date(2025, 7, 1), dt.date(2025, 10, 1)), (dt.date(2026, 7, 1), dt.date(2026, 10, 1)))
    assert quarter_windows(dt.date(2026, 9, 30))[1] == (dt.date(2026, 7, 1), dt.date(2026, 10, 1))


def test_tied_revenue_ranks_in_customer_order() -> None:
    """Equal revenues get their rank in customer order, the same on every run (the engine's
    threads once gave 11,236 or 11,237 to the same customer from one run to the next)."""
    from salesradar.insights.rules import Context, single_threaded_account

    ws = Workspace.open(":memory:")
    for n, customer in enumerate(("C3", "C2", "C1")):  # inserted in reverse order
        ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, "
                       "customer_id, sku, quantity, net_revenue) VALUES (?, 1, ?, ?, 'A', 1, 100)",
                       [f"I{n}", dt.date(2026, 3, 1), customer])
    ws.con.execute("CREATE TABLE score_tiers (customer_id VARCHAR, tier VARCHAR)")
    settings = RuleSettings(single_thread_top_n=2, single_thread_tiers=(),
                            single_thread_models=())
    ctx = Context(ws, dt.date(2026, 3, 31), dt.datetime(2026, 3, 31, 23, 59), settings)
    found = single_threaded_account(ctx)
    assert [(f.subject.id, f.evidence["revenue_rank"]) for f in found] == [("C1", 1), ("C2", 2)]
