"""The header and first rows of a file, read without reading the file.

The mapping detector (:mod:`salesradar.io.detect`) and an upload page's preview need to see a
source before it is imported: its headers, a few hundred rows as text, its encoding and delimiter.
A CSV is read line by line from its start (gzip decompressed on the fly), an Excel sheet row by
row, a Parquet file one record batch: a 1 GB export costs what its first rows cost.
"""

from __future__ import annotations

import csv
import io
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesradar.errors import UserInputError
from salesradar.io.sources import (
    CSV_SUFFIXES,
    EXCEL_SUFFIXES,
    PARQUET_SUFFIXES,
    _cell_text,
    _open_binary,
    detect_encoding,
)

SAMPLE_ROWS = 1000
DELIMITERS = ",;\t|"


@dataclass(frozen=True)
class Sample:
    """The first rows of a source as text cells (``None`` for an empty cell)."""

    file: str  # the file's name, as issues name it
    headers: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    kind: str  # csv, excel or parquet
    encoding: str | None = None
    delimiter: str | None = None
    skip_rows: int = 0
    sheet: str | None = None
    typed: dict[str, str] = field(default_factory=dict)  # header -> type, for typed sources

    def column(self, header: str) -> list[str]:
        """The non-empty sample values of one column."""
        index = self.headers.index(header)
        return [v for row in self.rows if index < len(row) and (v := row[index]) is not None]


def _sniff_delimiter(lines: list[str]) -> str:
    """The candidate delimiter that splits the header and the first rows into the most equal,
    most numerous fields (quotes respected)."""
    best, best_score = ",", -1.0
    for delimiter in DELIMITERS:
        counts = [len(row) for row in csv.reader(lines[:20], delimiter=delimiter)]
        if not counts or counts[0] < 2:
            continue
        same = sum(1 for c in counts if c == counts[0]) / len(counts)
        score = same * 1000 + counts[0]
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _cell(value: str) -> str | None:
    text = value.strip().replace("\ufeff", "")
    return text or None


def read_csv_sample(path: Path, rows: int = SAMPLE_ROWS, *, encoding: str | None = None,
                    delimiter: str | None = None, skip_rows: int = 0) -> Sample:
    """Header and first ``rows`` records of a delimited text file (any delimiter, quoted cells
    spanning lines read as the file has them), streamed from its start."""
    if path.stat().st_size == 0:
        raise UserInputError(f"{path.name} is empty (0 bytes): nothing to import")
    encoding = encoding or detect_encoding(path)
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace",
                                                     newline="") as text:
        lines = [line for line in itertools.islice(text, skip_rows, skip_rows + rows + 50)
                 if line.strip("\r\n")]
    if not lines:
        raise UserInputError(f"{path.name} has no header line: nothing to import")
    delimiter = delimiter or _sniff_delimiter(lines)
    records = [r for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
    header = tuple(_cell(h) or f"column{i + 1}" for i, h in enumerate(records[0]))
    body = [tuple(_cell(c) for c in r) for r in records[1:rows + 1]]
    return Sample(path.name, header, body, "csv", encoding, delimiter, skip_rows)


def read_excel_sample(path: Path, rows: int = SAMPLE_ROWS, *, sheet: str | int | None = None,
                      skip_rows: int = 0) -> Sample:
    """Header and first ``rows`` non-empty rows of one sheet (the first unless named)."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        names = list(workbook.sheet_names)
        wanted = sheet if sheet is not None else 0
        if isinstance(wanted, int):
            if wanted >= len(names):
                raise UserInputError(f"{path.name} has no sheet number {wanted}")
            name = names[wanted]
        elif wanted in names:
            name = wanted
        else:
            raise UserInputError(f"{path.name} has no sheet {wanted!r}; its sheets: {names}")
        found: list[tuple[str | None, ...]] = []
        for row in itertools.islice(workbook.get_sheet_by_name(name).iter_rows(), skip_rows,
                                    None):
            cells = tuple(_cell_text(c) for c in row)
            if any(c is not None for c in cells):
                found.append(cells)
            if len(found) > rows:
                break
    except UserInputError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise UserInputError(f"{path.name} is not a readable workbook: {exc}") from None
    if not found:
        raise UserInputError(f"{path.name}: the sheet is empty: nothing to import")
    header = tuple(h or f"column{i + 1}" for i, h in enumerate(found[0]))
    return Sample(path.name, header, found[1:], "excel", skip_rows=skip_rows, sheet=name)


def read_parquet_sample(path: Path, rows: int = SAMPLE_ROWS) -> Sample:
    """Column names, types and the first ``rows`` rows of a Parquet file (one record batch)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        batch: Any = next(parquet.iter_batches(batch_size=rows), None)
        schema = parquet.schema_arrow
    except Exception as exc:  # pyarrow's own errors for a file that is not Parquet
        raise UserInputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    headers = tuple(str(n) for n in schema.names)
    data = batch.to_pylist() if batch is not None else []
    body = [tuple(_cell_text(r[h]) for h in headers) for r in data]
    typed = {str(f.name): str(f.type) for f in schema}
    return Sample(path.name, headers, body, "parquet", typed=typed)


def read_sample(path: Path | str, rows: int = SAMPLE_ROWS, *, encoding: str | None = None,
                delimiter: str | None = None, skip_rows: int = 0,
                sheet: str | int | None = None) -> Sample:
    """The header and first ``rows`` rows of a CSV/TXT, Excel or Parquet file, by extension."""
    source = Path(path)
    if not source.exists():
        raise UserInputError(f"file not found: {source}")
    if source.is_dir():
        raise UserInputError(f"{source} is a folder, not a file")
    suffix = source.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return read_parquet_sample(source, rows)
    if suffix in EXCEL_SUFFIXES:
        return read_excel_sample(source, rows, sheet=sheet, skip_rows=skip_rows)
    if suffix in CSV_SUFFIXES or suffix == ".gz":
        return read_csv_sample(source, rows, encoding=encoding, delimiter=delimiter,
                               skip_rows=skip_rows)
    raise UserInputError(
        f"{source.name}: unknown file type {suffix!r}; salesradar reads CSV/TXT/TSV (any "
        "delimiter), Excel (.xlsx, .xls, .ods) and Parquet"
    )
