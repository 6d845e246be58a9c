"""Long writes started from the browser or the API, run by the server in background threads.

Two kinds of job write the workspace: an **import** of an uploaded file (all-or-nothing, with
the mapping the admin confirmed) and a **refresh** (:func:`salesradar.pipeline.run`: scores,
insights, outcomes, delivery). Both write a private copy published atomically
(:func:`salesradar.workspace.writing`), so every page keeps answering from the last published
data while they run. One job writes at a time per workspace: starting another while one runs
raises :class:`Busy`, which names the running job (the page says "a refresh is running").

A refresh starts with a **sync** of the workspace's connections
(:func:`salesradar.connectors.sync.sync`, stage ``syncing``) when it has connections whose
``sync_before_refresh`` option is not off; a connection that fails does not stop the refresh,
its error is the run's error and a ``sync.run`` entry of the audit log.

A job's ``stage`` and ``percent`` move as it goes (what the progress endpoints return); a
refresh is also one row of ``refresh_runs`` (:mod:`salesradar.app.schedule`), an import one
``data.import`` entry of the audit log.

:func:`run_due` starts the scheduled refresh when it is due; :func:`scheduler` calls it every
half minute until stopped (the thread the app starts when it serves). Both take the clock as an
argument, so a test runs "02:00" whenever it likes.
"""

from __future__ import annotations

import csv
import io
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salesradar.access import NotVisible
from salesradar.app import schedule as sched
from salesradar.app.audit import record
from salesradar.app.db import AppDB
from salesradar.app.uploads import Upload, save_mapping
from salesradar.errors import ImportRejected, SalesradarError

__all__ = ["Busy", "Job", "JobRunner", "errors_csv", "run_due", "runner_for", "scheduler"]

LOG = logging.getLogger("salesradar.jobs")
KEEP_JOBS = 50
IMPORT_STAGES = ("starting", "reading", "checking", "writing", "publishing", "done")
REFRESH_STAGES = ("starting", "syncing", "importing", "scoring", "insights", "outcomes",
                  "publishing", "delivering", "done")


class Busy(SalesradarError):
    """Another job is writing the workspace (answered 409 with what it is)."""

    def __init__(self, job: Job) -> None:
        what = "a refresh" if job.kind == "refresh" else "an import"
        super().__init__(f"{what} is running (started by {job.actor}); wait until it is done")
        self.job = job


@dataclass
class Job:
    """One import or refresh: where it is and how it ended."""

    id: str
    kind: str  # import, refresh
    actor: str
    status: str = "running"  # running, done, failed, rejected (an import with bad rows)
    stage: str = "starting"
    stages: list[tuple[str, float]] = field(default_factory=list)  # (stage, seconds from start)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    seconds: float = 0.0
    result: dict[str, Any] = field(default_factory=dict)
    issues: list[dict[str, Any]] = field(default_factory=list)
    total_errors: int = 0
    error: str | None = None
    upload_id: str | None = None
    run_id: int | None = None
    table: str | None = None
    file_name: str | None = None
    _t0: float = field(default_factory=time.monotonic, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.status != "running"

    @property
    def percent(self) -> int:
        """A rough share done, by stage (stages take unequal times; never 100 before the end)."""
        if self.finished:
            return 100
        order = REFRESH_STAGES if self.kind == "refresh" else IMPORT_STAGES
        base = self.stage.split(":")[0]
        index = order.index(base) if base in order else 0
        return min(95, int(100 * index / (len(order) - 1)))

    def reach(self, stage: str) -> None:
        self.stage = stage
        self.stages.append((stage, round(time.monotonic() - self._t0, 2)))

    def elapsed(self) -> float:
        return self.seconds if self.finished else time.monotonic() - self._t0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "stage": self.stage,
                "percent": self.percent, "finished": self.finished, "actor": self.actor,
                "started_at": self.started_at.isoformat(), "seconds": round(self.elapsed(), 1),
                "stages": [{"stage": s, "at": t} for s, t in self.stages],
                "result": self.result, "error": self.error, "total_errors": self.total_errors,
                "issues": self.issues, "upload_id": self.upload_id, "run_id": self.run_id,
                "table": self.table, "file": self.file_name}


class JobRunner:
    """The jobs of one workspace: at most one writing at a time, the last few remembered."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._active: Job | None = None

    def active(self) -> Job | None:
        """The job writing now, if any."""
        with self._lock:
            return self._active if self._active and not self._active.finished else None

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotVisible(f"no job {job_id!r} (the last {KEEP_JOBS} are kept until the "
                             "server restarts)")
        return job

    def last(self, kind: str) -> Job | None:
        with self._lock:
            found = [j for j in self._jobs.values() if j.kind == kind]
        return found[-1] if found else None

    def _claim(self, kind: str, actor: str) -> Job:
        with self._lock:
            if self._active is not None and not self._active.finished:
                raise Busy(self._active)
            job = Job(secrets.token_hex(16), kind, actor)
            self._active = job
            self._jobs[job.id] = job
            while len(self._jobs) > KEEP_JOBS:
                self._jobs.popitem(last=False)
            return job

    def _start(self, job: Job, work: Callable[[Job], None]) -> Job:
        def body() -> None:
            try:
                work(job)
            except Exception:  # the work records its own failures; this is the last guard
                LOG.exception("job %s (%s) failed", job.id, job.kind)
                if not job.finished:
                    job.status, job.error = "failed", "unexpected error (see the server log)"
            finally:
                job.seconds = time.monotonic() - job._t0
                if job.status == "running":
                    job.status = "done"
                job.done.set()

        threading.Thread(target=body, daemon=True, name=f"salesradar-{job.kind}").start()
        return job

    # -- import ------------------------------------------------------------------------------
    def start_import(self, db: AppDB, upload: Upload, mapping: Any, *, actor: str,
                     save_as: str | None = None, mapping_source: str = "detected") -> Job:
        """Import ``upload`` with ``mapping`` in the background; :class:`Busy` if a job runs.
        On success the mapping is saved under ``save_as`` and the upload's file deleted."""
        job = self._claim("import", actor)
        job.upload_id, job.table, job.file_name = upload.id, upload.table, upload.name
        job.reach("starting")
        return self._start(job, lambda j: self._import(j, db, upload, mapping, save_as,
                                                       mapping_source))

    def _import(self, job: Job, db: AppDB, upload: Upload, mapping: Any, save_as: str | None,
                mapping_source: str) -> None:
        from salesradar.io import import_file
        from salesradar.workspace import writing

        try:
            with writing(self.workspace) as ws:
                report = import_file(ws, upload.table, upload.path, mapping, progress=job.reach)
                job.reach("publishing")
        except ImportRejected as exc:
            job.status, job.total_errors = "rejected", exc.total_errors
            job.issues = [_shown(i.to_dict(), upload) for i in exc.issues]
            job.error = str(exc).replace(upload.path.name, upload.name)
            return
        except SalesradarError as exc:
            job.status, job.error = "failed", str(exc).replace(upload.path.name, upload.name)
            return
        job.result = {**report.to_dict(), "source": upload.name}
        job.result.pop("issues", None)
        job.issues = [_shown(i.to_dict(), upload) for i in report.issues]  # warnings
        record(db, job.actor, "data.import", upload.table, {
            "file": upload.name, "rows": report.rows_read, "inserted": report.inserted,
            "updated": report.updated, "mapping": mapping_source})
        if save_as:
            save_mapping(db, save_as, mapping, by=job.actor)
            record(db, job.actor, "data.mapping", save_as, {"table": upload.table})
            job.result["saved_as"] = save_as
        upload.delete()
        job.reach("done")
        job.status = "done"

    # -- refresh -----------------------------------------------------------------------------
    def start_refresh(self, db: AppDB, *, actor: str, trigger: str = "now",
                      deliver: bool = True, sync: bool | None = None) -> Job:
        """Run :func:`salesradar.pipeline.run` in the background; :class:`Busy` if a job runs.
        ``sync``: sync the connections first (None: those whose option says so; False: none)."""
        job = self._claim("refresh", actor)
        try:
            job.run_id = sched.start_run(db, trigger, actor)
        except Exception:
            with self._lock:
                self._active = None
            raise
        job.reach("starting")
        record(db, actor, "refresh.run", "refresh", {"status": "started", "trigger": trigger,
                                                     "run": job.run_id})
        return self._start(job, lambda j: self._refresh(j, db, trigger, deliver, sync))

    def _refresh(self, job: Job, db: AppDB, trigger: str, deliver: bool,
                 sync: bool | None = None) -> None:
        from salesradar import pipeline
        from salesradar.insights import InsightStore

        run_id = job.run_id or 0

        def progress(stage: str) -> None:
            job.reach(stage)
            try:
                sched.update_stage(db, run_id, stage)
            except Exception:  # the history is best effort; the run goes on
                LOG.warning("could not record the refresh stage", exc_info=True)

        synced: dict[str, Any] | None = None
        names = [] if sync is False else sync_names(self.workspace, every=sync is True)
        if names:
            progress("syncing")
            synced = sync_before(self.workspace, names, progress)
            record(db, job.actor, "sync.run", ",".join(names), {
                "trigger": f"refresh:{trigger}", "run": run_id, **synced})
        sync_error = synced.get("error") if synced else None
        try:
            summary = pipeline.run(self.workspace, InsightStore(db), deliver=deliver,
                                   progress=progress)
        except Exception as exc:
            message = str(exc) if isinstance(exc, SalesradarError) else \
                "unexpected error (see the server log)"
            if not isinstance(exc, SalesradarError):
                LOG.exception("refresh failed")
            if sync_error:
                message = f"{message}; sync: {sync_error}"
            job.status, job.error = "failed", message
            if synced is not None:
                job.result = sync_counts(synced)
            job.seconds = time.monotonic() - job._t0
            sched.finish_run(db, run_id, "failed", job.result or None, error=message)
            record(db, job.actor, "refresh.run", "refresh", {
                "status": "failed", "trigger": trigger, "run": run_id, "error": message})
            return
        job.result = counts(summary.to_dict())
        if synced is not None:
            job.result.update(sync_counts(synced))
        job.error = f"sync: {sync_error}" if sync_error else None
        job.seconds = time.monotonic() - job._t0
        job.reach("done")
        job.status = "done"
        sched.finish_run(db, run_id, "done", job.result, error=job.error)
        record(db, job.actor, "refresh.run", "refresh", {
            "status": "done", "trigger": trigger, "run": run_id,
            "seconds": round(job.seconds, 1), **job.result,
            **({"error": job.error} if job.error else {})})


# -- the sync a refresh starts with ----------------------------------------------------------
OFF_WORDS = ("no", "off", "false", "0")


def syncs_before_refresh(options: dict[str, Any]) -> bool:
    """Whether a connection's ``sync_before_refresh`` option is on (the default)."""
    return str(options.get("sync_before_refresh", "yes")).strip().lower() not in OFF_WORDS


def sync_names(workspace: Path, *, every: bool = False) -> list[str]:
    """The connections a refresh syncs first: those whose option is on (``every``: all)."""
    from salesradar.connectors.store import list_connections
    from salesradar.workspace import Workspace

    if not workspace.exists():  # no workspace yet: nothing to sync
        return []
    # read-only, as the server's requests open it: DuckDB refuses one file open twice in one
    # process with two configurations (a refresh failed on that while pages were being read)
    with Workspace.open(workspace, read_only=True) as ws:
        found = list_connections(ws)
    return [c.name for c in found if every or syncs_before_refresh(c.options)]


def sync_before(workspace: Path, names: list[str],
                progress: Callable[[str], None]) -> dict[str, Any]:
    """Sync ``names`` (each all or nothing); what each fetched and changed, and the failures.
    Never raises for a failed connection: the refresh goes on with the data there are."""
    from salesradar.connectors.store import read_status
    from salesradar.connectors.sync import SyncFailed, SyncReport, sync

    reports: list[SyncReport] = []
    error: str | None = None
    try:
        reports = sync(workspace, names, progress=lambda text: progress(f"syncing: {text}"))
    except SyncFailed as exc:
        reports, error = exc.reports, str(exc)
    except SalesradarError as exc:  # one connection: its report is in the status file
        error = str(exc)
        status = read_status(workspace)
        totals = _sync_totals([dict(status[n]) for n in names if n in status])
        return {**totals, "failed": max(totals["failed"], 1), "error": error}
    except Exception:
        LOG.exception("the sync before the refresh failed")
        return {"connections": [], "fetched": 0, "changed": 0, "failed": len(names),
                "error": "unexpected error in the sync (see the server log)"}
    return {**_sync_totals([r.to_dict() for r in reports]), "error": error}


def _sync_totals(reports: list[dict[str, Any]]) -> dict[str, Any]:
    shown = [{"connection": r.get("connection"), "ok": bool(r.get("ok")),
              "error": r.get("error"), "fetched": r.get("fetched", 0),
              "changed": r.get("changed", 0),
              "objects": {o["object"]: {"fetched": o.get("fetched", 0),
                                        "changed": o.get("changed", 0)}
                          for o in r.get("objects") or []}} for r in reports]
    return {"connections": shown, "fetched": sum(int(r["fetched"] or 0) for r in shown),
            "changed": sum(int(r["changed"] or 0) for r in shown),
            "failed": sum(not r["ok"] for r in shown)}


def sync_counts(synced: dict[str, Any]) -> dict[str, Any]:
    """The sync's numbers in a refresh's result."""
    return {"synced_connections": len(synced["connections"]),
            "sync_fetched": synced["fetched"], "sync_changed": synced["changed"],
            "sync_failed": synced["failed"], "sync": synced["connections"]}


def counts(summary: dict[str, Any]) -> dict[str, Any]:
    """The numbers of a run worth showing: models scored, insights new/updated/resolved/open,
    outcomes, deliveries sent and failed."""
    insights = summary.get("insights") or {}
    delivery = summary.get("delivery") or {}
    scores = summary.get("scores") or {}
    models = scores.get("models", scores) if isinstance(scores, dict) else {}
    return {
        "imported_files": len(summary.get("imports") or []),
        "models": len(models) if isinstance(models, dict) else 0,
        "insights_new": insights.get("new", 0), "insights_updated": insights.get("updated", 0),
        "insights_resolved": insights.get("resolved", 0),
        "insights_total": insights.get("total", 0),
        "outcomes": sum(v for v in (summary.get("outcomes") or {}).values()
                        if isinstance(v, int)),
        "sent": delivery.get("sent", 0), "failed": delivery.get("failed", 0),
        "unchanged": bool(summary.get("unchanged_since")),  # the last results were kept
    }


def _shown(issue: dict[str, Any], upload: Upload) -> dict[str, Any]:
    """An import issue as the admin sees it: the file under the name they uploaded."""
    if issue.get("file") == upload.path.name:
        issue["file"] = upload.name
    return issue


ERROR_COLUMNS = ("file", "row", "column", "value", "reason", "hint", "count", "severity")


def errors_csv(job: Job) -> str:
    """Every issue of an import as CSV (UTF-8 with BOM, so Excel reads the Hebrew)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, ERROR_COLUMNS, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for issue in job.issues:
        writer.writerow({k: _cell(issue.get(k)) for k in ERROR_COLUMNS})
    return "\ufeff" + out.getvalue()


def _cell(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value


# -- one runner per workspace ----------------------------------------------------------------
_RUNNERS: dict[str, JobRunner] = {}
_RUNNERS_LOCK = threading.Lock()


def runner_for(workspace: Path) -> JobRunner:
    """The runner of ``workspace`` (one per file in this process, whatever app serves it)."""
    key = str(Path(workspace).resolve())
    with _RUNNERS_LOCK:
        runner = _RUNNERS.get(key)
        if runner is None:
            runner = _RUNNERS[key] = JobRunner(Path(workspace))
        return runner


# -- the schedule ----------------------------------------------------------------------------
def run_due(workspace: Path, db: AppDB, now: datetime | None = None) -> Job | None:
    """Start the scheduled refresh if it is due at ``now`` (local time; default the clock):
    the started job, or None (not due, or a job is running: tried again next time)."""
    now = now or datetime.now()
    if not sched.get_schedule(db).is_due(now):
        return None
    try:
        job = runner_for(workspace).start_refresh(db, actor="scheduler", trigger="schedule")
    except Busy:
        return None
    sched.mark_ran(db, now.date())
    return job


def scheduler(workspace: Path, db: AppDB, stop: threading.Event, *, every: float = 30.0,
              clock: Callable[[], datetime] = datetime.now) -> None:
    """Check the schedule every ``every`` seconds until ``stop`` is set (a thread's body)."""
    while not stop.wait(every):
        try:
            run_due(workspace, db, clock())
        except Exception:  # the app database unreachable for a moment: try again later
            LOG.warning("checking the refresh schedule failed", exc_info=True)
