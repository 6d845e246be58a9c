"""The administration pages of sales management (admins only): targets, commission plans and
vendor commitments, with the checks of ``salesradar plan set``, ``salesradar commissions
--save`` and ``salesradar vendor commitment add``.

The commitment form shows the vagueness and realism warnings of
:func:`salesradar.commitments.check` as the terms are typed: ``/static/admin.js`` asks
``/admin/commitments/check`` (JSON) on every change; without JavaScript the same warnings are
shown after the submit, on the commitment's page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from salesradar.api.auth import Caller, State
from salesradar.api.edge import RowId
from salesradar.app import audit
from salesradar.errors import SalesradarError, UserInputError
from salesradar.web.admin import (
    AdminCaller,
    Csrf,
    Text,
    actor,
    admin_form,
    back,
    reps_of,
    require_admin,
)
from salesradar.web.pages import render

router = APIRouter(include_in_schema=False)
MAX_TARGETS_FILE = 1_000_000  # bytes: a targets CSV is a few hundred rows
MAX_PLAN_YAML = 20_000  # characters


# -- targets ---------------------------------------------------------------------------------
def _period_text(period: str, st: Any) -> str:
    """The period shown: as asked, else the data day's month (the current month without data)."""
    from salesradar.api.routes import as_of

    if period:
        return period
    try:
        day = as_of(st) or dt.date.today()
    except SalesradarError:  # no data yet
        day = dt.date.today()
    return f"{day.year}-{day.month:02d}"


def _targets(st: Any, period: str) -> tuple[list[dict[str, Any]], str | None]:
    """Every target (imported, and set here) of ``period``, for each plan metric."""
    from salesradar.engine import table_names
    from salesradar.performance.plans import METRICS, list_targets, period_of

    try:
        start, _, grain = period_of(period)
    except UserInputError as exc:
        return [], str(exc)
    except ValueError:  # a year the calendar cannot end (9999)
        return [], f"{period!r} is not a period the targets can have"
    rows: list[dict[str, Any]] = []
    try:
        with st.open() as ws:
            if "targets" in table_names(ws.backend):
                for metric in METRICS:
                    rows += list_targets(ws, st.db, start=start, grain=grain, metric=metric)
                return rows, None
    except SalesradarError:  # no data yet: the targets set here
        pass
    for metric in METRICS:
        rows += _app_targets(st.db, start, grain, metric)
    return rows, None


def _app_targets(db: Any, start: dt.date, grain: str, metric: str) -> list[dict[str, Any]]:
    from salesradar.app.management import SalesTargetRow

    with db.session() as s:
        return [{"rep_id": a.rep_id, "team": a.team, "period": a.period.isoformat(),
                 "grain": a.grain, "metric": a.metric, "value": a.value, "source": "app",
                 "set_by": a.set_by}
                for a in s.scalars(select(SalesTargetRow).where(
                    SalesTargetRow.period == start, SalesTargetRow.grain == grain,
                    SalesTargetRow.metric == metric).order_by(SalesTargetRow.rep_id,
                                                              SalesTargetRow.team))]


def _targets_page(request: Request, caller: Caller, st: Any, period: str = "",
                  status: int = 200, error: str | None = None,
                  form: dict[str, str] | None = None, done: str | None = None) -> Response:
    from salesradar.performance.plans import METRICS

    shown = _period_text(period, st)
    rows, period_error = _targets(st, shown)
    reps = sorted(str(r["rep_id"]) for r in reps_of(st))
    teams = sorted({str(r["team"]) for r in reps_of(st) if r.get("team")})
    return render(request, "admin_targets.html", caller, status, page="admin", rows=rows,
                  period=shown, error=error or period_error, form=form or {}, done=done,
                  metrics=METRICS, reps=reps, teams=teams)


@router.get("/admin/targets")
def targets_page(request: Request, caller: AdminCaller, st: State,
                 period: Annotated[str, Query(max_length=10)] = "",
                 done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    require_admin(caller)
    return _targets_page(request, caller, st, period, done=done)


def _save_target(st: Any, who: str, for_team: bool, period: str, metric: str, value: str,
                 by: str) -> dict[str, Any]:
    from salesradar.performance.plans import set_target

    if not who.strip():
        raise UserInputError("name the rep (their rep id) or the team the target is for")
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        raise UserInputError(f"the target must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise UserInputError(f"the target must be a finite number, got {value!r}")
    try:
        return set_target(st.db, period=period.strip(), metric=metric, value=number,
                          rep_id=None if for_team else who.strip(),
                          team=who.strip() if for_team else None, set_by=by)
    except UserInputError:
        raise
    except (ValueError, OverflowError):  # a year the calendar cannot end (9999)
        raise UserInputError(f"{period!r} is not a period a target can have") from None


@router.post("/admin/targets")
def set_target_form(request: Request, caller: AdminCaller, st: State, kind: Text = "rep",
                    who: Text = "", period: Text = "", metric: Text = "revenue",
                    value: Text = "", csrf_token: Csrf = "") -> Response:
    """Set (or replace) one target, with the checks of set_target."""
    admin_form(caller, csrf_token)
    form = {"kind": kind, "who": who, "period": period, "metric": metric, "value": value}
    try:
        row = _save_target(st, who, kind == "team", period, metric, value, actor(caller))
    except UserInputError as exc:
        return _targets_page(request, caller, st, "", 400, str(exc), form)
    audit.record(st.db, actor(caller), "target.set", row["rep_id"] or f"team {row['team']}",
                 {"period": row["period"], "grain": row["grain"], "metric": row["metric"],
                  "value": row["value"]})
    return back(f"/admin/targets?period={period.strip()}&done=saved")


@router.post("/admin/targets/upload")
async def upload_targets(request: Request, caller: AdminCaller, st: State,
                         file: Annotated[UploadFile | None, File()] = None,
                         csrf_token: Csrf = "") -> Response:
    """A CSV of targets (rep_id or team, period, metric, value): every row checked first,
    then all saved, or none."""
    from salesradar.performance.plans import check_metric, period_of

    admin_form(caller, csrf_token)
    if file is None:
        raise UserInputError("choose a CSV file of targets")
    body = await file.read(MAX_TARGETS_FILE + 1)
    if len(body) > MAX_TARGETS_FILE:
        raise UserInputError(f"the file is larger than {MAX_TARGETS_FILE:,} bytes")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = body.decode("cp1255", errors="replace")
    reader = csv.DictReader(io.StringIO(text))
    issues, rows = [], []
    for n, raw in enumerate(reader, start=2):
        rep, team = (raw.get("rep_id") or "").strip(), (raw.get("team") or "").strip()
        try:
            if bool(rep) == bool(team):
                raise UserInputError("give exactly one of rep_id and team")
            check_metric((raw.get("metric") or "").strip())
            period_of((raw.get("period") or "").strip())
            number = float((raw.get("value") or "").replace(",", ""))
            if not number >= 0:
                raise UserInputError("a target cannot be negative")
        except (UserInputError, ValueError) as exc:
            issues.append(f"row {n}: {exc}")
            continue
        rows.append((rep or team, bool(team), raw["period"].strip(), raw["metric"].strip(),
                     str(number)))
    if not rows and not issues:
        issues.append("the file has no rows (header: rep_id, team, period, metric, value)")
    if issues:
        return _targets_page(request, caller, st, "", 400, "; ".join(issues[:20]))
    for who, team_row, period, metric, text in rows:
        _save_target(st, who, team_row, period, metric, text, actor(caller))
    audit.record(st.db, actor(caller), "target.upload", file.filename or "targets.csv",
                 {"rows": len(rows)})
    return back(f"/admin/targets?period={rows[0][2]}&done=uploaded")


# -- commission plans ------------------------------------------------------------------------
EXAMPLE_PLAN = """name: Account managers 2026
grain: month
cap: 20000
metrics:
  - metric: revenue
    weight: 0.7
    tiers:
      - {from: 0.0, rate: 0.01}
      - {from: 0.8, rate: 0.02}
      - {from: 1.0, rate: 0.03}
    accelerator: {from: 1.0, multiplier: 1.5}
  - metric: deals_won
    weight: 0.3
    tiers: [{from: 0.0, rate: 100}]
"""


def _plans(db: Any) -> list[dict[str, Any]]:
    from salesradar.app.management import CommissionPlanRow
    from salesradar.performance.commissions import check_plan

    with db.session() as s:
        return [{**check_plan(r.document), "updated_at": r.updated_at}
                for r in s.scalars(select(CommissionPlanRow).order_by(CommissionPlanRow.name))]


def _commissions_page(request: Request, caller: Caller, st: Any, status: int = 200,
                      error: str | None = None, text: str | None = None,
                      done: str | None = None) -> Response:
    plans = _plans(st.db)
    return render(request, "admin_commissions.html", caller, status, page="admin",
                  plans=plans, error=error, done=done, yaml_of=_yaml_of,
                  text=text if text is not None else EXAMPLE_PLAN)


def _yaml_of(plan: dict[str, Any]) -> str:
    doc = {k: plan[k] for k in ("name", "grain", "cap", "metrics")}
    return str(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))


@router.get("/admin/commissions")
def commissions_page(request: Request, caller: AdminCaller, st: State,
                     name: Annotated[str, Query(max_length=200)] = "",
                     done: Annotated[str | None, Query(max_length=200)] = None) -> Response:
    """The plans; ``name``: that plan's YAML in the form, to edit it."""
    from salesradar.performance.commissions import stored_plan

    require_admin(caller)
    text = _yaml_of(stored_plan(st.db, name)) if name else None
    return _commissions_page(request, caller, st, text=text, done=done)


@router.post("/admin/commissions")
def save_commission_plan(request: Request, caller: AdminCaller, st: State,
                         document: Annotated[str, Form(max_length=MAX_PLAN_YAML)] = "",
                         csrf_token: Csrf = "") -> Response:
    """Save a plan from YAML text; its validation errors are shown with the text."""
    from salesradar.performance.commissions import save_plan

    admin_form(caller, csrf_token)
    try:
        try:
            doc = yaml.safe_load(document)
        except yaml.YAMLError as exc:
            raise UserInputError(f"the YAML cannot be read: {exc}") from None
        plan = save_plan(st.db, doc)
    except UserInputError as exc:
        return _commissions_page(request, caller, st, 400, str(exc), document)
    audit.record(st.db, actor(caller), "commission.save", plan["name"],
                 {"grain": plan["grain"], "cap": plan["cap"],
                  "metrics": [m["metric"] for m in plan["metrics"]]})
    return back(f"/admin/commissions?done={plan['name']}")


# -- vendor commitments ----------------------------------------------------------------------
COMMITMENT_FIELDS = ("name", "vendor", "model", "metric", "improvement", "start", "end",
                     "data_source", "no_baseline", "baseline_window", "baseline_grain",
                     "baseline_aggregation", "fixed", "success_fee_pct", "bonus", "cap",
                     "refund_pct", "extension_days")


def _number(text: str, what: str, *, percent: bool = False) -> float:
    try:
        value = float(text.replace(",", "").replace("%", "").strip() or 0)
    except ValueError:
        raise UserInputError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise UserInputError(f"{what} must be a finite number, got {text!r}")
    return value / 100 if percent else value


def commitment_raw(form: dict[str, str], *, draft: bool = False) -> dict[str, Any]:
    """The form's fields as the mapping ``vendor commitment add`` builds from its options;
    ``draft``: placeholders for the names not typed yet (to check the terms as they come)."""
    f = {k: (form.get(k) or "").strip() for k in COMMITMENT_FIELDS}
    name = f["name"] or ("…" if draft else "")
    vendor = f["vendor"] or ("…" if draft else "")
    return {
        "name": name, "vendor": vendor, "model": f["model"], "metric": f["metric"],
        # while typing, a missing improvement does not hide the other warnings
        "improvement_pct": _number(f["improvement"], "the improvement", percent=True)
        or (0.1 if draft else None),
        "start": f["start"] or None, "end": f["end"] or None,
        "data_source": f["data_source"] or None,
        "baseline": None if f["no_baseline"] else {
            "window": int(_number(f["baseline_window"] or "12", "the baseline periods")),
            "grain": f["baseline_grain"] or "month",
            "aggregation": f["baseline_aggregation"] or "mean"},
        "fees": {"fixed": _number(f["fixed"], "the fixed fee"),
                 "success_fee_pct": _number(f["success_fee_pct"], "the success fee",
                                            percent=True),
                 "bonus": _number(f["bonus"], "the bonus"),
                 "cap": _number(f["cap"], "the cap") if f["cap"] else None},
        "refund": {"refund_pct": _number(f["refund_pct"], "the refund", percent=True),
                   "extension_days": int(_number(f["extension_days"], "the extension days"))},
    }


def commitment_concerns(form: dict[str, str]) -> dict[str, Any]:
    """The warnings of the terms typed so far, or the first mistake in them."""
    from salesradar.commitments import check
    from salesradar.commitments.model import parse_commitment

    try:
        c = parse_commitment(commitment_raw(form, draft=True))
    except (ValueError, OverflowError) as exc:  # UserInputError is a ValueError
        return {"error": str(exc), "concerns": []}
    try:
        concerns = check(c)
    except (ValueError, OverflowError) as exc:
        return {"error": str(exc), "concerns": []}
    return {"error": None, "concerns": [x.to_dict() for x in concerns]}


def _metrics() -> list[tuple[str, str, str]]:
    """The KPIs a commitment can be measured on: (name, English, Hebrew label)."""
    from salesradar.metrics.registry import REGISTRY

    out = []
    for name in sorted(REGISTRY):
        kpi = REGISTRY[name]
        if None in kpi.periods:
            out.append((name, kpi.label_en, kpi.label_he))
    return out


def _commitments_page(request: Request, caller: Caller, st: Any, status: int = 200,
                      error: str | None = None, form: dict[str, str] | None = None) -> Response:
    from salesradar.commitments import check
    from salesradar.commitments.model import AGGREGATIONS, GRAINS, MODELS
    from salesradar.commitments.store import list_commitments

    form = form or {"model": "kpi", "metric": "revenue", "baseline_window": "12",
                    "baseline_grain": "month", "baseline_aggregation": "mean"}
    listed = [(c, check(c)) for c in list_commitments(st.db)]
    return render(request, "admin_commitments.html", caller, status, page="admin",
                  commitments=listed, error=error, form=form, models=MODELS, grains=GRAINS,
                  aggregations=AGGREGATIONS, metrics=_metrics(),
                  concerns=commitment_concerns(form)["concerns"] if form.get("metric") else [])


@router.get("/admin/commitments")
def commitments_page(request: Request, caller: AdminCaller, st: State) -> Response:
    require_admin(caller)
    return _commitments_page(request, caller, st)


@router.get("/admin/commitments/check")
def check_commitment(request: Request, caller: AdminCaller) -> Response:
    """The warnings of the terms typed so far, as JSON (the form's script asks on change)."""
    require_admin(caller)
    form = {k: str(request.query_params.get(k, ""))[:200] for k in COMMITMENT_FIELDS}
    return JSONResponse(commitment_concerns(form))


@router.post("/admin/commitments")
async def add_commitment(request: Request, caller: AdminCaller, st: State) -> Response:
    """Record a commitment with the checks of ``vendor commitment add``; its page shows the
    warnings."""
    from salesradar.commitments.store import add_commitment as store

    async with request.form(max_fields=100) as data:
        fields = {k: str(v)[:200] for k, v in data.items() if isinstance(v, str)}
    admin_form(caller, fields.get("csrf_token", ""))
    form = {k: fields.get(k, "") for k in COMMITMENT_FIELDS}
    try:
        c = store(st.db, commitment_raw(form))
    except (ValueError, OverflowError) as exc:  # UserInputError is a ValueError
        return _commitments_page(request, caller, st, 400, str(exc), form)
    audit.record(st.db, actor(caller), "commitment.add", f"#{c.id} {c.name}",
                 {"vendor": c.vendor, "model": c.model, "metric": c.metric,
                  "improvement_pct": c.improvement_pct})
    return back(f"/admin/commitments/{c.id}")


@router.get("/admin/commitments/{commitment_id}")
def commitment_page(request: Request, commitment_id: RowId, caller: AdminCaller,
                    st: State) -> Response:
    """One commitment: its terms and warnings, status against the baseline, and verdict."""
    from salesradar.access import EVERYTHING
    from salesradar.commitments import check
    from salesradar.commitments.status import commitment_status
    from salesradar.commitments.store import get_commitment

    require_admin(caller)
    c = get_commitment(st.db, commitment_id)

    def run() -> dict[str, Any]:
        with st.open() as ws:
            return commitment_status(ws.backend, c)
    status, unavailable = None, None
    try:
        status = st.cached(f"commitment:{commitment_id}", EVERYTHING, run)
    except SalesradarError as exc:  # too little data for the baseline, no such table
        unavailable = str(exc)
    return render(request, "admin_commitment.html", caller, page="admin", c=c,
                  concerns=check(c), s=status, unavailable=unavailable)
