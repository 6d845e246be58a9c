"""Read a source (CSV, Excel, Parquet, SQL query) into a raw staging table in DuckDB.

Nothing here interprets values: CSV and Excel cells stay text, Parquet and SQL columns keep their
types. Each staged row keeps its place in the source (the staging table's ``rowid``), and
:meth:`StagedSource.lines` turns places into the file's own line numbers (the header is line 1;
blank lines, title lines and multi-line quoted cells counted as the file has them) or the sheet's
row numbers, so every issue names the line a user sees in an editor or in Excel. Files stream
through DuckDB; only Excel sheets (at most ~1M rows by the format's own limit) pass through Python
values.
"""

from __future__ import annotations

import codecs
import gzip
import io
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from salesradar.errors import Issue, UserInputError
from salesradar.io.mapping import Mapping
from salesradar.workspace import literal, quote

RAW_TABLE = "_salesradar_raw"
REJECT_TABLES = ("_salesradar_rejects", "_salesradar_reject_scans")
SNIFF_BYTES = 1 << 20
TRANSCODE_CHUNK = 8 << 20
HEBREW_FALLBACK = "windows-1255"
CSV_SUFFIXES = {".csv", ".txt", ".tsv", ".psv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}


LineFinder = Callable[[list[int]], dict[int, int]]


@dataclass
class StagedSource:
    """What a reader left in the raw staging table and what it learned on the way."""

    name: str  # the file name (or SQL query) issues refer to
    columns: dict[str, str]  # source header -> DuckDB type
    rows: int
    first_data_row: int  # row number of row position 0 when every row is one line
    row_position: str = "rowid"  # expression of a row's position in the source
    encoding: str | None = None
    delimiter: str | None = None
    issues: list[Issue] = field(default_factory=list)
    line_finder: LineFinder | None = None  # positions -> file lines, when not first_data_row + p

    def lines(self, positions: Iterable[int]) -> dict[int, int]:
        """The file's own line number (or the sheet's row) of each staged row position."""
        wanted = sorted({int(p) for p in positions})
        found = self.line_finder(wanted) if self.line_finder and wanted else {}
        return {p: found.get(p, self.first_data_row + p) for p in wanted}


def _open_binary(path: Path) -> Any:
    """The file's bytes, decompressed when it is gzipped."""
    return gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb")


def detect_encoding(path: Path) -> str:
    """By the byte-order mark (UTF-8, or Excel's "Unicode text", UTF-16), else UTF-8 when the first
    megabyte decodes as such, else Windows-1255.

    Israeli ERPs (Priority, Hashavshevet) still export Windows-1255; a mapping file's
    ``encoding:`` overrides the guess.
    """
    with _open_binary(path) as handle:
        head = handle.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the sniff boundary is fine
    except UnicodeDecodeError:
        return HEBREW_FALLBACK
    return "utf-8"


@contextmanager
def _as_utf8(path: Path, encoding: str) -> Iterator[Path]:
    """The file itself when DuckDB can read it as is, else a streamed UTF-8 copy."""
    if codecs.lookup(encoding).name in {"utf-8", "utf-8-sig"}:
        yield path
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with tempfile.TemporaryDirectory(prefix="salesradar-") as tmp:
        target = Path(tmp) / (path.stem + ".utf8.csv")
        with _open_binary(path) as src, target.open("wb") as dst:
            offset = 0
            while chunk := src.read(TRANSCODE_CHUNK):
                try:
                    dst.write(decoder.decode(chunk).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    raise UserInputError(
                        f"{path.name}: byte {offset + exc.start} is not valid {encoding}; "
                        "set `encoding:` in the mapping file to the file's real encoding"
                    ) from None
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield target


def _staged_columns(con: duckdb.DuckDBPyConnection, hidden: str = "") -> dict[str, str]:
    rows = con.execute(f"DESCRIBE {RAW_TABLE}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows if r[0] != hidden}


def _row_count(con: duckdb.DuckDBPyConnection) -> int:
    result = con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchone()
    return int(result[0]) if result else 0


def _ends_in_quotes(line: str, in_quotes: bool, dialect: tuple[str, str, str]) -> bool:
    """Whether a quoted cell is still open at the end of ``line``.

    ``dialect`` is (delimiters, quote, escape). A quote opens a cell only at the start of a field
    (``מק"ט`` is plain text); inside one, a doubled quote or the escape character is text.
    """
    delimiters, quote, escape = dialect
    if not in_quotes and quote not in line:
        return False
    field_start = not in_quotes
    index = 0
    while index < len(line):
        char = line[index]
        if in_quotes:
            if char == escape != quote:
                index += 1
            elif char == quote:
                if line[index + 1:index + 2] == quote:
                    index += 1
                else:
                    in_quotes = False
        else:
            if char == quote and field_start:
                in_quotes = True
            field_start = char in delimiters
        index += 1
    return in_quotes


def _lines_at(path: Path, offsets: Iterable[int]) -> dict[int, int]:
    """The line number (1-based) of each byte offset of a file, in one streamed pass."""
    found: dict[int, int] = {}
    wanted = sorted(set(offsets))
    line, start, index = 1, 0, 0
    with _open_binary(path) as handle:
        while index < len(wanted) and (chunk := handle.read(TRANSCODE_CHUNK)):
            end = start + len(chunk)
            while index < len(wanted) and wanted[index] < end:
                found[wanted[index]] = line + chunk.count(b"\n", 0, wanted[index] - start)
                index += 1
            line += chunk.count(b"\n")
            start = end
    return found


def csv_line_finder(
    path: Path, encoding: str, *, skip: int, dialect: tuple[str, str, str],
    rejected: frozenset[int],
) -> LineFinder:
    """Map staged row positions to the file's lines the way DuckDB's reader sees the file.

    The reader skips ``skip`` lines, then blank lines; the first record left is the header; a
    quoted cell may span lines (the record is named by its first line); rejected (malformed)
    records never reach the staging table. Runs only when an issue needs a line, and reads the
    file only as far as the last line asked for.
    """

    def find(positions: list[int]) -> dict[int, int]:
        found: dict[int, int] = {}
        pending = iter(positions)
        target = next(pending, None)
        position = -2  # the header will be -1, the first data row 0
        in_quotes = False
        with _open_binary(path) as raw, io.TextIOWrapper(raw, encoding=encoding,
                                                         newline="") as text:
            for number, line in enumerate(text, start=1):
                if target is None:
                    break
                if number <= skip:
                    continue
                starts = not in_quotes
                in_quotes = _ends_in_quotes(line, in_quotes, dialect)
                if not starts or number in rejected or not line.strip("\r\n"):
                    continue
                position += 1
                while target is not None and position == target:
                    found[target] = number
                    target = next(pending, None)
        return found

    return find


def _lines_before_header(path: Path, skip_rows: int) -> int:
    """The mapping's title lines plus the blank lines after them: the header is the next line.

    DuckDB's reader, told to skip N lines, takes line N + 1 as the header even when it is blank.
    """
    with _open_binary(path) as handle:
        for number, line in enumerate(handle):
            if number >= skip_rows and line.strip(b"\r\n"):
                return number
    return skip_rows


def stage_csv(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> StagedSource:
    """Stage a delimited text file; malformed rows become issues, not a half-read."""
    if path.stat().st_size == 0:
        raise UserInputError(f"{path.name} is empty (0 bytes): nothing to import")
    encoding = mapping.encoding or detect_encoding(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserInputError(f"unknown encoding {encoding!r} in the mapping file") from None
    _drop_rejects(con)
    options: dict[str, Any] = {
        "header": True,
        "all_varchar": True,
        "store_rejects": True,
        "rejects_table": "_salesradar_rejects",
        "rejects_scan": "_salesradar_reject_scans",
    }
    if mapping.delimiter:
        options["delim"] = mapping.delimiter
    with _as_utf8(path, encoding) as readable:
        skip = options["skip"] = _lines_before_header(readable, mapping.skip_rows)
        args = ", ".join(f"{k} := ?" for k in options)
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {RAW_TABLE} AS "
            f"SELECT * FROM read_csv(?, {args})",
            [str(readable), *options.values()],
        )
        dialect = con.execute(
            "SELECT Delimiter, Quote, Escape FROM sniff_csv(?, header := true, skip := ?"
            + (", delim := ?)" if mapping.delimiter else ")"),
            [str(readable), skip]
            + ([mapping.delimiter] if mapping.delimiter else []),
        ).fetchone()
        # DuckDB stores one reject per failing column; one issue per line is what a user wants.
        # Its byte position, not its line count, places a record among the file's lines.
        rejects = con.execute(
            "SELECT DISTINCT ON (line) coalesce(line_byte_position, byte_position), line, "
            "column_name, csv_line, error_message "
            "FROM _salesradar_rejects ORDER BY line, column_idx LIMIT 1000000"
        ).fetchall()
        line_of = _lines_at(readable, (int(r[0]) for r in rejects if r[0] is not None))
    issues = [
        Issue("error", f"malformed row: {message}", file=path.name,
              row=line_of[int(offset)] if offset is not None else int(line) + skip,
              column=column, value=(raw or "")[:200])
        for offset, line, column, raw, message in rejects[:10000]
    ]
    # what DuckDB's sniffer reports; "(empty)" stands for its defaults
    delimiters = mapping.delimiter or ",;\t|" + (str(dialect[0]) if dialect else "")
    quote = str(dialect[1]) if dialect and len(str(dialect[1])) == 1 else '"'
    escape = str(dialect[2]) if dialect and len(str(dialect[2])) == 1 else quote
    columns = _staged_columns(con)
    if len(columns) == 1 and len(next(iter(columns))) > 60:
        issues.append(Issue("warning", "the file was read as one single column; is the "
                            "delimiter right? Set `delimiter:` in the mapping file",
                            file=path.name))
    return StagedSource(
        name=path.name,
        columns=columns,
        rows=_row_count(con),
        first_data_row=2 + skip,
        encoding=encoding,
        delimiter=str(dialect[0]) if dialect else None,
        issues=issues,
        line_finder=csv_line_finder(path, encoding, skip=skip,
                                    dialect=(delimiters, quote, escape),
                                    rejected=frozenset(line_of.values())),
    )


def stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> StagedSource:
    """Stage a Parquet file, with its own column types, as a view: nothing is copied."""
    position = "_salesradar_row"
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {RAW_TABLE} AS SELECT * EXCLUDE (file_row_number), "
            f"file_row_number AS {position} FROM read_parquet({literal(str(path))}, "
            "file_row_number := true)"
        )
        rows = _row_count(con)
    except duckdb.Error as exc:
        raise UserInputError(f"{path.name} is not a readable Parquet file: {exc}") from None
    columns = _staged_columns(con, hidden=position)
    return StagedSource(path.name, columns, rows, first_data_row=1, row_position=position)


def _cell_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def stage_excel(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> StagedSource:
    """Stage one sheet of a workbook (the mapping's ``sheet:``, else the first) as text cells."""
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error types for corrupt files
        raise UserInputError(f"{path.name} is not a readable workbook: {exc}") from None
    sheet_names = list(workbook.sheet_names)
    wanted = mapping.sheet if mapping.sheet is not None else 0
    if isinstance(wanted, int):
        if wanted >= len(sheet_names):
            raise UserInputError(f"{path.name} has no sheet number {wanted}")
        sheet = workbook.get_sheet_by_index(wanted)
    elif wanted in sheet_names:
        sheet = workbook.get_sheet_by_name(wanted)
    else:
        raise UserInputError(f"{path.name} has no sheet {wanted!r}; its sheets: {sheet_names}")
    # from A1 on: the index of a row is its sheet row number - 1
    sheet_rows = sheet.to_python(skip_empty_area=False)
    numbered = [(number, row) for number, row in enumerate(sheet_rows, start=1)
                if number > mapping.skip_rows and any(_cell_text(c) is not None for c in row)]
    if not numbered:
        raise UserInputError(f"{path.name}: the sheet is empty: nothing to import")
    # empty rows, above the header or between data rows, are skipped as a CSV's blank lines
    header = [(_cell_text(h) or f"column{i + 1}") for i, h in enumerate(numbered[0][1])]
    body = numbered[1:]
    position = "_salesradar_row"
    columns = {
        name: pa.array([_cell_text(r[i]) if i < len(r) else None for _, r in body], pa.string())
        for i, name in enumerate(header)
    }
    columns[position] = pa.array([number for number, _ in body], pa.int64())
    arrow = pa.table(columns)
    con.register("_salesradar_arrow", arrow)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW_TABLE} AS SELECT * FROM _salesradar_arrow")
    finally:
        con.unregister("_salesradar_arrow")
    # the position is the sheet's own row number
    return StagedSource(path.name, _staged_columns(con, hidden=position), len(body),
                        first_data_row=0, row_position=position)


SQLITE_BATCH = 50_000


def _sqlite_path(url: str) -> str | None:
    """The database file of a ``sqlite:///file.db`` URL (None for other databases)."""
    if not url.startswith("sqlite:"):
        return None
    path = url.removeprefix("sqlite:").removeprefix("///")
    if not path or path.startswith("//") or path == ":memory:":
        raise UserInputError(f"{url}: name the SQLite file, e.g. sqlite:///erp.db or "
                             "sqlite:////srv/erp.db")
    return path


def stage_sqlite(con: duckdb.DuckDBPyConnection, path: str, query: str) -> StagedSource:
    """Stage a query on a SQLite file as text cells, converted later per the canonical schema.

    SQLite columns need no declared type and one column may hold integers, reals and text side by
    side; reading each value as text, as from a CSV, imports them all (a type guessed from the
    first rows would fail on the first value of another kind).
    """
    import sqlite3

    if not Path(path).is_file():
        raise UserInputError(f"no SQLite database at {path}")
    try:
        # DuckDB pulls the batches from its own threads
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error as exc:
        raise UserInputError(f"cannot open the SQLite database {path}: {exc}") from None
    try:
        cursor = source.execute(query)
        if cursor.description is None:
            raise UserInputError("the query returns no rows: use a SELECT")
        names = [str(d[0]) for d in cursor.description]
        schema = pa.schema([(n, pa.string()) for n in names])

        def batches() -> Iterator[pa.RecordBatch]:
            while rows := cursor.fetchmany(SQLITE_BATCH):
                yield pa.record_batch(
                    [pa.array([_cell_text(r[i]) for r in rows], pa.string())
                     for i in range(len(names))], schema=schema)

        reader = pa.RecordBatchReader.from_batches(schema, batches())
        con.register("_salesradar_arrow", reader)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE {RAW_TABLE} AS SELECT * FROM _salesradar_arrow")
        finally:
            con.unregister("_salesradar_arrow")
    except sqlite3.Error as exc:
        raise UserInputError(f"the query failed: {exc}") from None
    finally:
        source.close()
    return StagedSource("query", _staged_columns(con), _row_count(con), first_data_row=1)


def stage_sql(con: duckdb.DuckDBPyConnection, url: str, query: str) -> StagedSource:
    """Stage the result of a query on any database Ibis connects to (sqlite://, postgres://...).

    SQLite files are read by :func:`stage_sqlite`; other databases keep their column types.
    """
    import ibis

    sqlite_file = _sqlite_path(url)
    if sqlite_file is not None:
        return stage_sqlite(con, sqlite_file, query)

    try:
        source = ibis.connect(url)
    except Exception as exc:  # driver-specific connection errors
        raise UserInputError(f"cannot connect to {url.split('@')[-1]}: {exc}") from None
    try:
        batches = source.sql(query).to_pyarrow_batches()
        con.register("_salesradar_arrow", batches)
        con.execute(f"CREATE OR REPLACE TEMP TABLE {RAW_TABLE} AS SELECT * FROM _salesradar_arrow")
        con.unregister("_salesradar_arrow")
    except UserInputError:
        raise
    except Exception as exc:  # the database's own error for a bad query
        column = re.search(r"for column (\S+) with type", str(exc))
        if column:
            raise UserInputError(
                f"column {column.group(1)} of the query's result holds values of more than one "
                f"type ({exc}); cast it in the query, e.g. CAST({column.group(1)} AS TEXT) AS "
                f"{column.group(1)}: the import then converts it per the canonical schema"
            ) from None
        raise UserInputError(f"the query failed: {exc}") from None
    finally:
        source.disconnect()
    return StagedSource("query", _staged_columns(con), _row_count(con), first_data_row=1)


def stage_file(con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping) -> StagedSource:
    """Stage a file by its extension."""
    if not path.exists():
        raise UserInputError(f"file not found: {path}")
    if path.is_dir():
        raise UserInputError(f"{path} is a folder, not a file")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return stage_parquet(con, path, mapping)
    if suffix in EXCEL_SUFFIXES:
        return stage_excel(con, path, mapping)
    if suffix in CSV_SUFFIXES or suffix == ".gz":
        return stage_csv(con, path, mapping)
    raise UserInputError(
        f"{path.name}: unknown file type {suffix!r}; salesradar reads CSV/TXT/TSV (any "
        "delimiter), Excel (.xlsx, .xls, .ods) and Parquet; for a database use --from-sql"
    )


def _drop_rejects(con: duckdb.DuckDBPyConnection) -> None:
    for name in REJECT_TABLES:
        con.execute(f"DROP TABLE IF EXISTS {name}")


def drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    kind = con.execute(  # a literal: a bound parameter makes DuckDB import pandas
        "SELECT table_type FROM information_schema.tables "
        f"WHERE table_name = {literal(RAW_TABLE)}").fetchone()
    if kind:
        con.execute(f"DROP {'VIEW' if kind[0] == 'VIEW' else 'TABLE'} {quote(RAW_TABLE)}")
    _drop_rejects(con)
