"""Canonical tables, their columns, keys and checks, and the features each table switches on."""

from salesradar.schema.features import FEATURES, Feature, FeatureState, feature_states
from salesradar.schema.tables import TABLES, Column, ColumnType, Sign, Table, table

__all__ = [
    "FEATURES",
    "TABLES",
    "Column",
    "ColumnType",
    "Feature",
    "FeatureState",
    "Sign",
    "Table",
    "feature_states",
    "table",
]
