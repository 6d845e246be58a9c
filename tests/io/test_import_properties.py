"""Property: any sequence of imports of valid files leaves the table that importing their union once
leaves. Each key has one fixed row here, so files may overlap but never disagree."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import INVOICE_HEADER, write_csv
from salesradar.io import import_file
from salesradar.workspace import Workspace

POOL = [
    f"INV{k // 3},{k % 3 + 1},2024-0{k % 9 + 1}-1{k % 10},C{k % 7},S{k % 5},{(k % 4) - 1 or 2},"
    f"{((k % 4) - 1 or 2) * 12.5},{((k % 4) - 1 or 2) * 7},R{k % 2}"
    for k in range(30)
]

files = st.lists(st.sets(st.integers(0, len(POOL) - 1), min_size=1, max_size=12),
                 min_size=1, max_size=5)


def table_after(sequence: list[list[int]], folder: Path, name: str) -> list[tuple[object, ...]]:
    with Workspace.open(folder / f"{name}.duckdb") as ws:
        for i, keys in enumerate(sequence):
            path = write_csv(folder / f"{name}{i}.csv", INVOICE_HEADER,
                             [POOL[k] for k in sorted(keys)])
            import_file(ws, "invoice_lines", path)
        return ws.con.execute("SELECT * FROM invoice_lines ORDER BY ALL").fetchall()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files)
def test_imports_in_sequence_equal_their_union_imported_once(sequence: list[set[int]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        in_sequence = table_after([sorted(s) for s in sequence], folder, "seq")
        union = sorted(set().union(*sequence))
        once = table_after([union], folder, "once")
        assert in_sequence == once
        assert len(once) == len(union)
