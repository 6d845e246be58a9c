"""Typed settings: where the workspace lives and the thresholds users may change.

Values come from arguments first, then environment variables (``SALESRADAR_*``), then defaults.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_WORKSPACE = Path("salesradar.duckdb")
WORKSPACE_ENV = "SALESRADAR_WORKSPACE"
# DuckDB spills to disk past this; 3 GB keeps a 10M-line CSV import at full speed (measured in
# docs/benchmarks.md) while leaving room on an ordinary laptop
MEMORY_LIMIT_ENV = "SALESRADAR_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "3GB"


# what the models' own arrays, frames and fitted trees take beside DuckDB while a refresh scores
# the 10M-line company (about 1 GB, measured in docs/benchmarks.md): DuckDB's limit leaves it to
# them while they run, so that the whole process stays within the memory limit
MODELS_MEMORY_RESERVE = 1_200_000_000
_UNITS = {"": 1, "b": 1, "byte": 1, "bytes": 1,
          "kb": 1000, "mb": 1000**2, "gb": 1000**3, "tb": 1000**4,
          "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}


def memory_limit() -> str:
    """The memory a salesradar process may use: $SALESRADAR_MEMORY_LIMIT (e.g. "8GB"), else
    3 GB. DuckDB's own limit, less :data:`MODELS_MEMORY_RESERVE` while the models run."""
    return os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT


def size_bytes(size: str) -> int | None:
    """A size as DuckDB reads it ("3GB" is 3·1000³ bytes, "2GiB" 2·1024³), in bytes; None
    when it is not one (DuckDB then says why).

    >>> size_bytes("3GB"), size_bytes("1.5 GiB"), size_bytes("lots")
    (3000000000, 1610612736, None)
    """
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", size)
    if found is None or found[2].lower() not in _UNITS:
        return None
    return int(float(found[1]) * _UNITS[found[2].lower()])


def models_memory_limit(limit: str | None = None) -> int | None:
    """DuckDB's limit, in bytes, while the models run: the memory limit (``limit``, default
    :func:`memory_limit`) less :data:`MODELS_MEMORY_RESERVE`, and at least half of it (None:
    the limit is not a size).

    >>> models_memory_limit("3GB"), models_memory_limit("1GB"), models_memory_limit("16GiB")
    (1800000000, 500000000, 15979869184)
    """
    size = size_bytes(memory_limit() if limit is None else limit)
    return None if size is None else max(size - MODELS_MEMORY_RESERVE, size // 2)


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
