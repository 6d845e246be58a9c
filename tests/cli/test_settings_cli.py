"""`salesradar settings`: a change of currency to USD shows $ in the CLI, the stored insight
texts and the reports, and nothing prints ₪ until it is set back."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import as_json, run


def test_settings_get_set_reset(workspace: Path) -> None:
    rows = as_json("settings", "get", workspace=workspace)
    keys = [r["key"] for r in rows]
    assert keys[:5] == ["currency", "currency_symbol", "fiscal_year_start", "holdout_share",
                        "outcome_window_days"]
    assert {"churn_min_value", "concentration_threshold", "lead_sla_hours_centre",
            "non_product_codes"} <= set(keys)
    one = as_json("settings", "get", "concentration_threshold", workspace=workspace)
    assert (one["value"], one["default"], one["changed"]) == (0.15, 0.15, False)
    bad = run("settings", "set", "concentration_threshold", "2", "--workspace", str(workspace),
              cwd=workspace.parent)
    assert bad.returncode != 0 and "between 0 and 1, not 2" in bad.stderr


def test_usd_shows_dollars_everywhere(workspace: Path, tmp_path: Path) -> None:
    customer = as_json("insights", workspace=workspace)[0]
    try:
        assert as_json("settings", "set", "currency", "usd", workspace=workspace) == {
            "key": "currency", "value": "USD"}
        texts = json.dumps([[i["en"], i["he"]] for i in as_json("insights", workspace=workspace)],
                           ensure_ascii=False)
        assert "$" in texts and "₪" not in texts
        report = tmp_path / "ceo.html"
        done = run("report", "ceo", "--out", str(report), "--workspace", str(workspace),
                   cwd=workspace.parent)
        assert done.returncode == 0, done.stderr
        html = report.read_text(encoding="utf-8")
        assert "$" in html and "₪" not in html
        churn = next(i for i in as_json("insights", workspace=workspace)
                     if i["kind"] == "churn_risk")
        view = as_json("customer", churn["subject_id"], workspace=workspace)
        assert "₪" not in json.dumps(view, ensure_ascii=False)
    finally:
        as_json("settings", "reset", "currency", workspace=workspace)
    again = as_json("insights", workspace=workspace)[0]
    assert again["en"] == customer["en"] and again["he"] == customer["he"]
