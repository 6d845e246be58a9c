"""Mapping files: the shipped examples load, and every problem in a bad one is reported at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import MAPPINGS
from salesradar.errors import UserInputError
from salesradar.io.mapping import load_mapping, normalize_header, parse_mapping


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_mapping_loads(path: Path) -> None:
    mapping = load_mapping(path)
    assert mapping.table is not None and mapping.columns


def test_all_problems_of_a_mapping_are_listed_together() -> None:
    with pytest.raises(UserInputError) as caught:
        parse_mapping({
            "table": "invoice_lines",
            "colour": "blue",
            "decimal": ",,",
            "columns": {
                "invoice_date": "תאריך",
                "revenue": "סכום",
                "cost": {"formula": "{a} ; drop table x"},
                "channel": {"value": "field", "column": "ערוץ"},
            },
        }, "m.yaml")
    message = str(caught.value)
    assert "4 problem(s)" not in message  # there are five
    for fragment in ("unknown key 'colour'", "has no column 'revenue'", "a formula may use",
                     "exactly one of column, value or formula", "decimal must be one character"):
        assert fragment in message
    assert "5 problem(s)" in message


def test_mapping_for_another_table_is_refused() -> None:
    with pytest.raises(UserInputError, match="for table 'deals', not 'invoice_lines'"):
        parse_mapping({"table": "deals", "columns": {}}, "m.yaml", "invoice_lines")


def test_missing_and_invalid_yaml_files(tmp_path: Path) -> None:
    with pytest.raises(UserInputError, match="mapping file not found"):
        load_mapping(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: [unclosed", encoding="utf-8")
    with pytest.raises(UserInputError, match="not valid YAML"):
        load_mapping(bad)


def test_headers_compare_without_case_spaces_or_bom() -> None:
    assert normalize_header("\ufeff Net Revenue ") == "net_revenue"
    assert normalize_header("invoice-date") == "invoice_date"
