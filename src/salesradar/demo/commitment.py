"""A sample vendor commitment for the demo company: ``commitment.yaml`` beside its tables.

"+22% revenue within nine months over the trailing-12-month mean, measured on the ERP invoice
lines" (DESIGN.md), the nine months ending with the month before the data end. Load it with
``salesradar commitment add --file demo/data/commitment.yaml``.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import yaml


def write_commitment(out_dir: Path, end: datetime.date) -> Path:
    """Write the sample commitment for data that end on ``end``; returns the file."""
    month_start = end.replace(day=1)
    last = month_start - datetime.timedelta(days=1)
    index = month_start.year * 12 + month_start.month - 1 - 9
    first = datetime.date(index // 12, index % 12 + 1, 1)
    terms = {
        "name": "Revenue +22% in nine months", "vendor": "Acme Sales Consulting",
        "model": "hybrid", "metric": "revenue", "improvement_pct": 0.22,
        "start": first.isoformat(), "end": last.isoformat(),
        "data_source": "ERP invoice lines (the salesradar workspace)",
        "baseline": {"window": 12, "grain": "month", "aggregation": "mean"},
        "fees": {"fixed": 60_000, "success_fee_pct": 0.10, "success_fee_base": "revenue",
                 "bonus": 50_000, "cap": 400_000},
        "refund": {"refund_pct": 0.5, "extension_days": 0},
        "evaluation_periods": 3,
        "notes": "Sample commitment of the demo company.",
    }
    path = out_dir / "commitment.yaml"
    path.write_text(yaml.safe_dump(terms, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
