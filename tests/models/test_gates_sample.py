"""The gates' stable sample of customers (:func:`salesradar.models.gates._sample`): the same
lines, in the same order, as a filter on the hash of every line's customer id."""

from __future__ import annotations

from salesradar.models import gates

from .invoice_helpers import simulated

# the sample as it was first taken: every line whose customer's hash falls in bucket 0, in the
# lines' stored order (a hash of a null id is a value too)
REFERENCE = """
SELECT * FROM invoice_lines
WHERE abs(CAST(CAST(hash(customer_id) AS BIT) AS BIGINT)) % {buckets} = 0
ORDER BY rowid
"""


def test_the_sample_is_the_lines_of_the_hashed_customers_in_order() -> None:
    ws = simulated(customers=300, days=540, seed=5)
    # lines without a customer, in the middle of the table: with 3 buckets the hash of a null
    # id falls in bucket 0, so they are sampled
    ws.con.execute("INSERT INTO invoice_lines SELECT * REPLACE (NULL AS customer_id) "
                   "FROM invoice_lines LIMIT 7")
    ws.con.execute("INSERT INTO invoice_lines SELECT * FROM invoice_lines LIMIT 50")
    null_bucket = ws.con.execute(
        "SELECT abs(CAST(CAST(hash(CAST(NULL AS VARCHAR)) AS BIT) AS BIGINT)) % 3").fetchone()
    assert null_bucket == (0,)
    customers = ws.con.execute(
        "SELECT count(DISTINCT customer_id) FROM invoice_lines").fetchone()
    assert customers is not None and 200 < customers[0] <= 300
    tables, sampled = gates._sample(ws, 100)  # ceil(customers / 100) = 3 buckets
    try:
        got = tables.lines.to_pyarrow()
        want = ws.con.execute(REFERENCE.format(buckets=3)).to_arrow_table()
        assert got.schema == want.schema
        assert got.equals(want)  # every column, row by row, in order
        assert got.num_rows > 0 and got["customer_id"].null_count == 7
        distinct = ws.con.execute(
            f"SELECT count(DISTINCT customer_id) FROM ({REFERENCE.format(buckets=3)})"
        ).fetchone()
        assert distinct is not None and sampled == distinct[0]
        assert 50 <= sampled <= 150
    finally:
        ws.con.execute(f"DROP TABLE IF EXISTS temp.{gates.SAMPLE_TABLE}")


def test_a_small_workspace_is_not_sampled() -> None:
    ws = simulated(customers=300, days=540, seed=5)
    tables, sampled = gates._sample(ws, 300)
    assert sampled is None
    assert tables.lines.get_name() == "invoice_lines"
