"""Truth audit on the public datasets and the demo company: does every insight say only what the
customer's own invoice lines prove?

For each dataset the workspace is built through the normal importer (eval/datasets.py; the demo
company with run_eval's fixed seed) into its own folder (default ``eval/.cache/truth_audit``, so
that scoring never writes into the workspaces the backtests read), scored at its last data day
(``models.scoring.score_workspace``), its insights generated
(``insights.generate.generate_insights``, every amount written in the dataset's own currency:
pounds for the UCI wholesaler, dollars for the US data, shekels for the demo) and audited with the
360 explanations of the customers they name (``insights.audit``). Printed per dataset: insights
checked by kind, claims checked by name, false claims by reason with examples. Written per dataset,
``<name>.md`` in the folder: 20 insights (the highest priority of each kind in turn, then random
ones, seed 0) each beside its subject's raw history (purchase days with amounts, returns) for a
human read, in English and Hebrew.

    python eval/truth_audit.py [uci_online_retail ... demo] [--cache DIR] [--explanations N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import itertools
import json
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from salesradar.currency import DEFAULT_CURRENCY, use_currency
from salesradar.insights.audit import AuditReport, audit_insights
from salesradar.workspace import Workspace

HERE = Path(__file__).resolve().parent
DATASETS = ("uci_online_retail", "uci_online_retail_ii", "superstore", "northwind",
            "classicmodels", "demo")
SAMPLE = 20
EXAMPLES = 5


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"salesradar_eval_{name}", HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def workspace(name: str, cache: Path) -> Path:
    """A private copy of the dataset's workspace (built on first use), safe to score."""
    target = cache / f"{name}.duckdb"
    if name == "demo":
        source, _, _ = _module("run_eval")._demo_workspace(cache)
        if source != target:
            shutil.copyfile(source, target)
        return target
    return Path(_module("datasets").workspace_for(name, target))


def currency_of(name: str) -> str:
    """The currency the dataset's amounts are in (the demo company's: shekels, the default)."""
    return DEFAULT_CURRENCY if name == "demo" else str(_module("datasets").DATASETS[name].currency)


# ------------------------------------------------------------------------------ sample
def sample(insights: list[Any], n: int = SAMPLE, seed: int = 0) -> list[Any]:
    """Half the highest priority of each kind in turn, half random among the rest."""
    by_kind: dict[str, list[Any]] = {}
    for i in insights:  # highest priority first already
        by_kind.setdefault(i.kind.value, []).append(i)
    top: list[Any] = []
    while len(top) < n // 2 and any(by_kind.values()):
        for kind in list(by_kind):
            if by_kind[kind] and len(top) < n // 2:
                top.append(by_kind[kind].pop(0))
    rest = [i for i in insights if i not in top]
    return top + random.Random(seed).sample(rest, min(n - len(top), len(rest)))


def history(ws: Workspace, insight: Any, as_of: dt.date) -> list[str]:
    """The subject's raw invoice lines in a few lines: per day, gross sales and returns."""
    sub_type, sub_id = insight.subject.type, insight.subject.id
    if sub_type not in ("customer", "customer_sku"):
        return [f"(subject {sub_type} {sub_id}: evidence "
                f"{json.dumps(_short(insight.evidence), default=str)[:600]})"]
    customer, _, sku = sub_id.partition("/")
    where, params = "customer_id::VARCHAR = ?", [customer]
    if sku:
        where += " AND sku::VARCHAR = ?"
        params.append(sku)
    rows = ws.con.execute(f"""
        SELECT invoice_date::DATE AS day,
               coalesce(sum(net_revenue) FILTER (WHERE net_revenue > 0), 0)::DOUBLE AS gross,
               coalesce(-sum(net_revenue) FILTER (WHERE net_revenue < 0), 0)::DOUBLE AS ret,
               count(DISTINCT sku) AS skus
        FROM invoice_lines WHERE {where} AND invoice_date::DATE <= ?
        GROUP BY 1 ORDER BY 1""", [*params, as_of]).fetchall()
    buys = [(d, g, k) for d, g, _, k in rows if g > 0]
    rets = [(d, r) for d, _, r, _ in rows if r > 0]
    gaps = [(b[0] - a[0]).days for a, b in itertools.pairwise(buys)]
    last = buys[-1][0] if buys else None
    year = [(d, g, r) for d, g, r, _ in rows if last and d > last - dt.timedelta(days=365)]
    out = [f"{'SKU ' + sku + ' of ' if sku else ''}customer {customer}: {len(buys)} purchase "
           f"day(s), {len(rets)} return day(s); data day {as_of:%d/%m/%Y}"
           + (f", {(as_of - last).days} days since the last purchase day" if last else "")]
    if gaps:
        ordered = sorted(gaps)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        out.append(f"gaps (days): {gaps[-12:]}{' (last 12)' if len(gaps) > 12 else ''}; "
                   f"median {median}")
    if year:
        out.append(f"(last purchase day - 365 d, data day]: gross {sum(g for _, g, _ in year):,.2f}"
                   f", returns {sum(r for _, _, r in year):,.2f}, net "
                   f"{sum(g - r for _, g, r in year):,.2f}")
    shown = buys[-15:]
    out.append(("purchase days (last 15): " if len(buys) > 15 else "purchase days: ")
               + ", ".join(f"{d:%d/%m/%Y} {g:,.2f}" for d, g, _ in shown))
    if rets:
        out.append("returns: " + ", ".join(f"{d:%d/%m/%Y} -{r:,.2f}" for d, r in rets[-10:]))
    return out


def _short(evidence: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in evidence.items() if k != "claims"}


def write_sample(path: Path, name: str, ws: Workspace, picked: list[Any], report: AuditReport,
                 as_of: dt.date) -> None:
    false_by_id: dict[str, list[str]] = {}
    for d in report.disagreements:
        false_by_id.setdefault(d.id, []).append(
            f"{d.claim}: stated {d.stated!r}, recomputed {d.recomputed!r} ({d.reason})")
    lines = [f"# Truth audit sample: {name}, data day {as_of:%d/%m/%Y}", ""]
    for n, i in enumerate(picked, 1):
        key = i.dedup_key
        lines += [f"## {n}. {i.kind.value} · {i.subject.type} {i.subject.id} · priority "
                  f"{i.priority} · value at stake {i.value_at_stake:,.2f}", "",
                  f"- what: {i.en.what}", f"- why: {i.en.why}", f"- next: {i.en.next_step}",
                  f"- מה: {i.he.what}", f"- למה: {i.he.why}", f"- הצעד הבא: {i.he.next_step}",
                  f"- claims: {json.dumps(i.evidence.get('claims') or [], default=str)}"]
        lines += [f"- AUDIT: {x}" for x in false_by_id.get(key, [])] or ["- audit: no "
                                                                        "disagreement"]
        lines += ["", "History:", *(f"    {h}" for h in history(ws, i, as_of)), ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------- run
def run(name: str, cache: Path, explanations: int | None) -> tuple[str, dict[str, Any]]:
    from salesradar.insights.generate import generate_insights
    from salesradar.models.scoring import score_workspace

    path = workspace(name, cache)
    started = time.perf_counter()
    with Workspace.open(path) as ws, use_currency(currency_of(name)):
        summary = score_workspace(ws)
        scored = time.perf_counter()
        insights = generate_insights(ws)
        report = audit_insights(ws, insights, explanations=explanations != 0,
                                max_explanations=explanations)
        audited = time.perf_counter()
        picked = sample(insights)
        out = cache / f"{name}.md"
        write_sample(out, name, ws, picked, report, summary.as_of)
    # disagreements are keyed by the insight's dedup key (generated insights have no id yet)
    kinds = Counter(i.kind.value for i in insights)
    result = {"dataset": name, "as_of": summary.as_of.isoformat(), **report.to_dict(),
              "insights_by_kind": dict(sorted(kinds.items())), "sample_file": str(out),
              "seconds": {"score": round(scored - started, 1),
                          "insights_and_audit": round(audited - scored, 1)}}
    return text(result, report), result


def text(result: dict[str, Any], report: AuditReport) -> str:
    stmts = result["statements_by_kind"]
    lines = [
        f"### {result['dataset']}: data day {result['as_of']} (score "
        f"{result['seconds']['score']:.0f} s, insights + audit "
        f"{result['seconds']['insights_and_audit']:.0f} s)", "",
        "| checked | count |", "|---|---|",
        *(f"| {k} | {v:,} |" for k, v in stmts.items()),
        f"| **statements** | **{result['statements_checked']:,}** |",
        f"| claims | {result['claims_checked']:,} |",
        f"| **false claims** | **{result['false_claims']:,}** |",
        *(f"| · {k} | {v:,} |" for k, v in result["false_by_type"].items()), "",
        "claims by name: " + ", ".join(f"{k} {v:,}" for k, v in
                                       result["claims_by_name"].items()), "",
    ]
    if report.disagreements:
        lines += ["| kind | reason | count |", "|---|---|---|"]
        per = Counter((d.kind, d.reason.split(":")[0] if d.reason.startswith("past_rhythm")
                       else d.reason) for d in report.disagreements)
        lines += [f"| {k} | {r} | {n:,} |" for (k, r), n in per.most_common()]
        lines += ["", "examples:"]
        seen: Counter[tuple[str, str]] = Counter()
        for d in report.disagreements:
            key = (d.kind, d.claim)
            seen[key] += 1
            if seen[key] <= EXAMPLES:
                lines.append(f"- {d.kind} {d.subject} [{d.claim}] stated {d.stated!r}, "
                             f"recomputed {d.recomputed!r}: \"{d.sentence}\"")
    lines += ["", f"sample for a human read: {result['sample_file']}", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--cache", type=Path, default=HERE / ".cache" / "truth_audit",
                        help="folder of the scored workspaces and the samples")
    parser.add_argument("--explanations", type=int, default=300,
                        help="audit the 360 explanations of at most N customers the insights "
                             "name (0: none; default 300)")
    parser.add_argument("--json", type=Path, help="also write every result to this JSON file")
    args = parser.parse_args()
    unknown = [d for d in args.datasets if d not in DATASETS]
    if unknown:
        parser.error(f"unknown dataset(s) {unknown}; choose from {list(DATASETS)}")
    args.cache.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.datasets:
        printed, result = run(name, args.cache, args.explanations)
        print(printed, flush=True)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, allow_nan=False), encoding="utf-8")
    sys.exit(0)


if __name__ == "__main__":
    main()
