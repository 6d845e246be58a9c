"""A sample commission plan beside the demo data (``commission-plan.yaml``)."""

from __future__ import annotations

from pathlib import Path

SAMPLE_PLAN = """\
# A commission plan for salesradar commissions --plan commission-plan.yaml --period 2026-09
# Tiers are marginal: each slice of the actual between two attainment levels earns its rate.
name: Sales team 2026
grain: month
cap: 6000                 # the most one rep is paid for one month
metrics:
  - metric: revenue
    weight: 0.7
    tiers:
      - {from: 0.0, rate: 0.01}   # 1% of revenue up to 80% of the target
      - {from: 0.8, rate: 0.02}   # 2% from 80% to 100%
      - {from: 1.0, rate: 0.03}   # 3% above the target ...
    accelerator: {from: 1.0, multiplier: 1.5}   # ... times 1.5: 4.5%
  - metric: deals_won
    weight: 0.3
    tiers:
      - {from: 0.0, rate: 500}    # 500 per won deal
    accelerator: {from: 1.0, multiplier: 2.0}  # 1,000 per deal above the target
"""


def write_commission_plan(out_dir: Path) -> Path:
    """Write the sample plan to ``out_dir/commission-plan.yaml``."""
    path = Path(out_dir) / "commission-plan.yaml"
    path.write_text(SAMPLE_PLAN, encoding="utf-8")
    return path
