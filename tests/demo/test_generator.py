"""The demo generator: canonical files, valid values, integrity, determinism, planted behaviour."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from salesradar.demo import DemoSummary, generate
from salesradar.schema import TABLES, Column, ColumnType, Sign
from salesradar.schema.tables import REFERENCES

END = datetime.date(2026, 10, 31)
SMALL: dict[str, Any] = {"customers": 300, "years": 2, "seed": 11}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """One small CSV company shared by the read-only tests of this module."""
    return generate(tmp_path_factory.mktemp("demo") / "csv", **SMALL)


@pytest.fixture(scope="module")
def db(demo: DemoSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB views over the CSV files: raw text (``raw_<table>``), typed, and truth files."""
    con = duckdb.connect()
    for name, table in TABLES.items():
        path = demo.files[name]
        con.execute(f"CREATE VIEW raw_{name} AS SELECT * FROM "
                    f"read_csv('{path}', all_varchar=true, header=true)")
        casts = ", ".join(f'CAST("{c.name}" AS {storage(c)}) AS "{c.name}"'
                          for c in table.columns)
        con.execute(f"CREATE VIEW {name} AS SELECT {casts} FROM raw_{name}")
    for path in sorted((demo.out_dir / "truth").glob("*.csv")):
        con.execute(f"CREATE VIEW truth_{path.stem} AS SELECT * FROM read_csv('{path}')")
    con.execute("CREATE VIEW sales AS SELECT * FROM invoice_lines WHERE quantity > 0")
    yield con
    con.close()


def storage(column: Column) -> str:
    """The DuckDB type to compare a column as (periods stay text: "2025-03")."""
    return "VARCHAR" if column.type is ColumnType.PERIOD else column.storage_type


def one(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]


def test_every_table_is_written_with_exactly_the_canonical_columns(demo: DemoSummary) -> None:
    assert set(demo.files) == set(TABLES)
    for name, table in TABLES.items():
        path = demo.files[name]
        assert path == demo.out_dir / f"{name}.csv"
        header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
        assert tuple(header) == table.column_names, name
        assert demo.rows[name] > 0, name
    assert json.loads(json.dumps(demo.to_dict()))["rows"] == demo.rows


def test_values_parse_and_follow_the_schema(db: duckdb.DuckDBPyConnection) -> None:
    patterns = {
        ColumnType.DATE: r"^\d{4}-\d{2}-\d{2}$",
        ColumnType.TIMESTAMP: r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$",
        ColumnType.PERIOD: r"^\d{4}-(0[1-9]|1[0-2])$",
        ColumnType.MONEY: r"^-?\d+\.\d{2}$",
        ColumnType.INTEGER: r"^-?\d+$",
        ColumnType.BOOLEAN: r"^(true|false)$",
        ColumnType.ID: r"^[A-Z]+-?\d+$",
    }
    casts = {ColumnType.DATE: "DATE", ColumnType.TIMESTAMP: "TIMESTAMP",
             ColumnType.NUMBER: "DOUBLE", ColumnType.INTEGER: "BIGINT",
             ColumnType.MONEY: "DECIMAL(18,2)"}
    for name, table in TABLES.items():
        for col in table.columns:
            c = f'"{col.name}"'
            where = [f"{c} IS NOT NULL AND trim({c}) = ''"]
            if col.required:
                where.append(f"{c} IS NULL")
            if col.type in patterns:
                where.append(f"NOT regexp_matches({c}, '{patterns[col.type]}')")
            if col.type in casts:
                where.append(f"{c} IS NOT NULL AND try_cast({c} AS {casts[col.type]}) IS NULL")
            if col.values:
                allowed = ", ".join(f"'{v}'" for v in col.values)
                where.append(f"{c} NOT IN ({allowed})")
            if col.sign is Sign.NON_NEGATIVE:
                where.append(f"try_cast({c} AS DOUBLE) < 0")
            if col.sign is Sign.SAME_AS_QUANTITY:
                where.append(f"sign(try_cast({c} AS DOUBLE)) * sign(try_cast(quantity AS DOUBLE))"
                             " < 0")
            bad = one(db, f"SELECT count(*) FROM raw_{name} WHERE "
                          + " OR ".join(f"({w})" for w in where))
            assert bad == 0, f"{name}.{col.name}: {bad} bad values"


def test_references_resolve(db: duckdb.DuckDBPyConnection) -> None:
    for name, refs in REFERENCES.items():
        for column, (master, key) in refs.items():
            missing = one(db, f'SELECT count(*) FROM {name} t WHERE t."{column}" IS NOT NULL '
                              f'AND t."{column}" NOT IN (SELECT "{key}" FROM {master})')
            assert missing == 0, f"{name}.{column} -> {master}.{key}: {missing} missing"
    # Payments pay real invoices of the customer that was invoiced.
    assert one(db, "SELECT count(*) FROM payments p WHERE NOT EXISTS (SELECT 1 FROM sales s "
                   "WHERE s.invoice_id = p.invoice_id AND s.customer_id = p.customer_id)") == 0


def test_keys_are_unique(db: duckdb.DuckDBPyConnection) -> None:
    for name, table in TABLES.items():
        key = ", ".join(f'coalesce(CAST("{k}" AS VARCHAR), \'\')' for k in table.key)
        rows, distinct = db.execute(
            f"SELECT count(*), count(DISTINCT ({key})) FROM {name}").fetchone() or (0, 0)
        assert rows == distinct, f"{name}: key {table.key} not unique"

    # two customers never share a name (a list of risks must not show one name twice)
    names, distinct = db.execute(
        "SELECT count(*), count(DISTINCT name) FROM customers").fetchone() or (0, 0)
    assert names == distinct > 0


def test_same_seed_same_bytes_other_seed_other_data(tmp_path: Path) -> None:
    args: dict[str, Any] = {"customers": 40, "years": 1}
    a = generate(tmp_path / "a", seed=3, **args)
    b = generate(tmp_path / "b", seed=3, **args)
    c = generate(tmp_path / "c", seed=4, **args)
    files_a = sorted(p.relative_to(a.out_dir) for p in a.out_dir.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b.out_dir) for p in b.out_dir.rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) > len(TABLES)
    for rel in files_a:
        assert (a.out_dir / rel).read_bytes() == (b.out_dir / rel).read_bytes(), rel
    assert a.files["invoice_lines"].read_bytes() != c.files["invoice_lines"].read_bytes()


def test_parquet_has_the_same_rows_as_csv(tmp_path: Path) -> None:
    args: dict[str, Any] = {"customers": 50, "years": 1, "seed": 5}
    csv = generate(tmp_path / "csv", **args)
    par = generate(tmp_path / "parquet", fmt="parquet", **args)
    con = duckdb.connect()
    for name, table in TABLES.items():
        path = par.files[name]
        assert path.suffix == ".parquet"
        assert tuple(pq.read_schema(path).names) == table.column_names
        casts = ", ".join(f'CAST("{c.name}" AS {storage(c)})' for c in table.columns)
        a = f"SELECT {casts} FROM read_csv('{csv.files[name]}', all_varchar=true)"
        b = f"SELECT {casts} FROM read_parquet('{path}')"
        assert one(con, f"SELECT count(*) FROM (({a}) EXCEPT ALL ({b}))") == 0, name
        assert one(con, f"SELECT count(*) FROM (({b}) EXCEPT ALL ({a}))") == 0, name
    assert csv.rows == par.rows


def test_lines_lands_within_ten_percent(tmp_path: Path) -> None:
    summary = generate(tmp_path, customers=3000, years=2, lines=300_000, fmt="parquet")
    assert 270_000 <= summary.rows["invoice_lines"] <= 330_000


def test_progress_reports_stages_up_to_done(tmp_path: Path) -> None:
    seen: list[tuple[str, float]] = []
    generate(tmp_path, customers=20, years=1, progress=lambda s, f: seen.append((s, f)))
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and seen[-1] == ("done", 1.0)
    assert {"invoice lines", "crm", "truth"} <= {s for s, _ in seen}


def test_history_ends_on_end_and_starts_years_before(db: duckdb.DuckDBPyConnection,
                                                     demo: DemoSummary) -> None:
    first, last = db.execute("SELECT min(invoice_date), max(invoice_date) "
                             "FROM invoice_lines").fetchone() or (None, None)
    assert demo.start == datetime.date(2024, 11, 1) and demo.end == END
    assert first is not None and first >= demo.start
    assert END - datetime.timedelta(days=3) <= last <= END  # 2026-10-31 is a Saturday
    assert one(db, "SELECT count(*) FROM invoice_lines WHERE dayofweek(invoice_date) = 6") == 0
    last_at = one(db, 'SELECT max("at") FROM activities')
    assert last_at <= datetime.datetime(2026, 10, 31, 23, 59, 59)


def test_churned_customers_stop_buying(db: duckdb.DuckDBPyConnection) -> None:
    bad = one(db, """
        SELECT count(*) FROM truth_churned_customers t
        JOIN (SELECT customer_id, max(invoice_date) AS last FROM sales GROUP BY 1) s USING
        (customer_id) WHERE t.churned_before_end AND s.last <> t.churned_at""")
    assert bad == 0
    churned = one(db, "SELECT count(*) FROM truth_churned_customers WHERE churned_before_end")
    recent = one(db, "SELECT count(*) FROM truth_churned_customers WHERE churned_before_end "
                     "AND churned_at >= DATE '2026-05-01'")
    assert 0.05 * 300 <= churned <= 0.5 * 300 and recent > 0
    # Rhythms differ: some customers order weekly or more, others a few times a year.
    gaps = db.execute("""SELECT quantile_cont(n, 0.1), quantile_cont(n, 0.9) FROM
        (SELECT customer_id, count(DISTINCT invoice_id) AS n FROM sales GROUP BY 1)""").fetchone()
    assert gaps is not None and gaps[1] > 75 and gaps[0] < 24


def test_concentration_and_loss_makers(db: duckdb.DuckDBPyConnection) -> None:
    top = one(db, "SELECT max(r) / sum(r) FROM (SELECT sum(net_revenue) AS r FROM invoice_lines "
                  "GROUP BY customer_id)")
    assert 0.08 <= top <= 0.18
    profit = """SELECT customer_id, coalesce(gp, 0) - coalesce(cts, 0) AS profit FROM
        (SELECT customer_id, sum(net_revenue - cost) AS gp FROM invoice_lines GROUP BY 1)
        FULL JOIN (SELECT customer_id, sum(amount) AS cts FROM cost_to_serve GROUP BY 1)
        USING (customer_id)"""
    truth = {r[0] for r in db.execute("SELECT customer_id FROM truth_loss_making_customers")
             .fetchall()}
    losing = {r[0] for r in db.execute(f"SELECT customer_id FROM ({profit}) WHERE profit < 0")
              .fetchall()}
    assert truth == losing and 0 < len(losing) < 150
    planted = one(db, "SELECT count(*) FROM truth_loss_making_customers WHERE planted")
    assert planted >= 10
    kinds = {r[0] for r in db.execute("SELECT DISTINCT kind FROM cost_to_serve").fetchall()}
    assert kinds == {"service", "logistics", "sales", "credit", "support"}


def test_category_affinities_show_in_baskets(db: duckdb.DuckDBPyConnection) -> None:
    lifts = db.execute("""
        WITH cats AS (SELECT DISTINCT s.customer_id, p.category FROM sales s JOIN products p
                      USING (sku)),
             n AS (SELECT count(DISTINCT customer_id) AS n FROM cats),
             share AS (SELECT category, count(*) / any_value(n.n) AS p FROM cats, n GROUP BY 1)
        SELECT t.planted_lift > 1 AS planted,
               avg((SELECT count(*) FROM cats a JOIN cats b USING (customer_id)
                    WHERE a.category = t.category_a AND b.category = t.category_b)
                   / (SELECT n FROM n) / (sa.p * sb.p)) AS lift
        FROM truth_affinities t JOIN share sa ON sa.category = t.category_a
        JOIN share sb ON sb.category = t.category_b GROUP BY 1""").fetchall()
    lift = dict(lifts)
    assert lift[True] > 1.5 * lift[False]
    # Popularity skew: the best SKU of a category outsells its median one.
    skew = one(db, """SELECT median(top / med) FROM (SELECT category, max(q) AS top,
        median(q) AS med FROM (SELECT p.category, s.sku, sum(s.quantity) AS q FROM sales s
        JOIN products p USING (sku) GROUP BY 1, 2) GROUP BY 1)""")
    assert skew > 1.8


def test_discontinued_skus_stop_selling(db: duckdb.DuckDBPyConnection) -> None:
    truth = dict(db.execute("SELECT sku, discontinued_at FROM truth_discontinued_skus")
                 .fetchall())
    inactive = {r[0] for r in db.execute("SELECT sku FROM products WHERE NOT active").fetchall()}
    assert truth and set(truth) == inactive
    after = one(db, """SELECT count(*) FROM sales s JOIN truth_discontinued_skus t USING (sku)
                       WHERE s.invoice_date >= t.discontinued_at""")
    before = one(db, """SELECT count(DISTINCT sku) FROM sales s JOIN truth_discontinued_skus t
                        USING (sku) WHERE s.invoice_date < t.discontinued_at""")
    assert after == 0 and before >= len(truth) // 2


def test_dropped_pairs_stop_while_the_customer_keeps_buying(
        db: duckdb.DuckDBPyConnection) -> None:
    rows = db.execute("""
        SELECT t.customer_id, t.sku,
               (SELECT count(*) FROM sales s WHERE s.customer_id = t.customer_id
                AND s.sku = t.sku AND s.invoice_date < t.dropped_at) AS before,
               (SELECT count(*) FROM sales s WHERE s.customer_id = t.customer_id
                AND s.sku = t.sku AND s.invoice_date >= t.dropped_at) AS after,
               (SELECT count(DISTINCT invoice_id) FROM sales s
                WHERE s.customer_id = t.customer_id AND s.invoice_date >= t.dropped_at)
                AS orders_after,
               t.purchases_before, t.orders_after AS truth_orders_after
        FROM truth_dropped_pairs t""").fetchall()
    assert len(rows) >= 5
    for cust, sku, before, after, orders_after, truth_before, truth_after in rows:
        assert before >= 2 and before == truth_before, (cust, sku)
        assert after == 0, (cust, sku)
        assert orders_after >= 3 and orders_after == truth_after, (cust, sku)


def test_prices_discounts_seasonality_and_returns(db: duckdb.DuckDBPyConnection) -> None:
    # One net unit price per customer, SKU and price-list year: list price x (1 - discount).
    spread = one(db, """SELECT max(hi - lo) FROM (SELECT max(net_revenue / quantity) AS hi,
        min(net_revenue / quantity) AS lo FROM sales GROUP BY customer_id, sku,
        year(invoice_date))""")
    assert spread <= 0.02
    growth = one(db, """SELECT median(p26 / p25) FROM (SELECT sku,
        avg(net_revenue / quantity) FILTER (WHERE year(invoice_date) = 2026) AS p26,
        avg(net_revenue / quantity) FILTER (WHERE year(invoice_date) = 2025) AS p25
        FROM sales GROUP BY customer_id, sku)""")
    assert 1.01 < growth < 1.06
    dec, aug = db.execute("""SELECT count(DISTINCT invoice_id) FILTER (WHERE month(invoice_date)
        = 12), count(DISTINCT invoice_id) FILTER (WHERE month(invoice_date) = 8)
        FROM sales""").fetchone() or (0, 0)
    assert dec > 1.3 * aug
    share, bad = db.execute("""SELECT avg((quantity < 0)::int),
        count(*) FILTER (WHERE quantity < 0 AND (net_revenue >= 0 OR cost >= 0
                         OR NOT starts_with(invoice_id, 'CN-')))
        FROM invoice_lines""").fetchone() or (0, 1)
    assert 0.01 <= share <= 0.03 and bad == 0
    erosion = db.execute("""SELECT category, margin_first_3_months - margin_last_3_months
        FROM truth_margin_erosion WHERE eroding""").fetchall()
    assert len(erosion) == 1 and erosion[0][1] > 0.03
    first, last = db.execute(f"""SELECT
        1 - sum(cost) FILTER (WHERE invoice_date < DATE '2025-02-01')
          / sum(net_revenue) FILTER (WHERE invoice_date < DATE '2025-02-01'),
        1 - sum(cost) FILTER (WHERE invoice_date >= DATE '2026-08-01')
          / sum(net_revenue) FILTER (WHERE invoice_date >= DATE '2026-08-01')
        FROM sales JOIN products USING (sku) WHERE category = '{erosion[0][0]}'""").fetchone() \
        or (0, 0)
    assert first - last > 0.03


def test_reps_teams_and_handover(db: duckdb.DuckDBPyConnection) -> None:
    models = dict(db.execute("SELECT model, count(*) FROM reps GROUP BY 1").fetchall())
    assert models["centre"] >= 2 and models["account"] >= 2
    assert one(db, "SELECT count(*) FROM reps WHERE manager_id IS NULL") == 1
    frm, to, day = db.execute("SELECT from_rep_id, to_rep_id, handover_date "
                              "FROM truth_rep_handover").fetchone() or ("", "", None)
    wrong = one(db, f"""SELECT count(*) FROM invoice_lines l JOIN customers c USING
        (customer_id) WHERE c.rep_id = '{to}' AND l.rep_id <> CASE WHEN l.invoice_date <
        DATE '{day}' THEN '{frm}' ELSE '{to}' END""")
    assert wrong == 0
    others = one(db, """SELECT count(*) FROM invoice_lines l JOIN customers c USING
        (customer_id) WHERE c.rep_id <> l.rep_id AND c.rep_id NOT IN
        (SELECT to_rep_id FROM truth_rep_handover)""")
    assert others == 0
    channels = {r[0] for r in db.execute("SELECT DISTINCT channel FROM invoice_lines")
                .fetchall()}
    assert channels == {"field", "phone", "web"}


def test_leads_contacts_and_deals(db: duckdb.DuckDBPyConnection) -> None:
    contacted = one(db, """SELECT count(*) FROM truth_uncontacted_leads t
        WHERE EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = t.lead_id)""")
    assert contacted == 0
    silent = one(db, """SELECT count(*) FROM leads l WHERE NOT EXISTS (SELECT 1 FROM activities a
        WHERE a.lead_id = l.lead_id) AND lead_id NOT IN (SELECT lead_id FROM
        truth_uncontacted_leads)""")
    assert silent == 0 and one(db, "SELECT count(*) FROM truth_uncontacted_leads") > 0
    slow, fast = db.execute("""SELECT
        median(hours) FILTER (WHERE owner_rep_id IN (SELECT rep_id FROM truth_slow_rep)),
        median(hours) FILTER (WHERE owner_rep_id NOT IN (SELECT rep_id FROM truth_slow_rep))
        FROM (SELECT l.owner_rep_id, epoch(min(a.at) - l.created_at) / 3600 AS hours
              FROM leads l JOIN activities a USING (lead_id) GROUP BY l.lead_id,
              l.owner_rep_id, l.created_at)""").fetchone() or (0, 0)
    assert slow > 4 * fast
    assert one(db, """SELECT count(*) FROM leads l JOIN activities a USING (lead_id)
                      WHERE a.at < l.created_at""") == 0
    conv = dict(db.execute("""SELECT source, avg((deal_id IS NOT NULL)::int) FROM leads
                              GROUP BY 1""").fetchall())
    assert conv["referral"] > conv["web"] > conv["cold"]
    assert one(db, "SELECT count(*) FROM deals WHERE (outcome = 'lost') <> "
                   "(lost_reason IS NOT NULL)") == 0
    assert one(db, "SELECT count(*) FROM deals WHERE outcome <> 'open' AND close_date > "
                   "DATE '2026-10-31' OR outcome = 'open' AND close_date <= DATE "
                   "'2026-10-31'") == 0
    assert one(db, """SELECT count(*) FROM deal_stage_history h JOIN deals d USING (deal_id)
                      WHERE h.entered_at < d.created_at""") == 0
    answered = dict(db.execute("""SELECT outcome, count(*) FROM activities WHERE kind = 'call'
                                  GROUP BY 1""").fetchall())
    assert set(answered) == {"answered", "no_answer"}
    won_customers = one(db, """SELECT count(*) FROM deals d JOIN customers c USING (customer_id)
        WHERE d.pipeline = 'Inbound' AND d.outcome = 'won' AND d.close_date <> c.created_at""")
    assert won_customers == 0


def test_payments_targets_forecasts_and_contacts(db: duckdb.DuckDBPyConnection) -> None:
    mismatch = one(db, """SELECT count(*) FROM payments p JOIN (SELECT invoice_id,
        sum(net_revenue) AS total FROM sales GROUP BY 1) s USING (invoice_id)
        WHERE p.amount <> s.total""")
    assert mismatch == 0
    late, punctual = db.execute("""SELECT
        avg(paid_date - due_date) FILTER (WHERE customer_id IN (SELECT customer_id FROM
            truth_late_payers)),
        avg(paid_date - due_date) FILTER (WHERE customer_id NOT IN (SELECT customer_id FROM
            truth_late_payers)) FROM payments""").fetchone() or (0, 0)
    assert late > 20 and punctual < 10
    assert one(db, "SELECT count(*) FROM payments WHERE paid_date IS NULL") > 0
    metrics = {r[0] for r in db.execute("SELECT DISTINCT metric FROM targets").fetchall()}
    assert metrics == {"revenue", "deals_won"}
    assert one(db, "SELECT max(period) FROM targets") > "2026-10"
    bad = one(db, """SELECT count(*) FROM forecast_submissions WHERE strftime(submitted_at,
        '%Y-%m') <> period OR day(submitted_at) > 6""")
    assert bad == 0
    single = db.execute("""SELECT t.customer_id, count(c.contact_id), any_value(k.segment)
        FROM truth_single_threaded_customers t JOIN contacts c USING (customer_id)
        JOIN customers k USING (customer_id) GROUP BY 1""").fetchall()
    assert single and all(n == 1 and seg in ("Strategic", "Key account")
                          for _, n, seg in single)
    levels = {r[0] for r in db.execute("SELECT DISTINCT level FROM contacts").fetchall()}
    assert levels == {"executive", "finance", "operations", "end_user", "other"}


def test_a_workspace_imports_the_demo_without_issues(demo: DemoSummary, tmp_path: Path) -> None:
    from salesradar.io.folder import import_folder
    from salesradar.workspace import Workspace

    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        reports = import_folder(ws, demo.out_dir)
    assert {r.table for r in reports} == set(TABLES)
    for report in reports:
        assert report.rows_read == demo.rows[report.table], report.table
        assert report.rows_skipped == 0 and not report.issues, report.table
