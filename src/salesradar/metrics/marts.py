"""Fresh marts: a repeated KPI request on an unchanged workspace reads its mart, not the lines.

:func:`~salesradar.metrics.compute.compute_kpi` writes each result as a mart. Beside it, the
workspace keeps one row per mart in ``_salesradar_marts``: the request (KPI, dimensions, period,
date range, flag thresholds) and a *data stamp* of the tables the KPI reads. The stamp is the
import log (count, last import id and time) and the row count of each table, so any import, and
any other write that adds or removes rows, makes the mart stale and the next call recomputes it.

Only DuckDB workspaces (which have the import log) keep marts fresh this way; on PostgreSQL and
Spark, and in a workspace without the log, every call computes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

import pyarrow as pa

from salesradar.metrics.flags import KpiSettings
from salesradar.workspace import IMPORT_LOG, change_stamp, quote

MART_INDEX = "_salesradar_marts"


def request_key(name: str, by: Sequence[str], period: str | None, start: date | None,
                end: date | None, settings: KpiSettings) -> str:
    """The request a mart answers, as text."""
    return json.dumps([name, list(by), period, str(start), str(end), asdict(settings)])


def data_stamp(backend: Any, tables: Sequence[str], present: set[str]) -> str | None:
    """The imports that changed data and the row counts of ``tables``; None where freshness is
    not tracked.

    ``present`` is the backend's :func:`~salesradar.engine.table_names`.
    """
    if getattr(backend, "name", None) != "duckdb" or IMPORT_LOG not in present:
        return None
    counts = " UNION ALL ".join(
        f"SELECT '{t}', count(*)::VARCHAR FROM {quote(t)}"  # noqa: S608 (schema names)
        for t in sorted(tables) if t in present
    )
    rows = backend.con.execute(counts).fetchall() if counts else []
    return json.dumps([sorted(rows), list(change_stamp(backend.con))], default=str)


def fresh_mart(
    backend: Any, mart: str, key: str, stamp: str | None, present: set[str]
) -> pa.Table | None:
    """The stored mart when it answers ``key`` on data with ``stamp``; else None (``present``
    is the backend's :func:`~salesradar.engine.table_names`)."""
    if stamp is None or MART_INDEX not in present or mart not in present:
        return None
    hit = backend.con.execute(
        f"SELECT count(*) FROM {MART_INDEX} WHERE mart = ? AND request = ? AND stamp = ?",  # noqa: S608 (a constant)
        [mart, key, stamp],
    ).fetchone()
    if not hit or not hit[0]:
        return None
    stored: pa.Table = backend.table(mart).to_pyarrow()
    return stored


def record_mart(backend: Any, mart: str, key: str, stamp: str | None) -> None:
    """Remember that ``mart`` now answers ``key`` on data with ``stamp``."""
    if stamp is None:
        return
    con = backend.con
    con.execute(f"CREATE TABLE IF NOT EXISTS {MART_INDEX} (mart VARCHAR PRIMARY KEY, "
                "request VARCHAR, stamp VARCHAR, computed_at TIMESTAMP)")
    con.execute(f"INSERT OR REPLACE INTO {MART_INDEX} VALUES (?, ?, ?, now()::TIMESTAMP)",  # noqa: S608 (a constant)
                [mart, key, stamp])
