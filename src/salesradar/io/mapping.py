"""Column-mapping files: how a source file's headers and formats map onto a canonical table.

A mapping is a small YAML file. The simplest names the source header of each canonical column::

    table: invoice_lines
    encoding: windows-1255          # optional: detected when absent (UTF-8, BOM, else Windows-1255)
    date_format: "%d/%m/%Y"         # optional: one format or a list; detected when absent
    decimal: "."                    # decimal separator of numbers
    thousands: ","                  # thousands separator of numbers
    columns:
      invoice_id: מספר חשבונית
      invoice_date: תאריך חשבונית

A column can also be a constant, a formula over numeric source columns, or a value translation::

      channel: {value: field}
      net_revenue: {formula: "{Quantity} * {UnitPrice}"}
      outcome: {column: Deal Stage, values: {closedwon: won, closedlost: lost, "*": open}}
      close_date: {column: Close Date, format: "%m/%d/%Y"}

``replace_documents: true`` (invoice lines) makes each document in the file replace all of that
document's stored lines, so a line deleted in the ERP is deleted here too.

Canonical columns the mapping does not name are looked up by their own name in the file's header
(case and spaces ignored). :func:`load_mapping` checks the whole file and reports every problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from salesradar.errors import Issue, UserInputError
from salesradar.schema import Table, table

FORMULA_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
FORMULA_ALLOWED = re.compile(r"^[\d\s.+\-*/()]*$")
TOP_LEVEL_KEYS = {
    "table", "encoding", "delimiter", "date_format", "decimal", "thousands", "skip_rows",
    "sheet", "skip_if_empty", "columns", "description", "replace_documents",
}
COLUMN_KEYS = {"column", "value", "formula", "values", "format"}


@dataclass(frozen=True)
class ColumnMapping:
    """Where one canonical column comes from: a source column, a constant or a formula."""

    target: str
    source: str | None = None
    constant: str | None = None
    formula: str | None = None
    values: dict[str, str] = field(default_factory=dict)  # source value -> canonical; "*" = else
    date_formats: tuple[str, ...] = ()

    @property
    def formula_columns(self) -> list[str]:
        return FORMULA_PLACEHOLDER.findall(self.formula or "")


@dataclass(frozen=True)
class Mapping:
    """A parsed, checked mapping file (or the default: canonical headers, detected formats)."""

    table: str | None = None
    columns: dict[str, ColumnMapping] = field(default_factory=dict)
    encoding: str | None = None
    delimiter: str | None = None
    date_formats: tuple[str, ...] = ()
    decimal: str = "."
    thousands: str = ","
    skip_rows: int = 0
    sheet: str | int | None = None
    skip_if_empty: tuple[str, ...] = ()
    path: str | None = None
    # re-sending a document (an invoice) replaces all of its lines: lines gone from the file are
    # deleted; for exports that do not number their lines (the lines are numbered in file order)
    replace_documents: bool = False


def _as_formats(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _parse_column(target: str, spec: Any, where: str, issues: list[Issue]) -> ColumnMapping | None:
    if isinstance(spec, str | int | float):
        return ColumnMapping(target, source=str(spec))
    if not isinstance(spec, dict):
        issues.append(Issue("error", "a column must be a header name or a mapping with one of "
                            "column/value/formula", file=where, column=target, value=repr(spec)))
        return None
    unknown = sorted(set(spec) - COLUMN_KEYS)
    if unknown:
        issues.append(Issue("error", f"unknown keys {unknown}; allowed: {sorted(COLUMN_KEYS)}",
                            file=where, column=target))
    sources = [k for k in ("column", "value", "formula") if k in spec]
    if len(sources) != 1:
        issues.append(Issue("error", "give exactly one of column, value or formula",
                            file=where, column=target))
        return None
    formula = spec.get("formula")
    if formula is not None:
        rest = FORMULA_PLACEHOLDER.sub("0", str(formula))
        if not FORMULA_ALLOWED.match(rest) or not FORMULA_PLACEHOLDER.search(str(formula)):
            issues.append(Issue(
                "error", "a formula may use {Source Column} names, numbers, + - * / and "
                "parentheses only", file=where, column=target, value=str(formula)))
            return None
    values = spec.get("values") or {}
    if not isinstance(values, dict):
        issues.append(Issue("error", "values must map source values to canonical ones",
                            file=where, column=target))
        values = {}
    return ColumnMapping(
        target,
        source=str(spec["column"]) if "column" in spec else None,
        constant=None if "value" not in spec else str(spec["value"]),
        formula=None if formula is None else str(formula),
        values={str(k).strip().lower(): str(v) for k, v in values.items()},
        date_formats=_as_formats(spec.get("format")),
    )


def parse_mapping(data: Any, where: str, expected_table: str | None = None) -> Mapping:
    """Check a mapping's parsed YAML; raise one error listing every problem found."""
    issues: list[Issue] = []
    if not isinstance(data, dict):
        raise UserInputError(f"{where}: a mapping file must be a YAML mapping with `columns:`")
    for key in sorted(set(data) - TOP_LEVEL_KEYS):
        issues.append(Issue("error", f"unknown key {key!r}; allowed: {sorted(TOP_LEVEL_KEYS)}",
                            file=where))
    table_name = data.get("table") or expected_table
    spec: Table | None = None
    if table_name:
        try:
            spec = table(str(table_name))
        except UserInputError as exc:
            issues.append(Issue("error", str(exc), file=where))
    if expected_table and data.get("table") and data["table"] != expected_table:
        issues.append(Issue("error", f"this mapping is for table {data['table']!r}, not "
                            f"{expected_table!r}", file=where))
    columns: dict[str, ColumnMapping] = {}
    raw_columns = data.get("columns") or {}
    if not isinstance(raw_columns, dict):
        issues.append(Issue("error", "`columns:` must map canonical names to sources", file=where))
        raw_columns = {}
    for target, col_spec in raw_columns.items():
        target = str(target)
        if spec is not None and target not in spec.column_names:
            issues.append(Issue("error", f"{spec.name} has no column {target!r}", file=where,
                                column=target, hint=f"its columns: {', '.join(spec.column_names)}"))
            continue
        parsed = _parse_column(target, col_spec, where, issues)
        if parsed is not None:
            columns[target] = parsed
    for name in ("decimal", "thousands"):
        if name in data and len(str(data[name])) > 1:
            issues.append(Issue("error", f"{name} must be one character", file=where,
                                value=str(data[name])))
    skip_if_empty = tuple(str(c) for c in data.get("skip_if_empty") or ())
    if spec is not None:
        for col in skip_if_empty:
            if col not in spec.column_names:
                issues.append(Issue("error", f"skip_if_empty names {col!r}, which is not a "
                                    f"column of {spec.name}", file=where))
    replace_documents = data.get("replace_documents", False)
    if not isinstance(replace_documents, bool):
        issues.append(Issue("error", "replace_documents must be true or false", file=where,
                            value=repr(replace_documents)))
    elif replace_documents and spec is not None and not spec.generated_key_group:
        issues.append(Issue("error", f"replace_documents is for lines of documents "
                            f"(invoice_lines); {spec.name} has no document column", file=where))
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise UserInputError(
            f"mapping file {where} has {len(errors)} problem(s):\n"
            + "\n".join(f"  - {i}" for i in errors)
        )
    skip_rows = data.get("skip_rows", 0)
    return Mapping(
        table=str(table_name) if table_name else None,
        columns=columns,
        encoding=data.get("encoding"),
        delimiter=data.get("delimiter"),
        date_formats=_as_formats(data.get("date_format")),
        decimal=str(data.get("decimal", ".")),
        thousands=str(data["thousands"] or "") if "thousands" in data else ",",
        skip_rows=int(skip_rows),
        sheet=data.get("sheet"),
        skip_if_empty=skip_if_empty,
        path=where,
        replace_documents=replace_documents is True,
    )


def read_yaml_file(path: Path | str, what: str) -> Any:
    """The parsed content of a YAML file the user named (mapping, commitment, commission plan).

    A missing file or invalid YAML is a :class:`UserInputError` that names ``what`` and the path.
    """
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserInputError(f"{what} not found: {source}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserInputError(f"{what} {source} is not valid YAML: {exc}") from None


def load_mapping(path: Path | str, expected_table: str | None = None) -> Mapping:
    """Read and check a YAML mapping file."""
    data = read_yaml_file(path, "mapping file")
    return parse_mapping(data, str(path), expected_table)


def normalize_header(name: str) -> str:
    """Header comparison key: case, surrounding spaces, inner spaces/dashes and BOM ignored."""
    return re.sub(r"[\s\-]+", "_", name.replace("\ufeff", "").strip()).lower()
