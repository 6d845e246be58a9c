"""The whole refresh, from files to delivered insights: what ``salesradar run`` does.

1. import a folder of canonical files (optional; imports are idempotent, so unchanged files add
   nothing);
2. score every model into the workspace's ``score_*`` tables;
3. turn scores, KPIs and CRM tables into insights and upsert them into the insight store (the same
   situation stays one insight; situations gone are resolved);
4. record the outcome of insights whose 30 days have passed in the data (bought again, item back,
   offer taken, lead contacted), for delivered and held-out insights alike;
5. deliver what is due through the configured channels (once per insight and channel).

Running it twice on unchanged data creates no new insight and sends nothing new. When nothing
it depends on has changed since the last refresh (the data, the day judged, the horizon, the
company's settings, this code: :func:`refresh_key`), :func:`run` keeps what that refresh computed
and only marks its insights seen again (:mod:`salesradar.app.refresh_state`): seconds, not
minutes, and the same result as computing it all again. ``full`` recomputes everything.

:func:`run` does it on a workspace file the way ``salesradar run`` does: steps 1-4 on a private
copy published atomically when they succeed (:func:`salesradar.workspace.writing`), so readers
never wait and never see half a run, then step 5 on the published data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import importlib
import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesradar.app.refresh_state import last_refresh, record_refresh
from salesradar.app.settings import load_settings
from salesradar.errors import WorkspaceError
from salesradar.workspace import Workspace, data_day, stage_reached, writing

Progress = Callable[[str], None]


@dataclass
class RunSummary:
    imports: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    insights: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, Any] | None = None
    # nothing had changed since the refresh of this moment: its results were kept
    unchanged_since: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"imports": self.imports, "scores": self.scores, "insights": self.insights,
                "outcomes": self.outcomes, "delivery": self.delivery,
                "unchanged_since": (self.unchanged_since.isoformat()
                                    if self.unchanged_since else None)}


def refresh(
    ws: Workspace,
    store: Any,
    *,
    data: Path | None = None,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
    deliver: bool = True,
    outcome_days: int | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> RunSummary:
    """Import (when ``data`` is given), score, generate insights, measure the outcomes of
    insights old enough (``outcome_days``, else the company's outcome window), and deliver
    what is due; amounts are written in the company's currency (``salesradar settings``)."""
    def notify(stage: str) -> None:
        stage_reached(stage)
        if progress is not None:
            progress(stage)

    if deliver:  # delivery settings fail now, not after minutes of scoring
        from salesradar.delivery.setup import check_channels

        check_channels()
    with load_settings(store.db).active():  # the company's currency and fiscal year
        return _refresh(ws, store, data, as_of, horizon_days, deliver, outcome_days, notify,
                        full)


# The libraries the churn model is fitted with: LightGBM alone imports scikit-learn and pandas,
# about 1.3 s of one core, which the fit would otherwise spend before it starts (a saved model
# scores without them). Only third-party libraries that never import salesradar, ibis or DuckDB:
# their imports on two threads at once cannot wait on each other in a cycle.
AHEAD = ("lightgbm", "sklearn.calibration", "sklearn.isotonic", "sklearn.linear_model")


def import_ahead(modules: tuple[str, ...] = AHEAD) -> threading.Thread:
    """Import ``modules`` on a thread of their own, while this one waits on DuckDB (which
    releases the interpreter) importing the data or computing the customer-days. An import that
    fails here is left to the step that needs the module, which then says why."""
    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    from salesradar.models.refresh_scope import importing_ahead

    thread = threading.Thread(target=load, daemon=True, name="salesradar-import-ahead")
    thread.start()
    importing_ahead(thread)  # the scoring steps wait for it: no two threads import them at once
    return thread


def _refresh(ws: Workspace, store: Any, data: Path | None, as_of: dt.date | None,
             horizon_days: int, deliver: bool, outcome_days: int | None,
             notify: Callable[[str], None], full: bool) -> RunSummary:
    from salesradar.io.folder import import_folder

    summary = RunSummary()
    if data is not None:
        notify("importing")
        summary.imports = [r.to_dict() for r in import_folder(ws, data)]
    ahead = import_ahead() if _fits_coming(ws, as_of, horizon_days, full) else None
    try:
        return _refresh_scores(ws, store, summary, as_of, horizon_days, deliver, outcome_days,
                               notify, full, keep_days=not full and data is None)
    finally:
        if ahead is not None:
            ahead.join()


def _fits_coming(ws: Workspace, as_of: dt.date | None, horizon_days: int, full: bool) -> bool:
    """Whether this refresh fits the churn model (and replays it in the gates): ``full``, or
    no saved model the refit schedule lets serve the day. A day's run scores with the saved
    one, which loads without LightGBM's Python package."""
    from salesradar.models.store import refit_due
    from salesradar.workspace import last_invoice_day

    day = as_of or last_invoice_day(ws)
    return day is not None and (full or refit_due(ws, "churn", day, horizon_days))


def _refresh_scores(ws: Workspace, store: Any, summary: RunSummary, as_of: dt.date | None,
                    horizon_days: int, deliver: bool, outcome_days: int | None,
                    notify: Callable[[str], None], full: bool, *,
                    keep_days: bool = False) -> RunSummary:
    """Score, find the insights and measure the outcomes. ``keep_days``: a day's refresh (not
    ``full``, no data imported), which keeps the customer-days in the workspace and computes
    again only the changed customers' (a full refresh computes them in memory and writes
    none: :func:`~salesradar.models.features.sharing_customer_days`)."""
    from salesradar.insights import run_insights
    from salesradar.insights.outcomes import measure_outcomes
    from salesradar.models.features import sharing_customer_days
    from salesradar.models.scoring import score_workspace

    notify("scoring")
    # the customer-days computed once for all that follows
    with sharing_customer_days(ws, keep=keep_days):
        summary.scores = score_workspace(
            ws, as_of, horizon_days, progress=lambda name, *_: notify(f"scoring: {name}"),
            reuse=not full,
        ).to_dict()
        notify("insights")
        run_at = dt.datetime.now(dt.UTC)
        summary.insights = run_insights(ws, store, as_of, run_at=run_at)
        notify("outcomes")
        summary.outcomes = measure_outcomes(ws, store, days=outcome_days)
    key, _, _ = refresh_key(ws, store, as_of, horizon_days, outcome_days,
                            version=summary.scores.get("data_version"))
    record_refresh(store.db, key, run_at, {"scores": summary.scores,
                                           "insights": summary.insights})
    if deliver:
        notify("delivering")
        summary.delivery = deliver_due(ws, store)
    return summary


def run(
    path: Path | str,
    store: Any,
    *,
    data: Path | None = None,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
    deliver: bool = True,
    outcome_days: int | None = None,
    progress: Progress | None = None,
    full: bool = False,
) -> RunSummary:
    """:func:`refresh` on the workspace file at ``path``: import, scores, insights and outcomes
    on a private copy that is published atomically when they succeed (a failure or a crash
    publishes nothing), then delivery of what is due, from the published data."""
    if deliver:  # delivery settings fail now, before the copy
        from salesradar.delivery.setup import check_channels

        check_channels()
    kept = None if full or data is not None else _kept(path, store, as_of, horizon_days,
                                                       outcome_days)
    if kept is not None:
        summary = kept
    else:
        with writing(path) as ws:
            summary = refresh(ws, store, data=data, as_of=as_of, horizon_days=horizon_days,
                              deliver=False, outcome_days=outcome_days, progress=progress,
                              full=full)
            if progress is not None:
                progress("publishing")
    if deliver:
        stage_reached("delivering")
        if progress is not None:
            progress("delivering")
        with Workspace.open(path, read_only=True) as published, \
                load_settings(store.db).active():
            summary.delivery = deliver_due(published, store)
    return summary


def refresh_key(ws: Workspace, store: Any, as_of: dt.date | None, horizon_days: int,
                outcome_days: int | None, *, version: str | None = None,
                ) -> tuple[str, str, dt.date]:
    """What a refresh's scores, insights and outcomes are a function of, as one text: the data's
    fingerprint (the invoice lines and every import that changed a table), the day judged, the
    horizon, the outcome window, the company's settings, the store's holdout settings and this
    code's version (inside the fingerprint). Also returns the fingerprint and the day.
    ``version``: the fingerprint, when the caller has it already (it scans every line)."""
    from salesradar.models.store import data_version

    version = version or data_version(ws)
    day = as_of or data_day(ws)
    held = store.settings
    key = json.dumps({
        "data": version, "day": day.isoformat(), "horizon": horizon_days,
        "outcome_days": outcome_days,
        "settings": dict(load_settings(store.db).values),
        "store": [held.material_change, held.holdout_fraction,
                  hashlib.sha256(store.holdout_salt_used.encode()).hexdigest(),
                  sorted(k.value for k in held.holdout_kinds) if held.holdout_kinds else None],
    }, sort_keys=True, default=str)
    return key, version, day


def _kept(path: Path | str, store: Any, as_of: dt.date | None, horizon_days: int,
          outcome_days: int | None) -> RunSummary | None:
    """The last refresh's results when nothing it depends on has changed and nobody has
    written insights since; its insights are marked seen now. None: compute everything."""
    from salesradar.models.store import scores_current

    last = last_refresh(store.db)
    if last is None:
        return None
    try:
        with Workspace.open(path, read_only=True) as ws, load_settings(store.db).active():
            key, version, day = refresh_key(ws, store, as_of, horizon_days, outcome_days)
            if key != last.key or not scores_current(ws, version, day, horizon_days):
                return None
    except WorkspaceError:  # held by a writer, or not a workspace: the full path says why
        return None
    written = store.last_written_at()
    if written is not None and written > last.run_at:  # insights written by another run
        return None
    run_at = dt.datetime.now(dt.UTC)
    counts = store.seen_again(last.run_at, run_at)
    insights = {**counts.__dict__, "total": counts.unchanged + counts.reopened,
                "kinds": last.summary.get("insights", {}).get("kinds", {})}
    scores = {**last.summary.get("scores", {}), "reused": True}
    record_refresh(store.db, key, run_at, {"scores": scores, "insights": insights})
    return RunSummary(scores=scores, insights=insights,
                      outcomes={"recovered": 0, "not_recovered": 0},
                      unchanged_since=last.run_at)


def adopt_team_models(db: Any, reps: list[dict[str, Any]]) -> dict[str, str]:
    """Give each team never configured the operating model most of its reps have in ``reps``.

    Centre teams then get instant pushes, account teams a weekly digest (DESIGN.md, "Two
    operating models"). This happens the first time a team is seen; from then on the stored
    settings are the team's own and are never overwritten from ``reps`` again.
    """
    votes: dict[str, Counter[str]] = {}
    for rep in reps:
        if rep.get("team") and rep.get("model") in ("centre", "account"):
            votes.setdefault(str(rep["team"]), Counter())[str(rep["model"])] += 1
    adopted = {}
    configured = db.configured_teams()
    for team, counts in votes.items():
        if team not in configured:
            model = counts.most_common(1)[0][0]
            db.set_team_settings(team, operating_model=model)
            adopted[team] = model
    return adopted


def deliver_due(ws: Workspace, store: Any, *, dry_run: bool = False) -> dict[str, Any]:
    """Send what is due through the channels configured in the environment."""
    from salesradar.delivery import outbox
    from salesradar.delivery.setup import channels_from_env, people_from_reps

    reps = ws.table("reps").to_pyarrow().to_pylist()
    adopt_team_models(store.db, reps)
    report = outbox.deliver(store, channels_from_env(), dt.datetime.now(dt.UTC),
                            directory=people_from_reps(reps), dry_run=dry_run)
    return report.to_dict()
