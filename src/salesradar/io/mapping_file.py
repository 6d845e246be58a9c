"""Write a mapping back as a mapping file, and show a sample through a mapping.

:func:`mapping_to_yaml` is the inverse of :func:`salesradar.io.mapping.parse_mapping`: what it
writes, ``--mapping FILE`` reads back as the same :class:`~salesradar.io.mapping.Mapping`, so a
proposed or corrected mapping can be saved for the next upload of the same source.
:func:`preview_rows` shows a file's first rows as canonical columns (the source text, formulas
computed), for a page that puts a proposed mapping beside the data it maps.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

import yaml

from salesradar.io.mapping import ColumnMapping, Mapping, normalize_header
from salesradar.io.profile import CURRENCY, number_shape
from salesradar.io.sample import Sample

YAML_END = "\n...\n"  # what safe_dump writes after a lone scalar
OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def mapping_data(mapping: Mapping) -> dict[str, Any]:
    """A mapping as the data of a mapping file (what :func:`parse_mapping` reads back)."""
    data: dict[str, Any] = {}
    if mapping.table:
        data["table"] = mapping.table
    if mapping.encoding:
        data["encoding"] = mapping.encoding
    if mapping.delimiter:
        data["delimiter"] = mapping.delimiter
    if mapping.date_formats:
        data["date_format"] = (mapping.date_formats[0] if len(mapping.date_formats) == 1
                               else list(mapping.date_formats))
    data["decimal"] = mapping.decimal
    data["thousands"] = mapping.thousands
    if mapping.skip_rows:
        data["skip_rows"] = mapping.skip_rows
    if mapping.sheet is not None:
        data["sheet"] = mapping.sheet
    if mapping.skip_if_empty:
        data["skip_if_empty"] = list(mapping.skip_if_empty)
    if mapping.replace_documents:
        data["replace_documents"] = True
    data["columns"] = {name: _column_data(c) for name, c in mapping.columns.items()}
    return data


def _column_data(column: ColumnMapping) -> Any:
    if column.constant is not None:
        return {"value": column.constant}
    if column.formula is not None:
        return {"formula": column.formula}
    if not column.values and not column.date_formats:
        return column.source
    data: dict[str, Any] = {"column": column.source}
    if column.values:
        data["values"] = dict(column.values)
    if column.date_formats:
        data["format"] = (column.date_formats[0] if len(column.date_formats) == 1
                          else list(column.date_formats))
    return data


def mapping_to_yaml(mapping: Mapping, comments: dict[str, str] | None = None) -> str:
    """A mapping as YAML in the mapping-file format, optionally one comment per column."""
    data = mapping_data(mapping)
    columns = data.pop("columns")
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)
    lines = ["columns:"]
    for name, spec in columns.items():
        value = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=1000,
                               default_flow_style=True)
        line = f"{name}: {value.removesuffix(YAML_END).strip()}"
        note = (comments or {}).get(name)
        lines.append("  " + line + (f"  # {note}" if note else ""))
    return text + "\n".join(lines) + "\n"


def preview_rows(sample: Sample, mapping: Mapping, rows: int = 20) -> list[dict[str, str | None]]:
    """The first ``rows`` rows of ``sample`` as the canonical columns ``mapping`` names."""
    index = {normalize_header(h): i for i, h in enumerate(sample.headers)}
    out: list[dict[str, str | None]] = []
    for row in sample.rows[:rows]:
        def cell(header: str, row: tuple[str | None, ...] = row) -> str | None:
            i = index.get(normalize_header(header))
            return row[i] if i is not None and i < len(row) else None

        item: dict[str, str | None] = {}
        for name, column in mapping.columns.items():
            if column.constant is not None:
                item[name] = column.constant
            elif column.formula is not None:
                item[name] = _evaluate(column, cell)
            else:
                value = cell(column.source or "")
                if value is not None and column.values:
                    value = column.values.get(value.lower(), column.values.get("*", value))
                item[name] = value
        out.append(item)
    return out


def _evaluate(column: ColumnMapping, cell: Any) -> str | None:
    """A formula's value on one sample row (None when a value is missing or not a number)."""
    expression = column.formula or ""
    for name in column.formula_columns:
        value = _as_number(cell(name))
        if value is None:
            return None
        expression = expression.replace("{" + name + "}", f"({value!r})", 1)
    try:
        result = _arithmetic(ast.parse(expression, mode="eval").body)
    except (ArithmeticError, SyntaxError, ValueError):
        return None
    return f"{result:.4f}".rstrip("0").rstrip(".")


def _arithmetic(node: ast.AST) -> float:
    """Numbers, + - * / and parentheses: what a mapping's formula may hold, and nothing else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _arithmetic(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return OPERATORS[type(node.op)](_arithmetic(node.left), _arithmetic(node.right))
    raise ValueError(f"not arithmetic: {ast.dump(node)}")


def _as_number(text: str | None) -> float | None:
    """A sample value as a float, read the way the importer reads formula columns."""
    if text is None or number_shape(text) is None:
        return None
    body = CURRENCY.sub("", text).replace(",", "")
    sign = -1.0 if body.startswith("(") or body.endswith("-") or body.startswith("-") else 1.0
    try:
        return sign * float(body.strip("()+-"))
    except ValueError:
        return None


