"""Import a source into a canonical table: all or nothing, idempotent, every problem reported.

The flow, all inside the workspace's DuckDB:

1. stage the source as raw values (:mod:`salesradar.io.sources`);
2. resolve each canonical column to a source header, a constant or a formula (the mapping file);
3. convert every column in one vectorized pass (:mod:`salesradar.io.parse`), keeping the raw text
   beside it so a failed conversion can be reported with its value;
4. check: unparseable values, empty required values, sign rules, duplicate keys in the file,
   ids unknown to the master tables; each check is counted exactly and illustrated by examples;
5. if any error was found, stop: the workspace is untouched. Otherwise, in one transaction,
   insert new keys, replace changed rows, leave identical rows alone, and log the import. Into an
   empty table, the typed table (built inside that transaction) becomes the table: no copy.

Re-importing a file therefore changes nothing, and importing a corrected file updates exactly the
corrected rows. With ``replace_documents`` (exports whose lines the ERP does not number), each
document in the file replaces all of its stored lines instead: a line deleted in the ERP goes.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from salesradar.config import ImportSettings
from salesradar.errors import ImportRejected, Issue, Severity, UserInputError
from salesradar.io import parse
from salesradar.io.mapping import ColumnMapping, Mapping, load_mapping, normalize_header
from salesradar.io.sources import RAW_TABLE, StagedSource, drop_staging, stage_file, stage_sql
from salesradar.schema import Column, ColumnType, Sign, Table, table
from salesradar.schema.tables import REFERENCES
from salesradar.workspace import IMPORT_LOG, Workspace, literal, quote

TYPED_TABLE = "_salesradar_typed"
MAX_SORTED_HASHES = 1 << 25  # rows whose key hashes _may_repeat sorts in memory (8 bytes each)
DIFF_TABLE = "_salesradar_diff"
Progress = Callable[[str], None]

PARSE_REASONS: dict[ColumnType, str] = {
    ColumnType.DATE: "not a date",
    ColumnType.TIMESTAMP: "not a date and time",
    ColumnType.PERIOD: "not a period (use 2024-03, 2024-Q1, 2024 or a date)",
    ColumnType.MONEY: "not an amount",
    ColumnType.NUMBER: "not a number",
    ColumnType.INTEGER: "not a whole number",
    ColumnType.BOOLEAN: "not a yes/no value (true/false, yes/no, 1/0, כן/לא)",
}


@dataclass
class ImportReport:
    """What an import did: rows read, skipped, inserted, updated, unchanged, deleted (lines of a
    re-sent document that it no longer has), and its warnings."""

    table: str
    source: str
    rows_read: int = 0
    rows_skipped: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    seconds: float = 0.0
    issues: list[Issue] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_skipped": self.rows_skipped,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
            "seconds": round(self.seconds, 3),
            "issues": [i.to_dict() for i in self.issues],
        }


@dataclass(frozen=True)
class _Resolved:
    """A canonical column's source: the value expression, its type and how to show it."""

    column: Column
    value: str  # expression over the raw staging table
    source_type: str
    raw: str  # expression of what the user wrote, for messages
    label: str  # how messages name the column
    date_formats: tuple[str, ...] = ()


def import_file(
    ws: Workspace,
    table_name: str,
    path: Path | str,
    mapping: Mapping | Path | str | None = None,
    *,
    settings: ImportSettings | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV, Excel or Parquet file into ``table_name``; raise ImportRejected on errors."""
    source = Path(path)
    resolved_mapping = _mapping_for(table_name, mapping)
    return _import(
        ws, table(table_name), resolved_mapping,
        lambda con: stage_file(con, source, resolved_mapping),
        str(source), source.stat().st_size if source.exists() else None,
        settings or ImportSettings(), progress,
    )


def import_sql(
    ws: Workspace,
    table_name: str,
    url: str,
    query: str,
    mapping: Mapping | Path | str | None = None,
    *,
    settings: ImportSettings | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the result of ``query`` on the database at ``url`` into ``table_name``."""
    resolved_mapping = _mapping_for(table_name, mapping)
    return _import(
        ws, table(table_name), resolved_mapping, lambda con: stage_sql(con, url, query),
        f"{url.split('@')[-1]}: {query}", None, settings or ImportSettings(), progress,
    )


def _mapping_for(table_name: str, mapping: Mapping | Path | str | None) -> Mapping:
    table(table_name)  # unknown table names fail before any file is read
    if mapping is None:
        return Mapping(table=table_name)
    if isinstance(mapping, Mapping):
        if mapping.table and mapping.table != table_name:
            raise UserInputError(f"the mapping is for table {mapping.table!r}, not {table_name!r}")
        return mapping
    return load_mapping(mapping, table_name)


def _import(
    ws: Workspace,
    spec: Table,
    mapping: Mapping,
    stage: Callable[[duckdb.DuckDBPyConnection], StagedSource],
    source_label: str,
    source_bytes: int | None,
    settings: ImportSettings,
    progress: Progress | None,
) -> ImportReport:
    started = time.perf_counter()
    notify = progress or (lambda _stage: None)
    con = ws.con
    notify("reading")
    into_empty = in_transaction = False
    try:
        staged = stage(con)
        report = ImportReport(spec.name, source_label, rows_read=staged.rows,
                              encoding=staged.encoding, delimiter=staged.delimiter)
        issues = list(staged.issues)
        if staged.rows == 0 and not issues:
            raise UserInputError(
                f"{staged.name} has a header but no data rows: nothing to import"
            )
        columns, resolve_issues = _resolve_columns(spec, mapping, staged)
        issues += resolve_issues
        if not _errors(issues):
            notify("checking")
            _detect_date_formats(con, columns, mapping)
            into_empty = _is_empty(con, spec)
            if into_empty:
                # the typed table is built as a table of the workspace, inside the transaction
                # that will rename it into place: written once, never copied (rolled back, with
                # everything it wrote, if a check fails)
                con.begin()
                in_transaction = True
            report.rows_skipped, checks = _build_typed(con, spec, columns, mapping, staged,
                                                       temporary=not into_empty)
            issues += _check_values(con, checks, staged, settings)
            generated = any(c.value == "NULL" for c in columns)
            issues += _check_keys(con, spec, staged, settings, generated=generated)
            issues += _check_references(ws, spec, settings)
        errors = _errors(issues)
        if errors:
            total = _error_total(errors)
            raise ImportRejected(
                f"{staged.name}: {total} error(s); nothing was imported into {spec.name}",
                issues, total,
            )
        notify("writing")
        if into_empty:
            in_transaction = False  # committed, or rolled back on a failure, by _fill_empty
            _fill_empty(con, spec, report, source_bytes)
        elif mapping.replace_documents:
            _replace_documents(con, spec, report, source_bytes)
        else:
            _upsert(con, spec, report, source_bytes)
        report.issues = issues
    finally:
        if in_transaction:
            con.rollback()
        drop_staging(con)
        for temp in (TYPED_TABLE, DIFF_TABLE):
            con.execute(f"DROP TABLE IF EXISTS {temp}")
    report.seconds = time.perf_counter() - started
    return report


def _errors(issues: list[Issue]) -> list[Issue]:
    return [i for i in issues if i.severity == "error"]


def _error_total(errors: list[Issue]) -> int:
    """Rows in error: summaries count their rows; examples of a summary are not counted again."""
    summarized = {(i.column, i.reason) for i in errors if i.count is not None}
    singles = [i for i in errors if i.count is None and (i.column, i.reason) not in summarized]
    return sum(i.count or 0 for i in errors) + len(singles)


def _resolve_columns(
    spec: Table, mapping: Mapping, staged: StagedSource
) -> tuple[list[_Resolved], list[Issue]]:
    by_norm = {normalize_header(h): h for h in staged.columns}
    issues: list[Issue] = []
    resolved: list[_Resolved] = []
    used: set[str] = set()

    def find(header: str, target: str) -> str | None:
        if header in staged.columns:
            return header
        found = by_norm.get(normalize_header(header))
        if found is None:
            close = difflib.get_close_matches(header, list(staged.columns), n=3)
            hint = f"did you mean {', '.join(map(repr, close))}?" if close else \
                f"the file's columns: {', '.join(staged.columns)}"
            issues.append(Issue("error", f"the mapping names column {header!r} for {target}, "
                                "which is not in the file", file=staged.name, column=target,
                                hint=hint))
        return found

    for column in spec.columns:
        cmap = mapping.columns.get(column.name)
        if cmap is None:
            header = by_norm.get(normalize_header(column.name))
            if header is None:
                if column.name == spec.generated_key:
                    resolved.append(_Resolved(column, "NULL", "BIGINT", "NULL", column.name))
                elif column.required:
                    close = difflib.get_close_matches(column.name, list(staged.columns), n=3)
                    issues.append(Issue(
                        "error", f"missing required column {column.name}", file=staged.name,
                        column=column.name,
                        hint=(f"the file has {', '.join(map(repr, close))}; " if close else "")
                        + f"map it in the mapping file under `columns: {column.name}: "
                        "<your header>`",
                    ))
                continue
            cmap = ColumnMapping(column.name, source=header)
        item = _resolve_one(column, cmap, staged, find)
        if item is not None:
            resolved.append(item)
            used.update(_sources_of(cmap))
    unused = [h for h in staged.columns if h not in used]
    if unused:
        issues.append(Issue("info", f"ignored {len(unused)} column(s) not in {spec.name}: "
                            + ", ".join(unused[:30]) + ("..." if len(unused) > 30 else ""),
                            file=staged.name))
    return resolved, issues


def _sources_of(cmap: ColumnMapping) -> list[str]:
    if cmap.source:
        return [cmap.source]
    return cmap.formula_columns


def _resolve_one(
    column: Column,
    cmap: ColumnMapping,
    staged: StagedSource,
    find: Callable[[str, str], str | None],
) -> _Resolved | None:
    if cmap.constant is not None:
        value = parse.literal(cmap.constant)
        return _Resolved(column, value, "VARCHAR", value, f"{column.name} (constant)")
    if cmap.formula is not None:
        expression = cmap.formula
        raw_parts = []
        for name in cmap.formula_columns:
            header = find(name, column.name)
            if header is None:
                return None
            number = parse.as_double(quote(header), staged.columns[header],
                                     parse.NumberFormat())
            expression = expression.replace("{" + name + "}", f"({number})", 1)
            raw_parts.append(parse.text(quote(header), staged.columns[header]))
        raw = f"concat_ws(' | ', {', '.join(raw_parts)})"
        return _Resolved(column, f"({expression})", "DOUBLE", raw,
                         f"{column.name} (formula)")
    assert cmap.source is not None
    header = find(cmap.source, column.name)
    if header is None:
        return None
    source_type = staged.columns[header]
    label = column.name if normalize_header(header) == column.name else \
        f"{header} ({column.name})"
    if not cmap.values and _keeps_source_type(column.type, source_type):
        return _Resolved(column, quote(header), source_type, quote(header), label,
                         cmap.date_formats)
    return _Resolved(column, parse.translated(quote(header), cmap.values, source_type),
                     "VARCHAR", parse.text(quote(header), source_type), label,
                     cmap.date_formats)


def _keeps_source_type(target: ColumnType, source_type: str) -> bool:
    """A typed source column (Parquet, SQL) converts directly when the kinds agree."""
    if target in (ColumnType.MONEY, ColumnType.NUMBER, ColumnType.INTEGER):
        return parse.is_numeric_type(source_type)
    if target in (ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.PERIOD):
        return parse.is_temporal_type(source_type)
    if target is ColumnType.BOOLEAN:
        return source_type.upper() == "BOOLEAN"
    return False


def _detect_date_formats(
    con: duckdb.DuckDBPyConnection, columns: list[_Resolved], mapping: Mapping
) -> None:
    """Pick, per text date column, the format list (day- or month-first) that parses most values.

    Day-first wins a tie: a column where every day is at most 12 reads as dd/mm.
    """
    date_types = (ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.PERIOD)
    for index, item in enumerate(columns):
        if item.column.type not in date_types or parse.is_temporal_type(item.source_type):
            continue
        candidates = parse.date_order_candidates(item.date_formats or mapping.date_formats)
        if len(candidates) == 1:
            columns[index] = replace(item, date_formats=next(iter(candidates.values())))
            continue
        # the rows' failures counted per distinct value (each tried once, weighed by its rows):
        # a column holds far fewer dates than rows
        counts = ", ".join(
            f"coalesce(sum(_rows) FILTER (WHERE try_strptime(_value, {parse.format_list(f)}) "
            "IS NULL AND _value IS NOT NULL), 0)"
            for f in candidates.values()
        )
        # a period column's months, quarters and years parse without a date format: only
        # its dates can tell the order (and trying every format on each month is slow)
        dates_only = (" WHERE NOT coalesce(" + parse.period_shaped("_value") + ", false)"
                      if item.column.type is ColumnType.PERIOD else "")
        failures = con.execute(
            f"SELECT {counts} FROM (SELECT {item.value} AS _value, count(*) AS _rows FROM "
            f"(SELECT * FROM {RAW_TABLE} LIMIT 1000000) GROUP BY 1){dates_only}"
        ).fetchone()
        assert failures is not None
        best = min(zip(failures, candidates.values(), strict=True), key=lambda p: p[0])[1]
        columns[index] = replace(item, date_formats=best)


def _typed_expression(item: _Resolved, mapping: Mapping) -> str:
    return parse.convert(
        item.column, item.value, item.source_type,
        number_format=parse.NumberFormat(mapping.decimal, mapping.thousands),
        date_formats=item.date_formats or parse.ISO_FORMATS,
    )


def _build_typed(
    con: duckdb.DuckDBPyConnection,
    spec: Table,
    columns: list[_Resolved],
    mapping: Mapping,
    staged: StagedSource,
    *,
    temporary: bool = True,
) -> tuple[int, list[_Check]]:
    """Convert every column in one pass into the typed staging table.

    The table keeps the converted values, the row's position and ``_problems``: a bit per failed
    check. Raw text is not kept (it would double the memory); the few rows shown in a report fetch
    theirs from the source again. Returns the rows skipped and the checks the bits stand for.
    Not ``temporary``: a table of the workspace itself (the caller's transaction holds it), with
    the canonical columns in their order between ``_row`` and ``_problems``.

    A column whose value is its raw text (no translation, formula or constant) is converted from
    that text in a middle step: the text (trimmed, say) is computed once per row, not once for
    the raw column and again at each place the conversion names the value.
    """
    by_name = {item.column.name: item for item in columns}
    inner = [f"{staged.row_position} AS _row"]
    middle = ["_row"]
    outer = ["_row"]
    for column in spec.columns:
        item = by_name.get(column.name)
        name = quote(column.name)
        if item is not None:
            raw_name = quote("_raw_" + column.name)
            inner.append(f"{item.raw} AS {raw_name}")
            middle.append(raw_name)
            if item.value == item.raw:
                typed = _typed_expression(replace(item, value=raw_name), mapping)
                middle.append(f"{typed} AS {name}")
            else:
                inner.append(f"{_typed_expression(item, mapping)} AS {name}")
                middle.append(name)
        elif column.name == "grain" and "period" in by_name:
            period = by_name["period"]
            inner.append(f"{parse.period_grain(period.value, period.source_type)} AS grain")
            middle.append("grain")
        else:
            inner.append(f"CAST(NULL AS {column.storage_type}) AS {name}")
            middle.append(name)
        outer.append(name)
    key = spec.generated_key
    if key and by_name.get(key) is not None and by_name[key].value == "NULL":
        group = ", ".join(quote(c) for c in spec.generated_key_group)
        outer[outer.index(quote(key))] = \
            f"row_number() OVER (PARTITION BY {group} ORDER BY _row) AS {quote(key)}"
    checks = _value_checks(spec, columns)
    if len(checks) > 62:
        raise AssertionError("more checks than bits in _problems")
    bits = " | ".join(f"(CASE WHEN {c.condition} THEN {1 << i} ELSE 0 END)"
                      for i, c in enumerate(checks)) or "0"
    outer.append(f"CAST({bits} AS BIGINT) AS _problems")
    skip = [by_name[c].raw + " IS NULL" for c in mapping.skip_if_empty if c in by_name]
    where = f"WHERE NOT ({' OR '.join(skip)})" if skip else ""
    con.execute(
        f"CREATE OR REPLACE {'TEMP TABLE' if temporary else 'TABLE'} {TYPED_TABLE} AS "
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(middle)} FROM "
        f"(SELECT {', '.join(inner)} FROM {RAW_TABLE} {where}))"
    )
    if not skip:
        return 0, checks
    # the skip condition is never NULL: every staged row is either typed or skipped
    return staged.rows - _row_total(con, TYPED_TABLE), checks


@dataclass(frozen=True)
class _Check:
    column: str
    label: str
    reason: str
    condition: str  # over the converted columns and their raw text (the "_raw_" columns)
    raw: str  # the raw value's expression over the source, for the rows shown in a report


def _value_checks(spec: Table, columns: list[_Resolved]) -> list[_Check]:
    checks: list[_Check] = []
    for item in columns:
        name = quote(item.column.name)
        raw = quote("_raw_" + item.column.name)
        if item.value == "NULL":  # a generated key
            continue
        if item.column.required:
            checks.append(_Check(item.column.name, item.label, "required value is empty",
                                 f"{raw} IS NULL", item.raw))
        reason = PARSE_REASONS.get(item.column.type)
        if item.column.type is ColumnType.ENUM:
            reason = f"not one of: {', '.join(item.column.values)}"
        if item.column.type in (ColumnType.DATE, ColumnType.TIMESTAMP):
            shown = [f for f in item.date_formats if f in parse.DAY_FIRST_FORMATS
                     + parse.MONTH_FIRST_FORMATS][:1] or ["%Y-%m-%d"]
            reason = f"{reason} (expected {parse.human_format(shown[0])} or yyyy-mm-dd)"
        if reason:
            checks.append(_Check(item.column.name, item.label, reason,
                                 f"{raw} IS NOT NULL AND {name} IS NULL", item.raw))
        if item.column.sign is Sign.NON_NEGATIVE:
            checks.append(_Check(item.column.name, item.label, "must not be negative",
                                 f"{name} < 0", item.raw))
        elif item.column.sign is Sign.SAME_AS_QUANTITY and "quantity" in spec.column_names:
            checks.append(_Check(
                item.column.name, item.label,
                "has the opposite sign of quantity (a return has negative quantity, revenue "
                "and cost; a sale none)", f"sign({name}) * sign(quantity) < 0", item.raw))
    return checks


def _check_values(
    con: duckdb.DuckDBPyConnection,
    checks: list[_Check],
    staged: StagedSource,
    settings: ImportSettings,
) -> list[Issue]:
    """Exact counts per check from the bits, and the first rows of each with their raw value."""
    if not checks:
        return []
    # one cheap pass says whether any row failed any check (usually none did)
    found = con.execute(f"SELECT bit_or(_problems) FROM {TYPED_TABLE}").fetchone()
    if not (found and found[0]):
        return []
    counts_sql = ", ".join(f"count(*) FILTER (WHERE _problems & {1 << i} <> 0)"
                           for i in range(len(checks)))
    counts = con.execute(f"SELECT {counts_sql} FROM {TYPED_TABLE}").fetchone()
    assert counts is not None
    issues: list[Issue] = []
    budget = settings.max_issues
    for bit, (check, count) in enumerate(zip(checks, counts, strict=True)):
        if not count:
            continue
        issues.append(Issue("error", check.reason, file=staged.name, column=check.label,
                            count=int(count)))
        shown = max(1, min(count, budget))
        rows = con.execute(
            f"SELECT {staged.row_position}, {check.raw} FROM {RAW_TABLE} "
            f"WHERE {staged.row_position} IN (SELECT _row FROM {TYPED_TABLE} "
            f"WHERE _problems & {1 << bit} <> 0 ORDER BY _row LIMIT {shown}) ORDER BY 1"
        ).fetchall()
        budget -= len(rows)
        lines = staged.lines(int(r) for r, _ in rows)
        issues.extend(
            Issue("error", check.reason, file=staged.name, row=lines[int(r)],
                  column=check.label, value=None if v is None else str(v)[:200])
            for r, v in rows
        )
    return issues


def _check_keys(
    con: duckdb.DuckDBPyConnection,
    spec: Table,
    staged: StagedSource,
    settings: ImportSettings,
    *,
    generated: bool,
) -> list[Issue]:
    if generated and _numbered_key(spec):
        # numbered per document in file order: no two rows can share a key
        return _identical_lines(con, spec, staged)
    keys = ", ".join(quote(k) for k in spec.key)
    if not _may_repeat(con, keys):
        return []
    duplicates = con.execute(
        f"SELECT {keys}, list(_row ORDER BY _row), count(*) OVER () FROM {TYPED_TABLE} "
        f"GROUP BY {keys} HAVING count(*) > 1 ORDER BY min(_row) LIMIT {settings.max_issues}"
    ).fetchall()
    issues: list[Issue] = []
    lines = staged.lines(int(r) for row in duplicates for r in row[len(spec.key)][:10])
    for row in duplicates:
        values = ", ".join(f"{k}={v}" for k, v in zip(spec.key, row, strict=False))
        rows = [lines[int(r)] for r in row[len(spec.key)][:10]]
        if not issues:
            issues.append(Issue("error", "duplicate key", file=staged.name,
                                column=", ".join(spec.key), count=int(row[-1])))
        issues.append(Issue(
            "error", "duplicate key", file=staged.name, row=rows[1], column=", ".join(spec.key),
            value=f"{values}; rows {', '.join(map(str, rows[:10]))}",
            hint="each key may appear once per file; remove the repeated row or fix its key",
        ))
    if generated and not duplicates:
        issues += _identical_lines(con, spec, staged)
    return issues


def _numbered_key(spec: Table) -> bool:
    """Whether the key holds the generated line number and every column it is numbered within."""
    numbered = {*spec.generated_key_group, spec.generated_key}
    return bool(spec.generated_key) and numbered <= set(spec.key)


def _may_repeat(con: duckdb.DuckDBPyConnection, keys: str) -> bool:
    """False when no key repeats in the typed table: a cheap exact test before the grouping that
    lists each repeated key's rows.

    Equal keys have equal hashes, so hashes all different means no key repeats; a hash found
    twice (a repeat, or in theory two keys sharing a 64-bit hash) sends the rows to the exact
    grouping. The hashes are sorted and compared with their neighbours in NumPy (a quarter of
    the cost of DuckDB's count of distinct hashes, 10M rows in under a second); a table too
    large for their array in memory is counted by DuckDB.
    """
    if _row_total(con, TYPED_TABLE) > MAX_SORTED_HASHES:
        row = con.execute(
            f"SELECT count(*) > count(DISTINCT hash({keys})) FROM {TYPED_TABLE}"
        ).fetchone()
        return bool(row and row[0])
    hashes = con.execute(f"SELECT hash({keys}) AS h FROM {TYPED_TABLE}").fetchnumpy()["h"]
    hashes.sort()
    return bool((hashes[1:] == hashes[:-1]).any())


def _identical_lines(
    con: duckdb.DuckDBPyConnection, spec: Table, staged: StagedSource
) -> list[Issue]:
    """Identical rows on one invoice: kept as separate lines, but worth a warning."""
    others = ", ".join(quote(c) for c in spec.column_names if c != spec.generated_key)
    found = con.execute(
        f"SELECT count(*), sum(n) FROM (SELECT count(*) AS n FROM {TYPED_TABLE} "
        f"GROUP BY {others} HAVING count(*) > 1)"
    ).fetchone()
    if not found or not found[0]:
        return []
    return [Issue("warning", "rows identical to another row of the same invoice; each was kept "
                  "as its own line. If the export repeats lines, deduplicate it first",
                  file=staged.name, count=int(found[1]))]


def _check_references(ws: Workspace, spec: Table, settings: ImportSettings) -> list[Issue]:
    issues: list[Issue] = []
    for column, (ref_table, ref_column) in REFERENCES.get(spec.name, {}).items():
        known = f"SELECT {quote(ref_column)} FROM {quote(ref_table)}"
        if ref_table == spec.name:
            known += f" UNION ALL SELECT {quote(ref_column)} FROM {TYPED_TABLE}"
        elif ws.row_count(ref_table) == 0:
            continue
        unknown = f"t.{quote(column)} IS NOT NULL AND t.{quote(column)} NOT IN ({known})"
        # the file's distinct values first (few, against its rows): whether any is unknown
        # decides whether the rows need the full count below
        any_unknown = ws.con.execute(
            f"SELECT EXISTS (SELECT 1 FROM (SELECT DISTINCT {quote(column)} FROM {TYPED_TABLE})"
            f" t WHERE {unknown})"
        ).fetchone()
        if not (any_unknown and any_unknown[0]):
            continue
        found = ws.con.execute(
            f"SELECT count(DISTINCT t.{quote(column)}), count(*), "
            f"list(DISTINCT t.{quote(column)})[1:10] FROM {TYPED_TABLE} t "
            f"WHERE t.{quote(column)} IS NOT NULL AND t.{quote(column)} NOT IN ({known})"
        ).fetchone()
        if not found or not found[0]:
            continue
        distinct, rows, examples = found
        severity: Severity = "error" if settings.unknown_references == "error" else "warning"
        issues.append(Issue(
            severity, f"{distinct:,} {column} value(s) are not in {ref_table}", count=int(rows),
            column=column, value=", ".join(map(str, examples)),
            hint=f"import the missing {ref_table} first, or check the ids",
        ))
    return issues


def _is_empty(con: duckdb.DuckDBPyConnection, spec: Table) -> bool:
    row = con.execute(f"SELECT NOT EXISTS (SELECT 1 FROM {quote(spec.name)})").fetchone()
    return bool(row and row[0])


def _fill_empty(
    con: duckdb.DuckDBPyConnection, spec: Table, report: ImportReport, source_bytes: int | None
) -> None:
    """Into an empty table every typed row goes in as it is (nothing to compare or replace).

    The typed table was built, in the open transaction, as a table of the workspace with the
    canonical columns: without its ``_row`` and ``_problems`` it takes the empty table's place,
    and nothing is copied. A column typed otherwise than the table declares it (not expected)
    falls back to inserting the rows, converted as an INSERT converts them. Ends the
    transaction. Like the rest of the importer, assumes the workspace's one writer
    (:func:`salesradar.workspace.writing`): the table found empty stays empty until then.
    """
    target = quote(spec.name)
    report.inserted = _row_total(con, TYPED_TABLE)
    declared = con.execute(f"DESCRIBE {target}").fetchall()
    built = [c for c in con.execute(f"DESCRIBE {TYPED_TABLE}").fetchall()
             if c[0] not in ("_row", "_problems")]
    if built == declared:
        statements = [f"ALTER TABLE {TYPED_TABLE} DROP COLUMN _row",
                      f"ALTER TABLE {TYPED_TABLE} DROP COLUMN _problems",
                      f"DROP TABLE {target}",
                      f"ALTER TABLE {TYPED_TABLE} RENAME TO {target}"]
    else:
        columns = ", ".join(quote(c) for c in spec.column_names)
        statements = [f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {TYPED_TABLE}"]
    _write(con, spec, report, source_bytes, *statements, began=True)


def _upsert(
    con: duckdb.DuckDBPyConnection, spec: Table, report: ImportReport, source_bytes: int | None
) -> None:
    """Insert new keys and replace changed rows, in one transaction, and log the import.

    Unchanged rows are only compared, never copied: a re-import of an unchanged file writes
    nothing but its log line. The file is joined to the table once: the rows that differ, each
    marked new or changed, give both the counts and the writes; only changed rows have a stored
    row to delete (a new key matched none).
    """
    target = quote(spec.name)
    columns = ", ".join(quote(c) for c in spec.column_names)
    key_match = " AND ".join(f"t.{quote(k)} IS NOT DISTINCT FROM s.{quote(k)}" for k in spec.key)
    same = " AND ".join(
        f"t.{quote(c)} IS NOT DISTINCT FROM s.{quote(c)}" for c in spec.column_names
    )
    joined = (f"FROM {TYPED_TABLE} s LEFT JOIN (SELECT *, true AS _present FROM {target}) t "
              f"ON {key_match}")
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DIFF_TABLE} AS SELECT "
        f"{', '.join('s.' + quote(c) for c in spec.column_names)}, t._present IS NULL AS _new "
        f"{joined} WHERE t._present IS NULL OR NOT ({same})"
    )
    counts = con.execute(
        f"SELECT count(*) FILTER (WHERE _new), count(*) FILTER (WHERE NOT _new) FROM {DIFF_TABLE}"
    ).fetchone()
    assert counts is not None
    report.inserted, report.updated = int(counts[0]), int(counts[1])
    report.unchanged = report.rows_read - report.rows_skipped - report.inserted - report.updated
    if not (report.inserted or report.updated):
        _write(con, spec, report, source_bytes)
        return
    delete = [f"DELETE FROM {target} t USING {DIFF_TABLE} s WHERE NOT s._new AND {key_match}"]
    _write(
        con, spec, report, source_bytes,
        *(delete if report.updated else []),
        f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {DIFF_TABLE}",
    )


def _replace_documents(
    con: duckdb.DuckDBPyConnection, spec: Table, report: ImportReport, source_bytes: int | None
) -> None:
    """Each document in the file replaces all of its stored lines, in one transaction.

    Lines are compared by content (every column but the line number), as a multiset per document:
    a line the file and the store share is unchanged, whatever its number; of the rest, as many as
    both sides have are counted updated, the file's surplus inserted and the store's deleted. Only
    documents with a difference (or lines in another order) are rewritten. Documents absent from
    the file are left alone. Identical lines within one document stay separate lines.
    """
    target = quote(spec.name)
    columns = ", ".join(quote(c) for c in spec.column_names)
    line = spec.generated_key or spec.key[-1]
    document = [quote(c) for c in spec.generated_key_group]
    content = [quote(c) for c in spec.column_names if c != line]
    in_file = " AND ".join(f"t.{d} IS NOT DISTINCT FROM s.{d}" for d in document)
    numbered = (f"{', '.join(content)}, {quote(line)}, row_number() OVER "
                f"(PARTITION BY {', '.join(content)} ORDER BY {quote(line)}) AS _k")
    same = " AND ".join(f"o.{c} IS NOT DISTINCT FROM n.{c}" for c in content)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {DIFF_TABLE} AS "
        f"WITH o AS (SELECT {numbered} FROM {target} t WHERE EXISTS "
        f"(SELECT 1 FROM {TYPED_TABLE} s WHERE {in_file})), "
        f"n AS (SELECT {numbered} FROM {TYPED_TABLE}) "
        f"SELECT {', '.join(f'coalesce(n.{d}, o.{d}) AS {d}' for d in document)}, "
        "count(*) FILTER (WHERE o._k IS NOT NULL AND n._k IS NOT NULL) AS same, "
        "count(*) FILTER (WHERE o._k IS NULL) AS added, "
        "count(*) FILTER (WHERE n._k IS NULL) AS gone, "
        f"bool_or(o.{quote(line)} IS DISTINCT FROM n.{quote(line)}) AS changed "
        f"FROM o FULL OUTER JOIN n ON {same} AND o._k = n._k "
        f"GROUP BY {', '.join(f'coalesce(n.{d}, o.{d})' for d in document)}"
    )
    totals = con.execute(
        f"SELECT coalesce(sum(same), 0), coalesce(sum(added - least(added, gone)), 0), "
        f"coalesce(sum(least(added, gone)), 0), coalesce(sum(gone - least(added, gone)), 0), "
        f"count(*) FILTER (WHERE changed) FROM {DIFF_TABLE}"
    ).fetchone()
    assert totals is not None
    report.unchanged, report.inserted, report.updated, report.deleted = map(int, totals[:4])
    if not totals[4]:
        _write(con, spec, report, source_bytes)
        return
    changed = f"(SELECT {', '.join(document)} FROM {DIFF_TABLE} WHERE changed) s"
    new_lines = ", ".join("t." + quote(c) for c in spec.column_names)
    _write(
        con, spec, report, source_bytes,
        f"DELETE FROM {target} t USING {changed} WHERE {in_file}",
        f"INSERT INTO {target} ({columns}) SELECT {new_lines} "
        f"FROM {TYPED_TABLE} t SEMI JOIN {changed} ON {in_file}",
    )


def _row_total(con: duckdb.DuckDBPyConnection, name: str) -> int:
    row = con.execute(f"SELECT count(*) FROM {name}").fetchone()
    return int(row[0]) if row else 0


def _write(
    con: duckdb.DuckDBPyConnection,
    spec: Table,
    report: ImportReport,
    source_bytes: int | None,
    *statements: str,
    began: bool = False,
) -> None:
    """Run the writes and log the import, in one transaction: all of it or none of it.

    ``began``: the transaction is already open (it holds the typed table); it ends here too.
    """
    if not began:
        con.begin()
    try:
        for statement in statements:
            con.execute(statement)
        # literals, not bound parameters: DuckDB imports pandas (a quarter second) to bind them
        counts = [report.rows_read, report.rows_skipped, report.inserted, report.updated,
                  report.unchanged]
        values = [literal(spec.name), literal(report.source),
                  "NULL" if source_bytes is None else str(int(source_bytes)),
                  "now()::TIMESTAMP", *(str(int(n)) for n in counts),
                  "true" if statements else "false"]
        con.execute(
            f"INSERT INTO {IMPORT_LOG} (import_id, table_name, source, source_bytes, "
            "imported_at, rows_read, rows_skipped, inserted, updated, unchanged, changed) "
            f"SELECT coalesce(max(import_id), 0) + 1, {', '.join(values)} FROM {IMPORT_LOG}"
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise
