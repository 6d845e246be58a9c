"""The customer-days and purchase days kept in the workspace between day refreshes
(sharing_customer_days with keep) equal, value by value, those computed from every line, after
lines added, edited and deleted, lines without a customer, an older format and a failed update;
a refresh without keep (a full refresh) computes them in memory and writes nothing; the
pipeline keeps none on a full refresh and keeps them from the next day's refresh on; the stopped
items' pair facts computed from the lines the refresh shares equal those computed from every
line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from salesradar.engine import table_names
from salesradar.models import stopped_items
from salesradar.models.customer_changes import CHANGED_LINES
from salesradar.models.features import (
    CUSTOMER_DAYS_TABLE,
    DAY_STAMPS_TABLE,
    PURCHASE_DAYS_TABLE,
    customer_days,
    purchase_days,
    sharing_customer_days,
)
from salesradar.models.stopped_items import StoppedItemsModel, kept_pair_facts
from salesradar.workspace import Workspace

from .invoice_helpers import day, insert, simulated

KEYS = [("customer_id", "ascending"), ("day", "ascending")]


def _fresh(ws: Workspace) -> dict[str, pa.Table]:
    """Computed from every line, outside a refresh (nothing kept is read)."""
    lines = ws.table("invoice_lines")
    return {"days": customer_days(lines).to_pyarrow().sort_by(KEYS),
            "purchases": purchase_days(lines).to_pyarrow().sort_by(KEYS)}


def _refreshed(ws: Workspace, *, keep: bool = True) -> dict[str, pa.Table]:
    """What the models read inside a refresh (``keep``: a day's refresh)."""
    with sharing_customer_days(ws, keep=keep):
        return _fresh(ws)


def _kept(ws: Workspace) -> dict[str, pa.Table]:
    """The tables kept in the workspace, read directly."""
    return {name: ws.con.execute(f"FROM {table}").to_arrow_table().sort_by(KEYS)
            for name, table in (("days", CUSTOMER_DAYS_TABLE), ("purchases", PURCHASE_DAYS_TABLE))}


def _assert_equal(expected: dict[str, pa.Table], got: dict[str, pa.Table]) -> None:
    for name, table in expected.items():
        assert got[name].num_rows == table.num_rows > 0, name
        assert got[name].schema == table.schema, name
        for column in table.column_names:  # exactly: the decimals' sums cast once
            assert got[name][column].equals(table[column]), (name, column)


def _poison(ws: Workspace, *customers: str) -> None:
    """Make the kept rows of ``customers`` wrong (revenue times 2**20, undone exactly by
    :func:`_cure`): rows computed again are right again."""
    for table in (CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE):
        ws.con.execute(f"UPDATE {table} SET revenue = revenue * 1048576 "
                       "WHERE list_contains(?, customer_id)", [list(customers)])


def _cure(ws: Workspace, customer: str) -> None:
    for table in (CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE):
        ws.con.execute(f"UPDATE {table} SET revenue = revenue / 1048576 "
                       "WHERE customer_id = ?", [customer])


def _poisoned(ws: Workspace) -> set[str]:
    return {r[0] for table in (CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE)
            for r in ws.con.execute(f"SELECT DISTINCT customer_id FROM {table} "
                                    "WHERE abs(revenue) > 1e6").fetchall()}


def _lines(rows: list[tuple[str, str | None, int, str, float, float | None]]) -> dict[str, object]:
    """(invoice, customer, day number, sku, amount, cost) rows as invoice-line columns."""
    return {"invoice_id": [r[0] for r in rows], "line_no": [1] * len(rows),
            "invoice_date": pa.array([day(r[2]) for r in rows], type=pa.date32()),
            "customer_id": [r[1] for r in rows], "sku": [r[3] for r in rows],
            "quantity": [1.0 if r[4] > 0 else -1.0 for r in rows],
            "net_revenue": pa.array([r[4] for r in rows], type=pa.float64()),
            "cost": pa.array([r[5] for r in rows], type=pa.float64())}


def _workspace() -> Workspace:
    ws = simulated(customers=60, days=400, seed=11)
    ws.con.execute("UPDATE invoice_lines SET cost = round(net_revenue * 0.6, 2) "
                   "WHERE hash(invoice_id) % 3 = 0")  # cost known on some lines only
    insert(ws, "invoice_lines", _lines([  # a credit note alone on a day; lines without customer
        ("CN1", "C0005", 50, "S1", -30.0, None),
        ("X1", None, 60, "S2", 20.0, 12.0),
        ("X2", None, 61, "S2", -5.0, None),
    ]))
    return ws


def _customers(ws: Workspace) -> list[str]:
    return [r[0] for r in ws.con.execute("SELECT DISTINCT customer_id FROM invoice_lines "
                                         "WHERE customer_id IS NOT NULL ORDER BY 1").fetchall()]


def test_kept_customer_days_equal_those_of_every_line_after_each_change() -> None:
    ws = _workspace()
    # the first refresh computes every customer (in memory), then keeps them
    _assert_equal(_fresh(ws), _refreshed(ws))
    _assert_equal(_fresh(ws), _kept(ws))
    steady, bought, edited, moved, costed, removed = _customers(ws)[:6]
    _poison(ws, steady, bought, edited, moved, costed, removed)
    # a day of new lines (a purchase and a return of one customer, a new customer, a line
    # without customer); an amount, a date and a cost edited; a customer's lines deleted
    insert(ws, "invoice_lines", _lines([
        ("N1", bought, 401, "S1", 70.0, 40.0), ("N2", bought, 401, "S2", -30.0, None),
        ("N3", "C-NEW", 401, "S3", 55.0, None), ("N4", None, 401, "S1", 9.0, None),
    ]))
    for customer, change in ((edited, "net_revenue = net_revenue + 1"),
                             (moved, "invoice_date = invoice_date - 1"),
                             (costed, "cost = coalesce(cost, 0) + 2")):
        ws.con.execute(f"UPDATE invoice_lines SET {change} WHERE invoice_id = "
                       "(SELECT min(invoice_id) FROM invoice_lines WHERE customer_id = ?)",
                       [customer])
    ws.con.execute("DELETE FROM invoice_lines WHERE customer_id = ?", [removed])
    got = _refreshed(ws)
    # the changed customers' rows were computed again, only theirs (and they are right)
    assert _poisoned(ws) == {steady}
    _cure(ws, steady)  # then every row equals those computed from every line
    expected = _fresh(ws)
    _assert_equal(expected, _refreshed(ws))
    assert removed not in set(got["days"]["customer_id"].to_pylist())
    _assert_equal(expected, _kept(ws))
    # nothing changed since: nothing computed again; a full refresh (no keep): everything
    # computed in memory, the kept tables neither read nor written
    _poison(ws, steady)
    _refreshed(ws)
    assert _poisoned(ws) == {steady}
    _assert_equal(expected, _refreshed(ws, keep=False))
    assert _poisoned(ws) == {steady}
    # kept by another version of this code: computed anew, and kept again
    _poison(ws, steady)
    ws.con.execute(f"UPDATE {DAY_STAMPS_TABLE} SET format = format - 1")
    _assert_equal(expected, _refreshed(ws))
    assert _poisoned(ws) == set()
    _assert_equal(expected, _kept(ws))
    # most lines changed: every customer computed anew in one pass (the unchanged one too)
    _poison(ws, steady)
    ws.con.execute("UPDATE invoice_lines SET net_revenue = net_revenue + 1 "
                   "WHERE customer_id <> ?", [steady])
    expected = _fresh(ws)
    _assert_equal(expected, _refreshed(ws))
    assert _poisoned(ws) == set()
    _assert_equal(expected, _kept(ws))


def test_a_refresh_without_keep_reads_and_writes_nothing_kept() -> None:
    """A full refresh (no keep) computes the two tables in memory: the workspace's tables are
    the same after it, with or without kept tables; a day's refresh then keeps them."""
    ws = _workspace()
    before = table_names(ws)
    expected = _fresh(ws)
    _assert_equal(expected, _refreshed(ws, keep=False))
    assert table_names(ws) == before  # nothing kept, nothing left behind
    _assert_equal(expected, _refreshed(ws))
    assert table_names(ws) == before | {CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE,
                                        DAY_STAMPS_TABLE}
    _assert_equal(expected, _kept(ws))


def test_a_failed_update_leaves_tables_and_stamps_as_they_were(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kept tables and their stamps change together or not at all: after an update that
    failed half way, the next refresh still sees the customers as changed."""
    ws = _workspace()
    _refreshed(ws)
    kept = {t: ws.con.execute(f"FROM {t} ORDER BY ALL").fetchall()
            for t in (CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE, DAY_STAMPS_TABLE)}
    customer = _customers(ws)[0]
    insert(ws, "invoice_lines", _lines([("N1", customer, 401, "S1", 70.0, None)]))
    # the purchase days' delete fails, after the customer-days were changed
    con = ws.con

    class Failing:
        def __getattr__(self, name: str) -> object:
            return getattr(con, name)

        def execute(self, sql: str, *args: object) -> object:
            if sql.startswith(f"DELETE FROM {PURCHASE_DAYS_TABLE}"):
                raise RuntimeError("disk full")
            return con.execute(sql, *args)

    monkeypatch.setattr(ws, "_con", Failing())
    with pytest.raises(RuntimeError, match="disk full"), sharing_customer_days(ws, keep=True):
        pass
    monkeypatch.undo()
    for table, rows in kept.items():
        assert ws.con.execute(f"FROM {table} ORDER BY ALL").fetchall() == rows
    _assert_equal(_fresh(ws), _refreshed(ws))


def _pairs(ws: Workspace, as_of: dt.date, facts: object = None) -> pa.Table:
    model = StoppedItemsModel(min_purchases=3).fit(ws, as_of, facts=facts)
    assert model.pairs_ is not None
    return model.pairs_


def test_pair_facts_read_the_lines_the_refresh_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a refresh the changed customers' pair facts are computed from their lines copied
    once for the customer-days, and equal the facts of every line."""
    ws = simulated(customers=60, days=400, seed=3)
    latest = day(399)
    with sharing_customer_days(ws, keep=True):
        kept_pair_facts(ws, latest)
    customers = _customers(ws)
    insert(ws, "invoice_lines", _lines([("N1", customers[1], 400, "S1", 70.0, None),
                                        ("N2", customers[1], 400, "S2", -30.0, None),
                                        ("N3", "C-NEW", 400, "S2", 55.0, None)]))
    ws.con.execute("DELETE FROM invoice_lines WHERE customer_id = ?", [customers[2]])
    read: list[str] = []
    lines_of_changed = stopped_items._lines_of_changed

    def spy(w: object) -> object:
        table = lines_of_changed(w)
        read.append(w.backend.compile(table))  # type: ignore[attr-defined]
        return table

    monkeypatch.setattr(stopped_items, "_lines_of_changed", spy)
    latest = day(400)
    with sharing_customer_days(ws, keep=True):
        facts = kept_pair_facts(ws, latest)
        got = _pairs(ws, latest, facts)
    # one read, of the lines the refresh copied (not of every line, nor copied again)
    assert len(read) == 1 and CHANGED_LINES in read[0] and "invoice_lines" not in read[0]
    assert got == _pairs(ws, latest)


def test_the_pipeline_keeps_nothing_on_a_full_refresh_and_keeps_from_the_next_day_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`run --data` (a full refresh) computes the customer-days in memory and writes none;
    the next day's refresh writes them (computed in memory, as it would anyway); the one after
    updates them for the day's customers only; `run --full` neither reads nor writes them.
    Each time the kept tables equal those computed from every line."""
    import shutil

    import pyarrow.compute as pc
    import pyarrow.csv as pv

    from salesradar.app import AppDB
    from salesradar.demo import generate
    from salesradar.insights import InsightStore
    from salesradar.io.folder import import_folder
    from salesradar.models import features
    from salesradar.pipeline import run
    from salesradar.workspace import writing

    everything = tmp_path / "everything"
    generate(everything, customers=80, years=2, seed=5)
    lines = pv.read_csv(everything / "invoice_lines.csv")
    days = sorted(set(lines["invoice_date"].to_pylist()))[-2:]
    before = tmp_path / "before"
    shutil.copytree(everything, before)
    pv.write_csv(lines.filter(pc.less(lines["invoice_date"], days[0])),
                 before / "invoice_lines.csv")
    writes: list[int] = []
    write_kept = features._write_kept

    def counted(ws: Workspace, sharing: object) -> None:
        writes.append(1)
        write_kept(ws, sharing)  # type: ignore[arg-type]

    monkeypatch.setattr(features, "_write_kept", counted)
    path, store = tmp_path / "ws.duckdb", InsightStore(AppDB.open("sqlite://"))
    kept = {CUSTOMER_DAYS_TABLE, PURCHASE_DAYS_TABLE, DAY_STAMPS_TABLE}

    def tables() -> set[str]:
        with Workspace.open(path, read_only=True) as ws:
            return table_names(ws)

    run(path, store, data=before, deliver=False)
    assert not kept & tables() and writes == []
    for n, one_day in enumerate(days):
        folder = tmp_path / f"day{n}"
        folder.mkdir()
        pv.write_csv(lines.filter(pc.equal(lines["invoice_date"], one_day)),
                     folder / "invoice_lines.csv")
        with writing(path) as ws:
            import_folder(ws, folder)
        run(path, store, deliver=False)
        assert writes == [1]  # written once, by the first day's refresh; then updated
        with Workspace.open(path, read_only=True) as ws:
            _assert_equal(_fresh(ws), _kept(ws))
    with Workspace.open(path, read_only=True) as ws:
        stamps = ws.con.execute(f"FROM {DAY_STAMPS_TABLE} ORDER BY ALL").fetchall()
        # the kept rows stand for every line: a full refresh must not read them
    with writing(path) as ws:
        _poison(ws, _customers(ws)[0])
    full = run(path, store, deliver=False, full=True)
    assert writes == [1] and full.scores
    with Workspace.open(path, read_only=True) as ws:
        assert _poisoned(ws) == {_customers(ws)[0]}  # not written
        assert ws.con.execute(f"FROM {DAY_STAMPS_TABLE} ORDER BY ALL").fetchall() == stamps
