"""Team targets: target_attainment and pipeline_coverage by team use a team's own target rows,
else the sum of its reps' rows; on every engine, on the hand-made workspace plus two team rows."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesradar.metrics import compute_kpi, kpi_records

from .conftest import load_tables
from .data import TABLE_ROWS, arrow_table, tables

FEB, MAR = "2024-02-01", "2024-03-01"
SPAN = (date(2024, 2, 1), date(2024, 3, 31))
TEAM_ROWS = [  # rep_id empty: a team target
    {"team": "A", "period": date(2024, 3, 1), "grain": "month", "metric": "revenue",
     "value": 2000.0},
    {"team": "B", "period": date(2024, 2, 1), "grain": "month", "metric": "revenue",
     "value": 50.0},
]


@pytest.fixture
def with_team_targets(scratch: Any) -> Any:
    """The shared scratch backend, loaded for each test (other tests load their own rows)."""
    data = tables()
    data["targets"] = arrow_table("targets", [*TABLE_ROWS["targets"], *TEAM_ROWS])
    return load_tables(scratch, data)


def _values(backend: Any, name: str, by: tuple[str, ...]) -> dict[tuple[Any, ...], Any]:
    rows = kpi_records(compute_kpi(backend, name, by, "month", *SPAN, persist=False))
    return {(r["period"], *(r[c] for c in ("team",) if c in r)): r["value"] for r in rows}


def test_attainment_by_team(with_team_targets: Any) -> None:
    # team A = r1, r2; team B = r3. Revenue Feb: A r1 110 + r2 210 = 320, B none;
    # Mar: A r1 40 + r2 55 = 95.
    # Feb A has no team row: r1 100 + r2 300 = 400 -> 320/400. Feb B's team row 50, no revenue.
    # Mar A's team row 2000 replaces r1 1200 + r2 500: 95/2000.
    got = _values(with_team_targets, "target_attainment", ("team",))
    assert got[(FEB, "A")] == pytest.approx(0.8)
    assert got[(FEB, "B")] is None
    assert got[(MAR, "A")] == pytest.approx(95 / 2000)


def test_coverage_by_team_and_company(with_team_targets: Any) -> None:
    # open deals closing in Mar: D5 2000 + D6 1000 (r1), D7 500 (r2) = 3500 for A; won D8 400.
    # Mar A: 3500 / (2000 - 400). February is over by the deals' last day (March): its
    # coverage is unknown, not 0 / (400 - 300) for A or 0 / 50 for B
    got = _values(with_team_targets, "pipeline_coverage", ("team",))
    assert got == pytest.approx({(FEB, "A"): None, (FEB, "B"): None, (MAR, "A"): 3500 / 1600})
    # company = sum over teams: Mar 2000 (A's own row; B none)
    company = _values(with_team_targets, "pipeline_coverage", ())
    assert company == pytest.approx({(FEB,): None, (MAR,): 3500 / 1600})


def test_rep_rows_are_unchanged(with_team_targets: Any) -> None:
    # by rep only rep rows count: Mar r1 3000 / 1200 = 2.5, as without the team rows
    rows = kpi_records(compute_kpi(with_team_targets, "pipeline_coverage", ("rep",), "month",
                                   *SPAN, persist=False))
    assert {(r["period"], r["rep_id"]): r["value"] for r in rows}[(MAR, "r1")] == 2.5
