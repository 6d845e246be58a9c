"""Importers: sources (CSV, Excel, Parquet, SQL) mapped and validated into canonical tables."""

from salesradar.io.importer import ImportReport, import_file, import_sql
from salesradar.io.mapping import ColumnMapping, Mapping, load_mapping

__all__ = ["ColumnMapping", "ImportReport", "Mapping", "import_file", "import_sql", "load_mapping"]
