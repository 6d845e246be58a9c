"""The first rows of each group by an order: a row number engines run as a per-group top-N.

Ibis numbers rows from 0 and compiles ``ibis.row_number()`` to ``ROW_NUMBER() OVER (...) - 1``.
The ``- 1`` hides the window from DuckDB's top-N rewrite, so "keep the first five per slice"
sorts every row of every slice (1.7 CPU seconds on 5.6M rows instead of 0.1). This module's
operation compiles to a plain ``ROW_NUMBER()`` counting from 1 over a frame every engine accepts
(Spark allows only ``ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW`` for it), and
:func:`first_rows` keeps the rows numbered ``1 .. n``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.operations as ops
from ibis.backends.sql.compilers.base import SQLGlotCompiler


class RowNumberFromOne(ops.Analytic):  # type: ignore[misc]
    """``ROW_NUMBER()`` as SQL defines it: 1 for the first row of the window's order."""

    dtype = dt.int64


def _visit_row_number_from_one(self: SQLGlotCompiler, op: RowNumberFromOne, **_: Any) -> Any:
    return self.f.row_number()


# Every SQL engine Ibis drives (DuckDB, PostgreSQL, Spark) compiles through SQLGlotCompiler,
# which finds an operation's rule as the method ``visit_<operation name>``.
SQLGlotCompiler.visit_RowNumberFromOne = _visit_row_number_from_one


def row_number_from_one(group_by: Sequence[str] | None, order_by: Any) -> Any:
    """The 1-based row number of each row within ``group_by`` in the order ``order_by``."""
    window = ibis.cumulative_window(group_by=list(group_by) if group_by else None,
                                    order_by=order_by)
    return RowNumberFromOne().to_expr().over(window)


def first_rows(t: Any, group_by: Sequence[str], order_by: Any, n: int,
               name: str = "_row") -> Any:
    """``t`` with the first ``n`` rows of each ``group_by`` group in ``order_by`` order, each
    numbered from 1 in the column ``name``; ties are broken arbitrarily, as by ``ROW_NUMBER``."""
    numbered = t.mutate(**{name: row_number_from_one(group_by, order_by)})
    return numbered.filter(numbered[name] <= n)
