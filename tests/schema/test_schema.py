"""The schema declarations are consistent, and the data-model doc is generated from them."""

from __future__ import annotations

from pathlib import Path

from salesradar.schema import TABLES, ColumnType
from salesradar.schema.docs import data_model_markdown
from salesradar.schema.tables import LOAD_ORDER, REFERENCES

DOC = Path(__file__).parents[2] / "docs" / "data-model.md"


def test_keys_references_and_enums_are_consistent() -> None:
    assert sorted(LOAD_ORDER) == sorted(TABLES)
    for spec in TABLES.values():
        assert set(spec.key) <= set(spec.column_names), spec.name
        for col in spec.columns:
            assert (col.type is ColumnType.ENUM) == bool(col.values), (spec.name, col.name)
            assert set(col.synonyms.values()) <= set(col.values), (spec.name, col.name)
    for name, refs in REFERENCES.items():
        for column, (ref_table, ref_column) in refs.items():
            assert column in TABLES[name].column_names
            assert ref_column in TABLES[ref_table].column_names
            # masters load first, so their ids are there when the referring table is checked
            assert ref_table == name or LOAD_ORDER.index(ref_table) < LOAD_ORDER.index(name)


def test_data_model_doc_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == data_model_markdown(), (
        "docs/data-model.md is stale: python -m salesradar.schema.docs > docs/data-model.md"
    )
