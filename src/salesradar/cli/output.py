"""Printing for the CLI: rich tables for people, JSON for machines, one paragraph per error."""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from salesradar.errors import Issue, Severity

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def print_json(data: Any) -> None:
    """JSON on stdout: UTF-8 Hebrew as is, dates as ISO strings, an unknown number (NaN, an
    infinity) as null: strict JSON that every parser reads."""
    sys.stdout.write(json.dumps(strict_json(data), ensure_ascii=False, indent=2,
                                default=_default, allow_nan=False) + "\n")


def strict_json(data: Any) -> Any:
    """``data`` with every float that JSON cannot hold (NaN, ±infinity) replaced by None."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: strict_json(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [strict_json(v) for v in data]
    if hasattr(data, "to_dict") and not isinstance(data, type):
        return strict_json(data.to_dict())
    return data


def _default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return str(value)


def fmt(value: Any) -> str:
    """A value for a table cell: thousands separated, short for small numbers, dates ISO."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 10 else f"{value:,.0f}"
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value)


def progress() -> Progress:
    """A spinner with the current stage, on stderr so that --json output stays clean."""
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )


def emit(data: Any, as_json: bool, render: Callable[[], None]) -> None:
    if as_json:
        print_json(data)
    else:
        render()


def table(title: str | None, columns: Iterable[str], rows: Iterable[Iterable[Any]], *,
          whole: int = 0) -> Table:
    """A Rich table that wraps at any width and never cuts a value with an ellipsis: long cells
    fold onto the next line. The first ``whole`` columns (the ids a user types) are never
    broken: they keep the width of their longest value."""
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    out = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        if i < whole:
            width = max([len(column), *(len(r[i]) for r in cells)])
            out.add_column(column, no_wrap=True, min_width=width, overflow="fold")
        else:
            out.add_column(column, overflow="fold")
    for row in cells:
        out.add_row(*row)
    return out


def print_issues(issues: list[Issue], max_examples: int = 20) -> None:
    """Issues grouped by severity, column and reason: the exact count, then the first rows."""
    groups: dict[tuple[Severity, str | None, str], list[Issue]] = defaultdict(list)
    summaries: dict[tuple[Severity, str | None, str], Issue] = {}
    for issue in issues:
        key = (issue.severity, issue.column, issue.reason)
        if issue.count is not None and issue.row is None:
            summaries[key] = issue
        else:
            groups[key].append(issue)
    style = {"error": "red", "warning": "yellow", "info": "dim"}
    for key in list(summaries) + [k for k in groups if k not in summaries]:
        severity, column, reason = key
        label = f"[{style[severity]}]{severity}[/]"
        rows = [m for m in groups.get(key, []) if m.row is not None]
        if not rows:
            for member in groups.get(key) or [summaries[key]]:
                err_console.print(f"{label}: {member}", highlight=False)
            continue
        where = f" in {column}" if column else ""
        total = summaries[key].count or len(rows) if key in summaries else len(rows)
        err_console.print(f"{label}{where}: {reason} — {total:,} row(s)", highlight=False)
        for issue in rows[:max_examples]:
            value = f" value {issue.value!r}" if issue.value is not None else ""
            err_console.print(f"    row {issue.row}{value}", highlight=False)
        if total > min(len(rows), max_examples):
            err_console.print(f"    ... and {total - min(len(rows), max_examples):,} more "
                              "(--json lists up to 10,000)", highlight=False)
