"""The refresh behind `salesradar run`: teams take their operating model from their reps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from helpers import INVOICE_HEADER, write_csv
from salesradar.app import AppDB
from salesradar.errors import UserInputError
from salesradar.insights import InsightStore
from salesradar.pipeline import adopt_team_models, refresh
from salesradar.workspace import Workspace


def test_unconfigured_teams_take_their_reps_model_and_explicit_settings_win() -> None:
    db = AppDB.open("sqlite://")
    db.set_team_settings("key accounts", operating_model="centre", daily_limit_per_rep=5)
    reps = [
        {"rep_id": "R1", "team": "inbound", "model": "centre"},
        {"rep_id": "R2", "team": "inbound", "model": "centre"},
        {"rep_id": "R3", "team": "inbound", "model": "account"},
        {"rep_id": "R4", "team": "seniors", "model": "account"},
        {"rep_id": "R5", "team": "key accounts", "model": "account"},
        {"rep_id": "R6", "team": None, "model": "account"},
    ]
    assert adopt_team_models(db, reps) == {"inbound": "centre", "seniors": "account"}
    assert db.team_settings("seniors").operating_model == "account"
    assert db.team_settings("key accounts").operating_model == "centre"  # set by hand: kept
    assert adopt_team_models(db, reps) == {}  # second run: all configured now


def test_a_webhook_without_its_secret_stops_the_run_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESRADAR_WEBHOOK_URL", "https://hooks.example.test/salesradar")
    monkeypatch.delenv("SALESRADAR_WEBHOOK_SECRET", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    write_csv(data / "invoice_lines.csv", INVOICE_HEADER, ["A,1,2024-01-05,C1,S1,1,10,5,R1"])
    stages: list[str] = []
    with Workspace.open(tmp_path / "ws.duckdb") as ws, AppDB.open("sqlite://") as db:
        with pytest.raises(UserInputError, match="SALESRADAR_WEBHOOK_SECRET") as caught:
            refresh(ws, InsightStore(db), data=data, progress=stages.append)
        assert "--no-deliver" in str(caught.value)
        assert stages == []  # not even the import started
        assert ws.row_count("invoice_lines") == 0


def test_the_same_data_give_the_same_insights_run_after_run(tmp_path: Path) -> None:
    """Two refreshes on unchanged data: the second scores again and finds every insight exactly
    as it was (nothing "updated"): the models are seeded and the evidence is rounded."""
    from salesradar.demo import generate
    from salesradar.pipeline import run

    generate(tmp_path / "data", customers=120, years=2, seed=5)
    store = InsightStore(AppDB.open("sqlite://"))
    first = run(tmp_path / "ws.duckdb", store, data=tmp_path / "data", deliver=False)
    assert first.insights["new"] == first.insights["total"] > 0
    second = run(tmp_path / "ws.duckdb", store, deliver=False)
    assert second.insights["updated"] == second.insights["new"] == 0
    assert second.insights["unchanged"] == first.insights["total"]
    # nothing changed, so the scores were kept; --full scores anew, to the same insights
    assert (first.scores["reused"], second.scores["reused"]) == (False, True)
    assert second.scores["rows"] == first.scores["rows"]
    third = run(tmp_path / "ws.duckdb", store, deliver=False, full=True)
    assert third.scores["reused"] is False and third.insights["updated"] == 0
    # a new line is a change: scored anew
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        day = ws.con.execute("SELECT max(invoice_date) FROM invoice_lines").fetchone()[0]
        customer = ws.con.execute("SELECT min(customer_id) FROM invoice_lines").fetchone()[0]
    (tmp_path / "new").mkdir()
    write_csv(tmp_path / "new" / "invoice_lines.csv", INVOICE_HEADER, [
        f"NEW-1,1,{day},{customer},SKU-NEW,1,100,60,R01"])
    fourth = run(tmp_path / "ws.duckdb", store, data=tmp_path / "new", deliver=False)
    assert fourth.scores["reused"] is False


def _stored(store: InsightStore) -> dict[str, tuple[object, ...]]:
    """Every stored insight as the user sees it: status, round, value, priority, texts."""
    return {i.dedup_key: (i.status, i.value_at_stake, i.priority, i.en.what, i.en.why,
                          i.he.what)
            for i in store.list_insights()}


def test_a_refresh_of_unchanged_data_keeps_what_the_last_one_computed(tmp_path: Path) -> None:
    """Nothing changed since the last refresh: the insights are marked seen again without copying
    the workspace or scoring anything, and that equals computing everything again."""
    import datetime as dt

    from sqlalchemy import update

    from salesradar.app import InsightRow
    from salesradar.app.settings import set_setting
    from salesradar.demo import generate
    from salesradar.insights import run_insights
    from salesradar.pipeline import run

    generate(tmp_path / "data", customers=120, years=2, seed=5)
    path = tmp_path / "ws.duckdb"
    store = InsightStore(AppDB.open(f"sqlite:///{tmp_path / 'app.sqlite'}"))
    first = run(path, store, data=tmp_path / "data", deliver=False)
    assert first.unchanged_since is None
    before = _stored(store)
    inode = path.stat().st_ino  # a refresh that computes publishes a new file
    # a snooze that has run out reopens its insight, as a full refresh would
    snoozed = next(i for i in store.list_insights() if not i.holdout)
    with store.db.session() as s:
        s.execute(update(InsightRow).where(InsightRow.id == snoozed.id).values(
            status="snoozed", snoozed_until=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)))

    kept = run(path, store, deliver=False)
    assert kept.unchanged_since is not None and kept.scores["reused"] is True
    assert path.stat().st_ino == inode  # not copied, not published
    assert kept.insights["reopened"] == 1 and kept.insights["new"] == 0
    assert kept.insights["unchanged"] + 1 == kept.insights["total"] == first.insights["total"]
    assert store.get(snoozed.id).status == "new" and store.get(snoozed.id).round == 2
    seen = {i.last_seen_at for i in store.list_insights() if i.status != "resolved"}
    assert len(seen) == 1 and seen.pop() > min(i.first_seen_at for i in store.list_insights())
    assert _stored(store) == {**before, snoozed.dedup_key: before[snoozed.dedup_key]}

    # computing it all again finds exactly what was kept
    full = run(path, store, deliver=False, full=True)
    assert full.unchanged_since is None and path.stat().st_ino != inode
    assert (full.insights["new"], full.insights["updated"], full.insights["resolved"]) == (0, 0, 0)
    assert _stored(store) == {**before, snoozed.dedup_key: before[snoozed.dedup_key]}

    # the same files imported again change nothing: still kept afterwards
    again = run(path, store, data=tmp_path / "data", deliver=False)
    assert again.unchanged_since is None and again.scores["reused"] is True
    assert run(path, store, deliver=False).unchanged_since is not None

    # a setting, or insights written by another run, make the next refresh compute
    set_setting(store.db, "churn_min_value", "1")
    assert run(path, store, deliver=False).unchanged_since is None
    assert run(path, store, deliver=False).unchanged_since is not None
    with Workspace.open(path, read_only=True) as ws:
        run_insights(ws, store)
    assert run(path, store, deliver=False).unchanged_since is None



def test_a_day_of_new_lines_finds_the_stopped_items_of_a_refresh_from_scratch(
    tmp_path: Path,
) -> None:
    """The day's refresh computes the pair facts again only for the customers invoiced that day
    (:func:`~salesradar.models.stopped_items.kept_pair_facts`), and finds exactly the stopped
    items that a refresh of the same data from an empty workspace finds."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.csv as pv

    from salesradar.demo import generate
    from salesradar.models.stopped_items import PAIR_FACTS_TABLE
    from salesradar.pipeline import run

    everything = tmp_path / "everything"
    generate(everything, customers=120, years=2, seed=5)
    lines = pv.read_csv(everything / "invoice_lines.csv")
    last = pc.equal(lines["invoice_date"], pc.max(lines["invoice_date"]))
    before, day = tmp_path / "before", tmp_path / "day"
    shutil.copytree(everything, before)
    day.mkdir()
    pv.write_csv(lines.filter(pc.invert(last)), before / "invoice_lines.csv")
    pv.write_csv(lines.filter(last), day / "invoice_lines.csv")
    assert 0 < pc.sum(last).as_py() < lines.num_rows

    def stopped(path: Path) -> tuple[object, ...]:
        with Workspace.open(path) as ws:
            return tuple(ws.con.execute(f"FROM {table} ORDER BY ALL").fetchall()
                         for table in ("score_stopped_items", PAIR_FACTS_TABLE))

    store = InsightStore(AppDB.open("sqlite://"))
    run(tmp_path / "daily.duckdb", store, data=before, deliver=False)
    daily = run(tmp_path / "daily.duckdb", store, data=day, deliver=False)
    assert daily.scores["reused"] is False
    scratch = InsightStore(AppDB.open("sqlite://"))
    run(tmp_path / "scratch.duckdb", scratch, data=everything, deliver=False)
    found, expected = stopped(tmp_path / "daily.duckdb"), stopped(tmp_path / "scratch.duckdb")
    assert len(expected[0]) > 0
    assert found == expected


def test_a_run_on_unchanged_data_loads_no_model_or_dataframe_library(tmp_path: Path) -> None:
    """`salesradar run` with nothing changed answers from what it kept, in a process that never
    imports pandas, Ibis, scikit-learn or LightGBM: importing them is seconds, more than the
    whole answer takes (pyarrow, for one, imports pandas when it builds a table)."""
    import json
    import os
    import subprocess
    import sys

    from salesradar.demo import generate

    generate(tmp_path / "data", customers=60, years=2, seed=3)
    env = {**os.environ, "SALESRADAR_WORKSPACE": str(tmp_path / "run.duckdb")}
    command = ["run", "--no-deliver", "--top", "0", "--json"]
    probe = (
        "import json, sys\n"
        "from salesradar.cli.main import main\n"
        f"sys.argv = ['salesradar', *{command!r}, *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "heavy = ('pandas', 'ibis', 'sklearn', 'lightgbm')\n"
        "print(json.dumps({m: m in sys.modules for m in heavy}), file=sys.stderr)\n"
    )

    def cli(*extra: str) -> tuple[dict[str, object], dict[str, bool]]:
        done = subprocess.run([sys.executable, "-c", probe, *extra], env=env,
                              capture_output=True, text=True, check=True, timeout=600)
        return json.loads(done.stdout), json.loads(done.stderr.strip().splitlines()[-1])

    first, loaded = cli("--data", str(tmp_path / "data"))
    assert first["unchanged_since"] is None and loaded["ibis"] and loaded["sklearn"]
    kept, loaded = cli()
    assert kept["unchanged_since"] is not None
    assert loaded == {"pandas": False, "ibis": False, "sklearn": False, "lightgbm": False}


def test_libraries_imported_ahead_on_their_own_thread_and_a_failure_left_to_the_step() -> None:
    """The refresh imports LightGBM and scikit-learn on a thread while DuckDB works; a module
    that cannot be imported there raises nothing (the step that needs it will say why)."""
    import sys
    import threading

    from salesradar.pipeline import AHEAD, import_ahead

    sys.modules.pop("tabnanny", None)
    seen: list[str] = []
    original = threading.Thread.run

    def recording_run(self: threading.Thread) -> None:
        seen.append(self.name)
        original(self)

    threading.Thread.run = recording_run  # type: ignore[method-assign]
    try:
        thread = import_ahead(("tabnanny", "salesradar_no_such_module"))
        thread.join(timeout=60)
    finally:
        threading.Thread.run = original  # type: ignore[method-assign]
    assert not thread.is_alive() and thread is not threading.main_thread()
    assert seen == ["salesradar-import-ahead"]
    assert "tabnanny" in sys.modules and "salesradar_no_such_module" not in sys.modules
    assert "lightgbm" in AHEAD  # the churn model's library, the longest import of a refresh


def test_the_scoring_steps_start_once_the_imports_ahead_are_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two threads importing scikit-learn's submodules at once can each find a module the other
    has half initialized (an ImportError seen on small companies, whose churn fit starts within
    a second): the scoring steps start only when the imports ahead are done."""
    import threading
    import time

    from salesradar.models import scoring
    from salesradar.models.refresh_scope import importing_ahead

    imported = threading.Event()

    def slow_imports() -> None:
        time.sleep(0.5)
        imported.set()

    thread = threading.Thread(target=slow_imports)
    thread.start()
    importing_ahead(thread)
    seen: list[bool] = []

    class Stop(Exception):
        pass

    class RecordingLanes:
        def __init__(self, *args: object) -> None:
            seen.append(imported.is_set())
            raise Stop

    monkeypatch.setattr(scoring, "_Lanes", RecordingLanes)
    monkeypatch.setattr(scoring, "non_product_codes", lambda ws, fresh: [])
    with Workspace.open(tmp_path / "w.duckdb") as ws, pytest.raises(Stop):
        scoring._score_all(ws, dt.date(2026, 1, 31), 90, "v", "k", 0.0, True, None)
    assert seen == [True]
