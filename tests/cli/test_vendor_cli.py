"""commitment add|list|status|verdict, diagnostic and report through the CLI on the demo."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli.conftest import as_json, run


@pytest.fixture(scope="module")
def sample(workspace: Path) -> int:
    """The demo's sample commitment (+22% revenue in nine months), recorded from its YAML."""
    added = as_json("commitment", "add", "--file",
                    str(workspace.parent / "data" / "commitment.yaml"), workspace=workspace)
    assert added["concerns"] == []  # baseline, period, data source and refund terms all given
    return int(added["commitment"]["id"])


def test_status_and_verdict(workspace: Path, sample: int) -> None:
    status = as_json("commitment", "status", str(sample), workspace=workspace)
    assert status["baseline"] > 0 and len(status["baseline_periods"]) == 12
    # 2026-01-01 .. 2026-09-30 is 273 days: 39 weekly checkpoints
    assert len(status["checkpoints"]) == 39
    assert status["target"] == pytest.approx(status["baseline"] * 1.22)
    verdict = as_json("commitment", "verdict", str(sample), workspace=workspace)
    assert verdict["verdict"] in ("met", "missed")
    assert verdict["fee"]["status"] == "final"
    met = verdict["verdict"] == "met"
    assert (verdict["fee"]["bonus"] == 50_000) == met
    assert (verdict["fee"]["refund"] == 30_000) == (not met)  # 50% of the 60,000 fixed fee
    text = run("commitment", "verdict", str(sample), "--workspace", str(workspace), "--lang",
               "he", cwd=workspace.parent)
    assert text.returncode == 0 and "בסיס" in text.stdout
    early = as_json("commitment", "verdict", str(sample), "--as-of", "2026-03-31",
                    workspace=workspace)
    assert early["verdict"] == "in_progress" and early["fee"]["status"] == "to_date"


def test_vague_and_unrealistic_commitment(workspace: Path) -> None:
    added = as_json("commitment", "add", "--name", "Win rate up", "--vendor", "Closers",
                    "--model", "kpi", "--metric", "win_rate", "--improvement", "0.15",
                    "--start", "2026-08-01", "--end", "2026-09-30", "--fixed", "20000",
                    "--bonus", "30000", "--no-baseline", workspace=workspace)
    codes = [c["code"] for c in added["concerns"]]
    assert codes[:3] == ["no_baseline", "no_data_source", "unrealistic_timeline"]
    ident = str(added["commitment"]["id"])
    verdict = as_json("commitment", "verdict", ident, workspace=workspace)
    assert verdict["verdict"] == "vague" and verdict["fee"]["status"] == "not_computed"
    listed = as_json("commitment", "list", workspace=workspace)
    assert any(row["id"] == int(ident) and "no_baseline" in row["concerns"] for row in listed)


def test_mistakes_are_one_paragraph(workspace: Path) -> None:
    missing = run("commitment", "status", "999", "--workspace", str(workspace),
                  cwd=workspace.parent)
    assert missing.returncode == 2 and "no commitment 999" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = run("commitment", "add", "--name", "x", "--vendor", "y", "--model", "kpi", "--metric",
              "revenue", "--improvement", "22", "--workspace", str(workspace),
              cwd=workspace.parent)
    assert bad.returncode == 2 and "fraction" in bad.stderr


def test_diagnostic(workspace: Path) -> None:
    d = as_json("diagnostic", workspace=workspace)
    for section in ("funnel", "lead_sources", "rep_spread", "pricing", "sales_cycle",
                    "crm_quality"):
        assert d[section]["available"], section
        assert d[section]["finding_en"] and d[section]["finding_he"]
    assert d["funnel"]["stages"] and d["crm_quality"]["open_deals"] >= 0
    he = run("diagnostic", "--lang", "he", "--workspace", str(workspace), cwd=workspace.parent)
    assert he.returncode == 0 and "עסקאות" in he.stdout


def test_reports(workspace: Path, sample: int, tmp_path: Path) -> None:
    html = tmp_path / "c.html"
    result = as_json("report", "commitment", str(sample), "--format", "html", "--lang", "he",
                     "--out", str(html), workspace=workspace)
    assert result["out"] == str(html) and result["pages"] is None
    assert '<html lang="he" dir="rtl">' in html.read_text(encoding="utf-8")
    pdf = tmp_path / "ceo.pdf"
    result = as_json("report", "ceo", "--format", "pdf", "--lang", "en", "--out", str(pdf),
                     workspace=workspace)
    assert result["pages"] >= 1 and pdf.read_bytes().startswith(b"%PDF")
    review = as_json("report", "account-review", "--format", "html", "--out",
                     str(tmp_path / "r.html"), workspace=workspace)
    assert review["bytes"] > 1000
    missing_id = run("report", "commitment", "--workspace", str(workspace),
                     cwd=workspace.parent)
    assert missing_id.returncode == 2 and "needs the commitment ID" in missing_id.stderr
