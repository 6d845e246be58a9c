"""Run declared KPIs: group by period and dimensions, add previous and change, flags, marts.

The verbose way to get revenue by rep and month is a hand-written ``GROUP BY`` per engine. Here the
KPI is declared once and the request picks the split:

>>> from salesradar.workspace import Workspace
>>> ws = Workspace.open(":memory:")
>>> compute_kpi(ws.backend, "revenue", by=("rep",), period="month").column_names
['period', 'rep_id', 'value', 'previous', 'change', 'change_pct']

Every result row holds ``period`` (the start date of the period, absent without a grain), one
column per dimension, ``value``, ``previous`` (the value of the previous period of the same grain
for the same dimension values; null when that period has no row), ``change`` = value − previous,
``change_pct`` = change ÷ |previous| (null when previous is 0 or null), and one ``flag_<name>``
column per flag of the KPI. The result is also written to the workspace as the mart
:func:`mart_name`, so that pages and alerts read it without recomputing.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import pyarrow as pa
import pyarrow.compute

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.metrics.catalog._common import agg, ratio, shared_subexpressions, unique
from salesradar.metrics.flags import KpiSettings, apply_flags
from salesradar.metrics.frame import DIMENSIONS, Query, check_request, period_start, shift
from salesradar.metrics.marts import data_stamp, fresh_mart, record_mart, request_key
from salesradar.metrics.registry import REGISTRY, Kind, Kpi, KpiInfo


def list_kpis() -> list[KpiInfo]:
    """Every declared KPI, in catalogue order."""
    return [REGISTRY[name].info() for name in REGISTRY]


def mart_name(name: str, period: str | None, by: Sequence[str]) -> str:
    """Name of the mart a KPI result is persisted as, e.g. ``mart_revenue_month_rep``."""
    dims = "_".join(d for d in by if d != "company") or "company"
    return f"mart_{name}_{period or 'all'}_{dims}"


def _check_tables(present: set[str], kpi: Kpi) -> None:
    """Refuse a KPI whose tables are not among ``present`` (the workspace's table names)."""
    missing = [t for t in kpi.tables if t not in present]
    if missing:
        raise UserInputError(
            f"{kpi.name} needs the table(s) {', '.join(missing)}, which the workspace does not "
            "have; import them first"
        )


def value_expr(kpi: Kpi, q: Query) -> Any:
    """The Ibis table ``period?, dims..., value`` of one KPI for every period it computes."""
    if kpi.kind is Kind.SIMPLE:
        assert kpi.source is not None and kpi.formula is not None
        t = q.fact(kpi.source)
        m = agg(t, q.keys, **{k: f(t) for k, f in kpi.measures.items()})
        return m.select(*q.keys, value=kpi.formula(m))
    assert kpi.build is not None
    return kpi.build(q).select(*q.keys, "value")


def with_previous(t: Any, q: Query, value_columns: Sequence[str] = ("value",)) -> Any:
    """Add ``previous``, ``change`` and ``change_pct`` for each value column of ``t``.

    With one value column the new columns are named ``previous``, ``change``, ``change_pct``;
    with several, ``<column>__previous`` and so on.
    """
    def names(col: str) -> tuple[str, str, str]:
        if len(value_columns) == 1:
            return "previous", "change", "change_pct"
        return f"{col}__previous", f"{col}__change", f"{col}__change_pct"

    if q.grain is None:
        return t.mutate(**{
            new: ibis.null(t[col].type() if i < 2 else "float64")
            for col in value_columns for i, new in enumerate(names(col))
        })
    dims = q.dim_columns
    prev = t.select(
        _pp=shift(t.period, q.grain),
        **{f"_k_{c}": t[c] for c in dims},
        **{f"_prev_{col}": t[col] for col in value_columns},
    )
    preds = [t.period == prev._pp] + [t[c].identical_to(prev[f"_k_{c}"]) for c in dims]
    j = t.left_join(prev, preds)
    out = {}
    for col in value_columns:
        p, c, pct = names(col)
        previous = j[f"_prev_{col}"]
        out[p] = previous
        out[c] = j[col] - previous
        out[pct] = ratio(j[col] - previous, previous.abs())
    return j.select(*q.keys, *value_columns, **out)


def _in_range(t: Any, q: Query) -> Any:
    if q.grain is not None and q.start is not None:
        t = t.filter(t.period >= ibis.date(period_start(q.start, q.grain)))
    return t


def _materialize(
    backend: Any, expr: Any, name: str | None, present: Collection[str] = ()
) -> pa.Table:
    """Run ``expr``; with a ``name``, as that table (replacing it when in ``present``)."""
    if name is None:
        result: pa.Table = expr.to_pyarrow()
        return result
    if name in present:
        backend.drop_table(name)
    backend.create_table(name, expr)
    stored: pa.Table = backend.table(name).to_pyarrow()
    return stored


def _query(
    kpi: Kpi, backend: Any, by: Sequence[str], period: str | None, start: date | None,
    end: date | None, sku_detail: bool = False,
) -> Query:
    dims, grain = check_request(kpi.name, kpi.dimensions, kpi.periods, tuple(by), period)
    if start is not None and end is not None and start > end:
        raise UserInputError(f"--from {start} is after --to {end}")
    return Query(backend, dims, grain, start, end, sku_detail)


def kpi_expr(
    backend: Any,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    settings: KpiSettings | None = None,
    ordered: bool = True,
    sku_detail: bool = False,
) -> Any:
    """The full Ibis expression of a KPI request: what :func:`compute_kpi` runs (``explain``).

    ``sku_detail`` (see :class:`~salesradar.metrics.frame.Query`) is for KPIs run together.
    """
    kpi = REGISTRY[name]
    q = _query(kpi, backend, by, period, start, end, sku_detail or kpi.sku_detail)
    t = with_previous(value_expr(kpi, q), q)
    t = apply_flags(t, q, kpi.flags, settings or KpiSettings())
    t = _in_range(t, q)
    return t.order_by(*q.keys) if q.keys and ordered else t


def explain_kpi(
    backend: Any,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> str:
    """The SQL the engine of ``backend`` would run for this KPI request."""
    return str(ibis.to_sql(kpi_expr(backend, name, by, period, start, end)))


def compute_kpi(
    backend: Any,
    name: str,
    by: Sequence[str] = (),
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    persist: bool = True,
    settings: KpiSettings | None = None,
) -> pa.Table:
    """Compute one KPI by dimensions ``by`` and grain ``period`` over ``[start, end]``.

    Parameters
    ----------
    backend
        An Ibis backend holding the canonical tables (DuckDB, PostgreSQL or Spark).
    name
        KPI name (see :func:`list_kpis`).
    by
        Dimension names, e.g. ``("rep",)``; ``()`` or ``("company",)`` for the company total.
    period
        ``day``, ``week``, ``month``, ``quarter``, ``year`` or ``None``/``"none"``.
    start, end
        Inclusive date bounds on the KPI's date column; periods are whole periods from the one
        holding ``start``.
    persist
        Write the result as the mart :func:`mart_name` and read it back from there; when the
        same request was persisted on the same data, read the mart without computing (see
        :mod:`salesradar.metrics.marts`).

    Raises
    ------
    UserInputError
        Unknown KPI, unsupported dimension or period, or a missing table.
    """
    kpi = REGISTRY[name]
    present = table_names(backend)  # once: it lists the catalog on every call
    _check_tables(present, kpi)
    if not persist:
        return _materialize(backend, kpi_expr(backend, name, by, period, start, end,
                                              settings=settings), None)
    _query(kpi, backend, by, period, start, end)  # a bad request fails before the mart is read
    mart = mart_name(name, period if period != "none" else None, by)
    key = request_key(name, by, period, start, end, settings or KpiSettings())
    stamp = data_stamp(backend, unique([*kpi.tables, *_lookup_tables(by)]), present)
    stored = fresh_mart(backend, mart, key, stamp, present)
    if stored is not None:  # same request, same data: the mart is the answer
        return stored
    expr = kpi_expr(backend, name, by, period, start, end, settings=settings)
    table = _materialize(backend, expr, mart, present)
    record_mart(backend, mart, key, stamp)
    return table


def _lookup_tables(by: Sequence[str]) -> list[str]:
    """Tables the dimensions ``by`` are looked up in (``team`` -> reps)."""
    found = (DIMENSIONS[d].lookup for d in by if d in DIMENSIONS)
    return [lookup[0] for lookup in found if lookup is not None]


def compute_kpis(
    backend: Any,
    names: Iterable[str],
    by: Sequence[str] = (),
    period: str | None = None,
    start: date | None = None,
    end: date | None = None,
    *,
    settings: KpiSettings | None = None,
) -> dict[str, pa.Table]:
    """Compute several KPIs in one query: the engine shares the work they have in common.

    Simple KPIs on the same fact table share one aggregation; the others share their
    sub-expressions (revenue per customer and month, trailing revenue, ...), which are built
    once per request (:func:`~salesradar.metrics.catalog._common.shared`). Results are the same
    tables :func:`compute_kpi` returns (without persisting marts).
    """
    kpis = [REGISTRY[n] for n in names]
    present = table_names(backend)
    batches: dict[str, list[Kpi]] = {}
    others: list[Kpi] = []
    for kpi in kpis:
        _check_tables(present, kpi)
        if kpi.kind is Kind.SIMPLE and not kpi.flags and kpi.source is not None:
            batches.setdefault(kpi.source, []).append(kpi)
        else:
            others.append(kpi)
    detail = any(k.sku_detail for k in others)  # then one aggregate feeds the other
    with shared_subexpressions():
        exprs = {
            k.name: kpi_expr(backend, k.name, by, period, start, end, settings=settings,
                             ordered=False, sku_detail=detail)
            for k in others
        }
        for group in batches.values():
            exprs.update(_simple_batch(backend, group, by, period, start, end))
    results = _run_together(exprs) if exprs else {}
    return {n: results[n] for n in (k.name for k in kpis)}


def _simple_batch(
    backend: Any, group: list[Kpi], by: Sequence[str], period: str | None,
    start: date | None, end: date | None,
) -> dict[str, Any]:
    """Simple KPIs on one fact table: every measure in one aggregation, one result per KPI."""
    q = _query(group[0], backend, by, period, start, end)
    for kpi in group[1:]:
        _query(kpi, backend, by, period, start, end)
    assert group[0].source is not None
    t = q.fact(group[0].source)
    measures = {f"{kpi.name}__{k}": f(t) for kpi in group for k, f in kpi.measures.items()}
    m = agg(t, q.keys, **measures)
    formulas = {kpi.name: kpi.formula for kpi in group if kpi.formula is not None}
    wide = m.select(*q.keys, **{
        name: formula(_Prefixed(m, name)) for name, formula in formulas.items()
    })
    wide = _in_range(with_previous(wide, q, list(formulas)), q)
    companions = ("previous", "change", "change_pct")
    return {
        name: wide.select(*q.keys, value=wide[name], **{
            # with_previous names a single value column's companions without a prefix
            c: wide[c if len(formulas) == 1 else f"{name}__{c}"] for c in companions
        })
        for name in formulas
    }


_MEASURES = ("value", "previous", "change")


def _run_together(exprs: dict[str, Any]) -> dict[str, pa.Table]:
    """Run several KPI expressions as one ``UNION ALL`` query and split the result.

    One query lets the engine share the work the KPIs have in common (Ibis turns repeated
    sub-expressions, such as revenue per customer and month, into common table expressions).
    Exact decimals travel in ``*_d`` columns, everything else as float64 (counts are cast back).
    """
    flags = sorted({c for e in exprs.values() for c in e.columns if c.startswith("flag_")})
    keys = [c for c in next(iter(exprs.values())).columns if c not in
            (*_MEASURES, "change_pct") and not c.startswith("flag_")]
    parts = []
    types: dict[str, Any] = {}
    for name, e in exprs.items():
        vtype = e.schema()["value"]
        types[name] = vtype
        is_dec = vtype.is_decimal()
        cols: dict[str, Any] = {"_kpi": ibis.literal(name)}
        for m in _MEASURES:
            cols[f"{m}_f"] = ibis.null("float64") if is_dec else e[m].cast("float64")
            cols[f"{m}_d"] = e[m].cast("decimal(38, 4)") if is_dec else ibis.null(
                "decimal(38, 4)")
        cols["change_pct"] = e.change_pct
        for flag in flags:
            cols[flag] = e[flag] if flag in e.columns else ibis.null("boolean")
        parts.append(e.select(*keys, **cols))
    union = parts[0] if len(parts) == 1 else ibis.union(*parts)
    table: pa.Table = union.to_pyarrow()
    if keys:
        table = table.sort_by([(k, "ascending") for k in keys])
    out = {}
    for name, e in exprs.items():
        part = table.filter(pa.compute.equal(table["_kpi"], name))
        is_dec = types[name].is_decimal()
        arrow_type = types[name].to_pyarrow()
        cols = {k: part[k] for k in keys}
        for m in _MEASURES:
            cols[m] = part[f"{m}_d" if is_dec else f"{m}_f"].cast(arrow_type)
        cols["change_pct"] = part["change_pct"]
        for flag in (c for c in e.columns if c.startswith("flag_")):
            cols[flag] = part[flag]
        out[name] = pa.table(cols)
    return out


class _Prefixed:
    """Attribute access ``m.revenue`` onto the column ``<kpi>__revenue`` of a wide table."""

    def __init__(self, table: Any, prefix: str) -> None:
        self._table = table
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        return self._table[f"{self._prefix}__{name}"]


def plain_value(value: Any) -> Any:
    """A value as JSON has it: decimals as floats, dates as ISO text, NaN as null."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value != value:  # NaN from an engine means "no value"
        return None
    return value


def plain_rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of a result table, JSON-ready (see :func:`plain_value`)."""
    return [{k: plain_value(v) for k, v in row.items()} for row in table.to_pylist()]


def kpi_records(table: pa.Table) -> list[dict[str, Any]]:
    """JSON-ready rows: ``period`` (ISO date or null), dimensions, ``value``, ``previous``,
    ``change``, ``change_pct`` and ``flags`` (the names of the flags that are set)."""
    flag_cols = [c for c in table.column_names if c.startswith("flag_")]
    rows = []
    for row in table.to_pylist():
        out: dict[str, Any] = {"period": None}
        if isinstance(row.get("period"), datetime):  # Spark truncates dates to timestamps
            row["period"] = row["period"].date()
        out.update({k: plain_value(v) for k, v in row.items() if not k.startswith("flag_")})
        out["flags"] = [c.removeprefix("flag_") for c in flag_cols if row[c]]
        rows.append(out)
    return rows
