"""Generate the insights of a workspace and record them in the insight store.

:func:`generate_insights` runs every rule of :mod:`salesradar.insights.rules` whose data exists,
routes each finding to its owner rep, their manager and team, scores its priority and words it in
English and Hebrew (:mod:`salesradar.insights.texts`). :func:`run_insights` also upserts the
result into an :class:`~salesradar.insights.store.InsightStore`.

Priority (0–100) = 100 × ``log(1 + value × urgency) / log(1 + priority_value_cap)``, capped at
100 and at least 1: the money at stake (a year's worth for every kind, see GLOSSARY.md) weighted
by the urgency (0–1) the rule gives (churn probability, how far below coverage, how long
overdue, ...), so kinds compare like with like: a key account that merely hangs on one contact
(urgency 0.35–0.5) does not outrank a customer of the same worth leaving now.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import gc
import math
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from salesradar.claims import steady
from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.insights.model import UTC, Insight, Kind
from salesradar.insights.rules import RULES, Context, Finding, RuleSettings
from salesradar.insights.store import InsightStore
from salesradar.insights.texts import render_with_claims
from salesradar.models.features import shared_view
from salesradar.models.scoring import SCORE_TABLES
from salesradar.workspace import Workspace

__all__ = ["available_kinds", "generate_insights", "priority", "run_insights"]


def priority(value: float, urgency: float, cap: float) -> int:
    """Priority 0–100 from the value at stake and the urgency (see the module docstring)."""
    weighted = max(value, 0.0) * max(0.0, min(1.0, urgency))
    part = min(1.0, math.log1p(weighted) / math.log1p(cap)) if cap > 0 else 1.0
    return max(1, min(100, round(100 * part)))


def _has_rows(ws: Workspace, name: str, tables: set[str]) -> bool:
    return name in tables and ws.row_count(name) > 0


def available_kinds(ws: Workspace, kinds: Iterable[Kind] | None = None) -> list[Kind]:
    """The kinds (of ``kinds``, default all) whose tables exist and hold rows."""
    tables = table_names(ws.backend)
    wanted = list(RULES) if kinds is None else [Kind(k) for k in kinds]
    return [k for k in wanted if all(_has_rows(ws, t, tables) for t in RULES[k].needs)]


def _check_scores(ws: Workspace, kinds: list[Kind]) -> None:
    tables = table_names(ws.backend)
    scored = set(SCORE_TABLES.values())
    missing = sorted({t for k in kinds for t in RULES[k].needs if t in scored} - tables)
    if missing:
        raise UserInputError(
            f"no scores in this workspace yet ({', '.join(missing)} missing): "
            "run salesradar score first"
        )


def _as_of(ws: Workspace, as_of: dt.date | dt.datetime | None) -> tuple[dt.date, dt.datetime]:
    """The day judged and the moment (naive UTC): end of the day unless a time was given."""
    if isinstance(as_of, dt.datetime):
        moment = as_of.astimezone(UTC).replace(tzinfo=None) if as_of.tzinfo else as_of
        return moment.date(), moment
    if as_of is None:
        day = None
        if "score_churn" in table_names(ws.backend):
            row = ws.con.execute("SELECT max(as_of)::DATE FROM score_churn").fetchone()
            day = row[0] if row else None
        if day is None:
            row = ws.con.execute("SELECT max(invoice_date)::DATE FROM invoice_lines").fetchone()
            day = row[0] if row else None
        as_of = day or dt.datetime.now(UTC).date()
    return as_of, dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def _people(ws: Workspace) -> dict[str, tuple[str | None, str | None]]:
    """rep_id → (manager_id, team)."""
    rows = ws.con.execute("SELECT rep_id, manager_id, team FROM reps").fetchall()
    return {str(r[0]): (r[1], r[2]) for r in rows if r[0] is not None}


def _selling_reps(ws: Workspace) -> dict[str, str]:
    """customer_id → the rep of its latest invoice line, for customers without a master row (a
    company that imported invoice lines only): the same reps :mod:`salesradar.access` lets see
    such a customer, so its insights reach someone."""
    mastered = ("WHERE customer_id NOT IN (SELECT customer_id FROM customers "
                "WHERE rep_id IS NOT NULL)" if "customers" in table_names(ws.backend) else "")
    rows = ws.con.execute(
        "SELECT customer_id, arg_max(rep_id, (invoice_date, invoice_id, line_no)) "  # noqa: S608
        f"FROM invoice_lines {mastered} GROUP BY customer_id "
        "HAVING count(rep_id) > 0").fetchall()
    return {str(c): str(r) for c, r in rows if r is not None}


def _unowned(f: Finding) -> bool:
    """True for a customer's finding without a rep (its owner is the rep who sells to it)."""
    return not f.owner_rep_id and f.subject.type.startswith("customer")


def _owner(f: Finding, selling: dict[str, str]) -> str | None:
    """The finding's rep, else (a customer's finding) the rep who sells to the customer."""
    if not _unowned(f):
        return f.owner_rep_id
    return selling.get(f.subject.id.partition("/")[0])


class _Owners:
    """Gives each customer's finding without a rep the rep who sells to it
    (:func:`_selling_reps`, read once, and only when some finding needs it)."""

    def __init__(self, ws: Workspace, has_lines: bool) -> None:
        self._ws = ws
        self._has_lines = has_lines
        self._selling: dict[str, str] | None = None

    def owned(self, findings: list[Finding]) -> list[Finding]:
        """The findings, the unowned ones given their selling rep."""
        if not any(_unowned(f) for f in findings):
            return findings
        if self._selling is None:
            self._selling = _selling_reps(self._ws) if self._has_lines else {}
        selling = self._selling
        return [replace(f, owner_rep_id=_owner(f, selling)) if _unowned(f) else f
                for f in findings]


@contextmanager
def _rules_ahead(ctx: Context, kinds: list[Kind]) -> Iterator[Iterator[list[Finding]]]:
    """The findings of each rule of ``kinds``, in that order, the rules run one after the
    other on another thread while this one words the findings already found.

    A rule is mostly DuckDB queries, which release the GIL: run ahead, they use the second
    core, idle while the words are built (Python). The thread reads the workspace through its
    own view (:func:`~salesradar.models.features.shared_view`: a DuckDB connection serves one
    thread; the view reads the refresh's shared customer-days), each rule in a copy of this
    context. A rule's error is raised here, when its findings are asked for; on leaving, the
    rules not started are dropped, the running one finishes and the view closes."""
    view = shared_view(ctx.ws)
    ahead = replace(ctx, ws=view)
    pool = ThreadPoolExecutor(1, thread_name_prefix="salesradar-rules")
    futures: list[Future[list[Finding]]] = []
    try:
        futures = [pool.submit(contextvars.copy_context().run, RULES[kind].run, ahead)
                   for kind in kinds]
        yield (future.result() for future in futures)
    finally:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        finally:
            view.close()


def _insight(f: Finding, people: dict[str, tuple[str | None, str | None]],
             judged_at: dict[str, str], detected_at: dt.datetime,
             settings: RuleSettings) -> Insight:
    """The finding worded, prioritised and routed; ``judged_at``: the run's ``as_of`` and
    ``now`` (ISO text), which the evidence starts with."""
    value = round(max(f.value, 0.0), 2)
    judged = {**judged_at, **f.evidence}
    en, he, claims = render_with_claims(f.kind.value, judged)
    manager, team = people.get(f.owner_rep_id or "", (None, None))
    evidence: dict[str, Any] = steady(judged)
    evidence["claims"] = steady(claims)
    evidence["urgency"] = round(f.urgency, 3)
    return Insight(
        kind=f.kind, subject=f.subject, owner_rep_id=f.owner_rep_id, manager_id=manager,
        detected_at=detected_at, priority=priority(value, f.urgency, settings.priority_value_cap),
        value_at_stake=value, en=en, he=he, evidence=evidence, team=team,
    )


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while a run builds its rows, findings and insights:
    hundreds of thousands of dicts and lists that all stay alive, so each automatic collection
    on the way walks every object of the process again for nothing (5-10% of a 30,000-insight
    run). Resumed after, if it was on before; the run itself makes no garbage cycles to wait
    for. Nested blocks keep it paused until the outer one ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def generate_insights(
    ws: Workspace,
    as_of: dt.date | dt.datetime | None = None,
    *,
    settings: RuleSettings = RuleSettings(),  # noqa: B008 - frozen, safe as a default
    kinds: Iterable[Kind] | None = None,
) -> list[Insight]:
    """Every insight of the workspace as of a day, highest priority first.

    The rules run one after the other on another thread (:func:`_rules_ahead`), each ahead of
    the wording of the findings before it: the same insights as running them here first.

    Parameters
    ----------
    ws
        A scored workspace (``salesradar score`` writes the ``score_*`` tables).
    as_of
        The day judged (default: the day the scores were computed for); a datetime judges
        that moment (lead SLAs).
    settings
        The rule thresholds.
    kinds
        Only these kinds (default: every kind whose data exists).

    Raises
    ------
    UserInputError
        When a score table the requested kinds need is missing.
    """
    wanted = list(RULES) if kinds is None else [Kind(k) for k in kinds]
    _check_scores(ws, wanted)
    day, moment = _as_of(ws, as_of)
    ctx = Context(ws, day, moment, settings)
    people = _people(ws)
    detected_at = moment.replace(tzinfo=UTC)
    judged_at = {"as_of": ctx.as_of.isoformat(), "now": ctx.now.isoformat()}
    owners = _Owners(ws, "invoice_lines" in table_names(ws.backend))
    found: list[Insight] = []
    with _no_cycle_collection(), _rules_ahead(ctx, available_kinds(ws, wanted)) as ahead:
        for findings in ahead:  # each rule's, as soon as it has run
            found.extend(_insight(f, people, judged_at, detected_at, settings)
                         for f in owners.owned(findings))
    found.sort(key=lambda i: (-i.priority, -i.value_at_stake, i.dedup_key))
    return found


def run_insights(
    ws: Workspace,
    store: InsightStore,
    as_of: dt.date | dt.datetime | None = None,
    *,
    settings: RuleSettings | None = None,
    run_at: dt.datetime | None = None,
) -> dict[str, Any]:
    """Generate the insights and upsert them; return counts per outcome and per kind.

    Only the kinds whose data exists are evaluated, so a kind whose table was never imported
    does not resolve earlier insights of that kind.
    """
    if settings is None:  # the company's thresholds (salesradar settings)
        from salesradar.app.settings import load_settings

        settings = load_settings(store.db).rules()
    _check_scores(ws, list(RULES))
    # paused until the run's insights are freed (by the return of _store_run): the first
    # collection after it then has only the objects still alive to walk, not them
    with _no_cycle_collection():
        return _store_run(ws, store, as_of, settings, run_at or dt.datetime.now(UTC))


def _store_run(ws: Workspace, store: InsightStore, as_of: dt.date | dt.datetime | None,
               settings: RuleSettings, run_at: dt.datetime) -> dict[str, Any]:
    """:func:`run_insights` once its settings are known."""
    kinds = available_kinds(ws)
    insights = generate_insights(ws, as_of, settings=settings, kinds=kinds)
    counts = store.upsert_many(insights, run_at, kinds=kinds)
    per_kind: dict[str, int] = {k.value: 0 for k in kinds}
    for i in insights:
        per_kind[i.kind.value] += 1
    return {**counts.__dict__, "total": len(insights), "kinds": per_kind}
