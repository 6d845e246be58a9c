"""Diagnostic sections on money and hygiene: pricing and discounts, cycle lengths, CRM quality."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis

from salesradar.engine import table_names
from salesradar.metrics import plain_rows

DEEP_DISCOUNT = 0.20  # a line sold more than 20% below list price is a deep discount
STALE_DAYS = 30  # an open deal without an activity for 30 days is stale

# (table, column, only rows where, label): fields a vendor needs filled to measure anything
FIELD_CHECKS: tuple[tuple[str, str, tuple[str, str] | None], ...] = (
    ("deals", "customer_id", None), ("deals", "owner_rep_id", None), ("deals", "amount", None),
    ("deals", "close_date", None), ("deals", "stage", None),
    ("deals", "lost_reason", ("outcome", "lost")),
    ("leads", "source", None), ("leads", "owner_rep_id", None),
    ("customers", "rep_id", None), ("customers", "region", None), ("customers", "industry", None),
)


def missing_tables(backend: Any, *tables: str) -> list[str]:
    """Which of ``tables`` the workspace does not hold."""
    present = table_names(backend)
    return [t for t in tables if t not in present]


def unavailable(missing: list[str]) -> dict[str, Any]:
    """A diagnostic section that cannot be computed without the ``missing`` tables."""
    return {"available": False, "missing_tables": missing,
            "finding_en": f"needs the table(s) {', '.join(missing)}",
            "finding_he": f"נדרשות הטבלאות {', '.join(missing)}"}


def pricing(backend: Any, start: date, end: date) -> dict[str, Any]:
    """Discount below list price, weighted by revenue, overall and per rep, with the margin."""
    if missing := missing_tables(backend, "products"):
        return unavailable(missing)
    lines, products = backend.table("invoice_lines"), backend.table("products")
    j = lines.join(products.select("sku", "list_price"), "sku")
    j = j.filter(j.invoice_date.between(ibis.date(start), ibis.date(end)), j.quantity > 0,
                 j.list_price > 0)
    j = j.mutate(rev=j.net_revenue.cast("float64"), cost_=j.cost.cast("float64"),
                 list_value=(j.quantity * j.list_price).cast("float64"))
    j = j.mutate(deep=(1 - j.rev / j.list_value) > DEEP_DISCOUNT)

    def measures(t: Any) -> dict[str, Any]:
        return {"revenue": t.rev.sum(), "list_value": t.list_value.sum(),
                "deep_revenue": ibis.ifelse(t.deep, t.rev, 0.0).sum(), "cost": t.cost_.sum()}

    total = plain_rows(j.aggregate(**measures(j)).to_pyarrow())[0]
    per_rep = plain_rows(j.group_by(rep_id=j.rep_id).aggregate(**measures(j)).to_pyarrow())
    if not total["revenue"]:
        return {"available": True, "finding_en": "no sales with a list price in the window",
                "finding_he": "אין מכירות עם מחיר מחירון בתקופה"}

    def shape(r: dict[str, Any]) -> dict[str, Any]:
        rev = r["revenue"] or 0.0
        return {"revenue": rev,
                "avg_discount": 1 - rev / r["list_value"] if r["list_value"] else None,
                "deep_discount_share": r["deep_revenue"] / rev if rev else None,
                "gross_margin": 1 - (r["cost"] or 0.0) / rev if rev else None}

    overall = shape(total)
    reps = sorted(({"rep_id": r["rep_id"], **shape(r)} for r in per_rep),
                  key=lambda r: -(r["avg_discount"] or 0.0))
    deepest = reps[0] if reps else None
    finding_en = (f"sold on average {overall['avg_discount']:.1%} below list; "
                  f"{overall['deep_discount_share']:.0%} of revenue more than 20% below")
    finding_he = (f"נמכר בממוצע {overall['avg_discount']:.1%} מתחת למחירון; "
                  f"{overall['deep_discount_share']:.0%} מההכנסות ביותר מ־20% הנחה")
    if deepest is not None and deepest["avg_discount"] is not None:
        finding_en += f"; {deepest['rep_id']} discounts most ({deepest['avg_discount']:.1%})"
        finding_he += (f"; {deepest['rep_id']} נותן את ההנחות הגדולות "
                       f"({deepest['avg_discount']:.1%})")
    return {"available": True, **overall, "reps": reps, "finding_en": finding_en,
            "finding_he": finding_he}


def cycle_lengths(backend: Any, start: date, end: date) -> dict[str, Any]:
    """Days from creation to close of deals won in the window, per pipeline: median, p90, mean."""
    if missing := missing_tables(backend, "deals"):
        return unavailable(missing)
    d = backend.table("deals")
    d = d.filter(d.outcome == "won", d.close_date.between(ibis.date(start), ibis.date(end)))
    d = d.mutate(days=d.close_date.delta(d.created_at, unit="day").cast("float64"))

    def measures(t: Any) -> dict[str, Any]:
        return {"won_deals": t.count(), "median_days": t.days.median(),
                "p90_days": t.days.quantile(0.9), "mean_days": t.days.mean()}

    rows = plain_rows(d.group_by(pipeline=d.pipeline.fill_null("—")).aggregate(**measures(d))
                      .order_by("pipeline").to_pyarrow())
    total = plain_rows(d.aggregate(**measures(d)).to_pyarrow())[0]
    if not total["won_deals"]:
        return {"available": True, "pipelines": rows, "finding_en": "no deal won in the window",
                "finding_he": "אין עסקאות שנסגרו בהצלחה בתקופה"}
    return {"available": True, "pipelines": rows, **total,
            "finding_en": f"a won deal takes {total['median_days']:.0f} days (median), one in ten "
                          f"over {total['p90_days']:.0f}",
            "finding_he": f"עסקה שנסגרה לוקחת {total['median_days']:.0f} ימים (חציון), אחת "
                          f"מעשר יותר מ־{total['p90_days']:.0f}"}


def missing_fields(backend: Any) -> list[dict[str, Any]]:
    """For each field a vendor relies on: how many rows leave it empty (one query per table)."""
    present = table_names(backend)
    out: list[dict[str, Any]] = []
    for table in dict.fromkeys(t for t, _, _ in FIELD_CHECKS):
        if table not in present:
            continue
        t = backend.table(table)
        checks = [(c, w) for tb, c, w in FIELD_CHECKS if tb == table and c in t.columns]
        aggs: dict[str, Any] = {}
        for column, where in checks:
            scope = t[where[0]] == where[1] if where else t[column].isnull() | t[column].notnull()
            aggs[f"n_{column}"] = scope.cast("int64").sum()
            aggs[f"m_{column}"] = (scope & t[column].isnull()).cast("int64").sum()
        row = plain_rows(t.aggregate(**aggs).to_pyarrow())[0]
        for column, where in checks:
            total, empty = row[f"n_{column}"] or 0, row[f"m_{column}"] or 0
            out.append({"table": table, "column": column,
                        "only": f"{where[0]} = {where[1]}" if where else None,
                        "rows": total, "missing": empty,
                        "missing_share": empty / total if total else None})
    return out


def crm_quality(backend: Any, as_of: date) -> dict[str, Any]:
    """Missing fields, stale open deals (past close date or no activity for 30 days) and deals
    without any activity."""
    present = table_names(backend)
    fields = missing_fields(backend)
    out: dict[str, Any] = {"available": True, "missing_fields": fields}
    if "deals" in present:
        d = backend.table("deals")
        open_ = d.filter(d.outcome == "open")
        if "activities" in present:
            a = backend.table("activities")
            a = a.filter(a.deal_id.notnull())
            last = a.group_by(a_deal=a.deal_id).aggregate(last_at=a.at.max().date(),
                                                          n_act=a.count())
            j = open_.left_join(last, open_.deal_id == last.a_deal)
            quiet = j.last_at.isnull() | (j.last_at < ibis.date(as_of - timedelta(days=STALE_DAYS)))
            no_act = j.n_act.isnull()
            all_deals = d.left_join(last, d.deal_id == last.a_deal)
            out["deals_without_activity"] = int(all_deals.n_act.isnull().cast("int64").sum()
                                                .to_pyarrow().as_py() or 0)
            out["deals"] = int(d.count().to_pyarrow().as_py())
        else:
            j = open_
            quiet = no_act = open_.deal_id.isnull() | open_.deal_id.notnull()  # all of them
        past_due = j.close_date.isnull() | (j.close_date < ibis.date(as_of))
        row = plain_rows(j.aggregate(open_deals=j.count(),
                                     past_due=past_due.cast("int64").sum(),
                                     quiet=quiet.cast("int64").sum(),
                                     stale=(past_due | quiet).cast("int64").sum(),
                                     open_without_activity=no_act.cast("int64").sum())
                         .to_pyarrow())[0]
        out.update({k: int(v or 0) for k, v in row.items()})
    worst = max((f for f in fields if f["missing_share"]), key=lambda f: f["missing_share"],
                default=None)
    parts_en, parts_he = [], []
    if "open_deals" in out:
        parts_en.append(f"stale open deals: {out['stale']} of {out['open_deals']}")
        parts_he.append(f"עסקאות פתוחות תקועות: {out['stale']} מתוך {out['open_deals']}")
    if "deals_without_activity" in out:
        parts_en.append(f"deals without any activity logged: {out['deals_without_activity']}")
        parts_he.append(f"עסקאות בלי אף פעילות מתועדת: {out['deals_without_activity']}")
    if worst is not None:
        parts_en.append(f"{worst['table']}.{worst['column']} is empty in "
                        f"{worst['missing_share']:.0%} of rows")
        parts_he.append(f"השדה {worst['table']}.{worst['column']} ריק ב־"
                        f"{worst['missing_share']:.0%} מהשורות")
    out["finding_en"] = "; ".join(parts_en) or "no CRM tables to check"
    out["finding_he"] = "; ".join(parts_he) or "אין טבלאות CRM לבדיקה"
    return out
