"""Typed settings: where the workspace lives and the thresholds users may change.

Values come from arguments first, then environment variables (``SALESRADAR_*``), then defaults.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = Path("salesradar.duckdb")
WORKSPACE_ENV = "SALESRADAR_WORKSPACE"
# DuckDB spills to disk past this; 3 GB keeps a 10M-line CSV import at full speed (measured in
# docs/benchmarks.md) while leaving room on an ordinary laptop
MEMORY_LIMIT_ENV = "SALESRADAR_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"


def memory_limit() -> str:
    """DuckDB's memory limit: $SALESRADAR_MEMORY_LIMIT (e.g. "8GB"), else 3 GB."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def workspace_path(explicit: str | Path | None = None) -> Path:
    """The workspace file: explicit path, else $SALESRADAR_WORKSPACE, else ./salesradar.duckdb."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(WORKSPACE_ENV)
    return Path(env) if env else DEFAULT_WORKSPACE


@dataclass(frozen=True)
class ImportSettings:
    """How strict an import is."""

    unknown_references: str = "warning"  # "warning" or "error": ids not found in master tables
    max_examples: int = 20  # issues shown per (column, reason) in text output
    max_issues: int = 10_000  # issues kept in total for JSON output; counts stay exact
