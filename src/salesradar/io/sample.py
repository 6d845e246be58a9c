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
from collections import Counter
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

# rows read to propose a mapping: every row of a file of a few MB (an empty date in row 9,000
# is seen), a steady sample of a big one; read in well under a second
SAMPLE_ROWS = 20_000
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
    skip_rows: int = 0  # title lines above the header
    sheet: str | None = None
    typed: dict[str, str] = field(default_factory=dict)  # header -> type, for typed sources

    def column(self, header: str) -> list[str]:
        """The non-empty sample values of one column."""
        index = self.headers.index(header)
        return [v for row in self.rows if index < len(row) and (v := row[index]) is not None]


def _field_counts(lines: list[str], delimiter: str) -> list[int]:
    return [len(row) for row in csv.reader(lines, delimiter=delimiter)]


def _modal(counts: list[int]) -> tuple[int, int]:
    """The most frequent field count of at least 2 and how often it occurs ((0, 0) if none)."""
    found = Counter(c for c in counts if c >= 2)
    return max(found.items(), key=lambda kv: (kv[1], kv[0])) if found else (0, 0)


def sniff_layout(lines: list[str], delimiter: str | None = None) -> tuple[str, int]:
    """The delimiter (the candidate that splits most lines into the same number of fields, the
    most fields on a tie) and how many of ``lines`` come before the header: a report's title
    lines have fewer fields than the header and rows under them."""
    head = lines[:30]
    if delimiter is None:
        scores = {d: _modal([len(r) for r in (_one_row(line, d) for line in head)])
                  for d in DELIMITERS}
        delimiter = max(DELIMITERS, key=lambda d: (scores[d][1], scores[d][0]))
    return delimiter, _titles([len(_one_row(line, delimiter)) for line in head])


def _titles(counts: list[int]) -> int:
    """How many leading lines are titles: at most half as many fields as the usual line has
    (a header one field short of its rows is still the header)."""
    width, _ = _modal(counts)
    short = max(1, width // 2)
    return next((i for i, c in enumerate(counts) if c > short), 0) if width else 0


def _one_row(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


def _cell(value: str) -> str | None:
    text = value.strip().replace("\ufeff", "")
    return text or None


def read_csv_sample(path: Path, rows: int = SAMPLE_ROWS, *, encoding: str | None = None,
                    delimiter: str | None = None, skip_rows: int | None = None) -> Sample:
    """Header and first ``rows`` records of a delimited text file (any delimiter, quoted cells
    spanning lines read as the file has them), streamed from its start.

    ``skip_rows`` lines above the header are skipped; when None, title lines above the header
    (a report's name and date) are found and their number kept in :attr:`Sample.skip_rows`.
    """
    if path.stat().st_size == 0:
        raise UserInputError(f"{path.name} is empty (0 bytes): nothing to import")
    encoding = encoding or detect_encoding(path)
    with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding, errors="replace",
                                                     newline="") as text:
        numbered = [(number, line) for number, line in enumerate(
            itertools.islice(text, skip_rows or 0, (skip_rows or 0) + rows + 80))
            if line.strip("\r\n")]
    if not numbered:
        raise UserInputError(f"{path.name} has no header line: nothing to import")
    lines = [line for _, line in numbered]
    delimiter, titles = sniff_layout(lines, delimiter)
    if skip_rows is None:
        skip_rows = numbered[titles][0] if titles else 0
        lines = lines[titles:]
    records = [r for r in csv.reader(lines, delimiter=delimiter) if any(c.strip() for c in r)]
    header = tuple(_cell(h) or f"column{i + 1}" for i, h in enumerate(records[0]))
    body = [tuple(_cell(c) for c in r) for r in records[1:rows + 1]]
    return Sample(path.name, header, body, "csv", encoding, delimiter, skip_rows)


def read_excel_sample(path: Path, rows: int = SAMPLE_ROWS, *, sheet: str | int | None = None,
                      skip_rows: int | None = None) -> Sample:
    """Header and first ``rows`` non-empty rows of one sheet (the first unless named); title
    rows above the header found as in :func:`read_csv_sample` when ``skip_rows`` is None."""
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
        found: list[tuple[int, tuple[str | None, ...]]] = []
        for number, row in enumerate(itertools.islice(
                workbook.get_sheet_by_name(name).iter_rows(), skip_rows or 0, None)):
            cells = tuple(_cell_text(c) for c in row)
            if any(c is not None for c in cells):
                found.append((number, cells))
            if len(found) > rows + 30:
                break
    except UserInputError:
        raise
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise UserInputError(f"{path.name} is not a readable workbook: {exc}") from None
    if not found:
        raise UserInputError(f"{path.name}: the sheet is empty: nothing to import")
    if skip_rows is None:
        titles = _titles([sum(1 for c in cells if c is not None) for _, cells in found[:30]])
        skip_rows = found[titles][0] if titles else 0
        found = found[titles:]
    header = tuple(h or f"column{i + 1}" for i, h in enumerate(found[0][1]))
    body = [cells for _, cells in found[1:rows + 1]]
    return Sample(path.name, header, body, "excel", skip_rows=skip_rows, sheet=name)


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
                delimiter: str | None = None, skip_rows: int | None = None,
                sheet: str | int | None = None) -> Sample:
    """The header and first ``rows`` rows of a CSV/TXT, Excel or Parquet file, by extension;
    title lines above the header are found unless ``skip_rows`` is given."""
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
