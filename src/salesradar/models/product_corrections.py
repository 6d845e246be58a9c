"""The company's corrections of the non-product codes (:mod:`salesradar.models.non_product`):
SKU codes it marked as not a product, or kept as a product though detected.

Stored in the workspace (a table of their own), read with plain SQL: checking whether the
scores are current (:func:`salesradar.models.store.scores_key`) reads them without loading the
detection or Ibis.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from salesradar.engine import table_names
from salesradar.errors import UserInputError

OVERRIDES_TABLE = "_salesradar_non_product"


def is_workspace(source: Any) -> bool:
    """Whether ``source`` is a workspace (not the tables of one, not an Ibis table); asked
    without building its Ibis backend."""
    return hasattr(source, "con") and hasattr(source, "table") and hasattr(source, "path")


def _ensure_overrides(ws: Any) -> None:
    ws.con.execute(
        f"CREATE TABLE IF NOT EXISTS {OVERRIDES_TABLE} (sku VARCHAR PRIMARY KEY, "
        "non_product BOOLEAN NOT NULL, set_by VARCHAR, set_at TIMESTAMP)"
    )


def _override_rows(ws: Any, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The stored decisions' ``columns`` as plain rows, by SKU (none for a non-workspace)."""
    if not is_workspace(ws) or OVERRIDES_TABLE not in table_names(ws):
        return []
    rows = ws.con.execute(
        f"SELECT {', '.join(columns)} FROM {OVERRIDES_TABLE} ORDER BY sku"  # noqa: S608 (constants)
    ).fetchall()
    return [dict(zip(columns, r, strict=True)) for r in rows]


def non_product_overrides(ws: Any) -> pa.Table:
    """The company's decisions: ``sku, non_product`` (true: not a product; false: a real
    product even if detected), ``set_by, set_at``; empty when none were set."""
    schema = pa.schema([("sku", pa.string()), ("non_product", pa.bool_()),
                        ("set_by", pa.string()), ("set_at", pa.timestamp("us"))])
    return pa.Table.from_pylist(_override_rows(ws, tuple(schema.names)), schema=schema)


def override_decisions(ws: Any) -> list[dict[str, Any]]:
    """The decisions as ``{"sku": ..., "non_product": ...}`` rows, by SKU: what the scores and
    the detection depend on. Plain rows, no Arrow table: building one imports pandas (half a
    second), which the check that nothing changed (:func:`salesradar.models.store.scores_key`)
    must not pay."""
    return _override_rows(ws, ("sku", "non_product"))


def set_non_product(
    ws: Any, sku: str, non_product: bool, *, set_by: str = "cli", at: dt.datetime | None = None
) -> None:
    """Record the company's decision for ``sku``: not a product (``non_product=True``) or a real
    product (``False``, kept even when detected). Replaces an earlier decision."""
    code = str(sku).strip()
    if not code:
        raise UserInputError("give the SKU code to mark, e.g. salesradar products non-product "
                             "--add POST")
    _ensure_overrides(ws)
    ws.con.execute(
        f"INSERT OR REPLACE INTO {OVERRIDES_TABLE} VALUES (?, ?, ?, ?)",  # noqa: S608 (a constant)
        [code, bool(non_product), set_by, at or dt.datetime.now(dt.UTC).replace(tzinfo=None)],
    )


def clear_non_product(ws: Any, sku: str) -> bool:
    """Forget the company's decision for ``sku`` (detection decides again); False if none."""
    if OVERRIDES_TABLE not in table_names(ws):
        return False
    before = ws.con.execute(
        f"SELECT count(*) FROM {OVERRIDES_TABLE} WHERE sku = ?", [str(sku)]  # noqa: S608 (a constant)
    ).fetchone()
    ws.con.execute(f"DELETE FROM {OVERRIDES_TABLE} WHERE sku = ?", [str(sku)])  # noqa: S608 (a constant)
    return bool(before and before[0])
