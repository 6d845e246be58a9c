"""A realistic demo company: ERP and CRM tables with planted behaviour, and the truth about it.

``generate(out_dir)`` writes every canonical table (:mod:`salesradar.schema.tables`) as CSV or
Parquet, plus ``truth/`` files recording what was planted (churners, loss-makers, affinities,
discontinued SKUs, dropped customer x SKU pairs, margin erosion, late payers, uncontacted
leads, single-threaded accounts), so that models and tests can check what they find.
"""

from salesradar.demo.generator import DemoSummary, generate

__all__ = ["DemoSummary", "generate"]
