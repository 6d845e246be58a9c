"""The whole refresh, from files to delivered insights: what ``salesradar run`` does.

1. import a folder of canonical files (optional; imports are idempotent, so unchanged files add
   nothing);
2. score every model into the workspace's ``score_*`` tables;
3. turn scores, KPIs and CRM tables into insights and upsert them into the insight store (the same
   situation stays one insight; situations gone are resolved);
4. record the outcome of insights whose 30 days have passed in the data (bought again, item back,
   offer taken, lead contacted), for delivered and held-out insights alike;
5. deliver what is due through the configured channels (once per insight and channel).

Running it twice on unchanged data creates no new insight and sends nothing new.

:func:`run` does it on a workspace file the way ``salesradar run`` does: steps 1-4 on a private
copy published atomically when they succeed (:func:`salesradar.workspace.writing`), so readers
never wait and never see half a run, then step 5 on the published data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesradar.app.settings import load_settings
from salesradar.workspace import Workspace, stage_reached, writing

Progress = Callable[[str], None]


@dataclass
class RunSummary:
    imports: list[dict[str, Any]] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    insights: dict[str, Any] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    delivery: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"imports": self.imports, "scores": self.scores, "insights": self.insights,
                "outcomes": self.outcomes, "delivery": self.delivery}


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


def _refresh(ws: Workspace, store: Any, data: Path | None, as_of: dt.date | None,
             horizon_days: int, deliver: bool, outcome_days: int | None,
             notify: Callable[[str], None], full: bool) -> RunSummary:
    from salesradar.insights import run_insights
    from salesradar.insights.outcomes import measure_outcomes
    from salesradar.io.folder import import_folder
    from salesradar.models.scoring import score_workspace

    summary = RunSummary()
    if data is not None:
        notify("importing")
        summary.imports = [r.to_dict() for r in import_folder(ws, data)]
    notify("scoring")
    summary.scores = score_workspace(
        ws, as_of, horizon_days, progress=lambda name, *_: notify(f"scoring: {name}"),
        reuse=not full,
    ).to_dict()
    notify("insights")
    summary.insights = run_insights(ws, store, as_of)
    notify("outcomes")
    summary.outcomes = measure_outcomes(ws, store, days=outcome_days)
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
