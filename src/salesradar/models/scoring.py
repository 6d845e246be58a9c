"""Score a workspace with every model and keep the results as tables beside the data.

``salesradar score`` calls :func:`score_workspace`; pages, alerts and ``salesradar customer`` read
the ``score_*`` tables instead of refitting, and the churn explanations come from the fitted
model saved beside the workspace (:mod:`salesradar.models.store`). :func:`customer_view`
assembles one customer's 360 view from them.

Models earn their alerts: before scoring, :func:`salesradar.models.gates.model_gates` backtests
churn, cross-sell and stopped items on this workspace against their simple rules (kept in the
``model_gates`` table). Where a model does not beat its rule, its score table comes from the
rule, and each of these tables says who spoke in ``scored_by``: ``score_churn`` ``'model'`` or
``'recency_rule'`` (the calibrated recency rule's probability), ``score_stopped_items``
``'model'`` or ``'gap_rule'`` (gap over 2x the median; ``p_gap`` null), ``score_cross_sell``
``'model'`` or ``'popularity'``.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from salesradar import __version__
from salesradar.engine import memory_for_models, table_names
from salesradar.errors import UserInputError
from salesradar.lang import Lang
from salesradar.metrics import plain_rows, plain_value
from salesradar.models.churn import (
    MODEL_FEATURES,
    ChurnModel,
    last_invoice_date,
)
from salesradar.models.crosssell import BlendRecommender, PopularityRecommender, recommend_for
from salesradar.models.crosssell.reasons import offer_reason
from salesradar.models.crosssell.service import KEPT_OFFERS
from salesradar.models.features import shared_view, sharing_customer_days
from salesradar.models.gates import RULE_NAMES, Gate, model_gates
from salesradar.models.labels import health_factor, reason_labels, tier_handling, tier_name
from salesradar.models.non_product import non_product_codes
from salesradar.models.refresh_scope import wait_for_imports_ahead
from salesradar.models.stopped_items import (
    StoppedItemsModel,
    find_stopped_items,
    kept_pair_facts,
)
from salesradar.models.store import (
    CROSS_SELL_HORIZON,
    SCORED_KEY_TABLE,
    data_version,
    invoice_line_count,
    load_latest,
    load_model,
    load_recent,
    model_folder,
    save_model,
    scores_key,
    stored_scores_key,
)
from salesradar.models.store import (
    SCORE_TABLES as SCORE_TABLES,  # re-exported: where the score tables were always found
)
from salesradar.models.tiers import assign_tiers, health_scores


@dataclass(frozen=True)
class ScoreSummary:
    as_of: dt.date
    horizon_days: int
    rows: dict[str, int]  # score table -> rows written
    seconds: dict[str, float]
    gates: dict[str, Gate] = field(default_factory=dict)  # model -> who speaks, and why
    reused: bool = False  # the data had not changed: the stored scores were kept
    data_version: str | None = None  # the data's fingerprint they were computed from

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days,
                "reused": self.reused, "data_version": self.data_version,
                "rows": self.rows, "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
                "gates": {k: g.to_dict() for k, g in self.gates.items()}}


def score_workspace(
    ws: Any,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
    *,
    progress: Callable[[str, int, int], None] | None = None,
    reuse: bool = True,
) -> ScoreSummary:
    """Run every model as of ``as_of`` (default: the last invoice date) and store the scores.

    First each gated model's backtest on this workspace decides whether the model or its rule
    speaks (:func:`~salesradar.models.gates.model_gates`, cached by the data version). With
    ``reuse``, scores already written for the same data, day, horizon and currency are kept as
    they are (a refresh with no new data returns in seconds); ``reuse=False`` scores anew.
    """
    day = as_of or last_invoice_date(ws)
    total = len(SCORE_TABLES) + 1
    if progress:
        progress("gates", 0, total)
    started = time.perf_counter()
    # the data's fingerprint scans every invoice line: once for the gates and the saved model
    version = data_version(ws)
    key = scores_key(ws, version, day, horizon_days)
    if reuse and stored_scores_key(ws) == key:  # nothing changed since these scores were written
        gates = model_gates(ws, day, horizon_days, version=version)  # kept with the data
        kept = {t: int(ws.con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # noqa: S608
                for t in SCORE_TABLES.values()}
        return ScoreSummary(day, horizon_days, kept,
                            {"gates": time.perf_counter() - started}, gates, reused=True,
                            data_version=version)
    # the customer-days once for the gates and every model; DuckDB leaves the models room
    with sharing_customer_days(ws), memory_for_models(ws.con):
        return _score_all(ws, day, horizon_days, version, key, started, reuse, progress)


def _score_all(ws: Any, day: dt.date, horizon_days: int, version: str, key: str,
               started: float, reuse: bool,
               progress: Callable[[str, int, int], None] | None) -> ScoreSummary:
    """:func:`score_workspace` once it knows the scores must be computed.

    The gates and the five models are six steps run on two threads (:class:`_Lanes`), each
    with its own view of the workspace: no model reads another's results, only the gates'
    decisions, which a step waits for when it needs them. This thread, idle meanwhile, writes
    each score table as soon as its step has finished, while the other steps still run (it
    writes on the workspace's own connection, which the steps never use; they read no score
    table). The key saying what the tables were computed from is dropped first and written
    last: until every table is written, they never pass for current (and the refresh
    publishes the workspace only when all of it succeeded). A step's seconds are its own run
    (from its connection to its result, waiting for the gates included); the steps overlap,
    so they add up to more than the run."""
    # the non-product codes every model leaves out, detected here (again on --full) rather
    # than by two steps at once
    non_product_codes(ws, fresh=not reuse)
    ws.con.execute(f"DROP TABLE IF EXISTS {SCORED_KEY_TABLE}")
    rows: dict[str, int] = {}

    def write(name: str, result: tuple[Any, float]) -> None:
        if name in SCORE_TABLES:
            ws.write_arrow(SCORE_TABLES[name], result[0])
            rows[name] = result[0].num_rows

    wait_for_imports_ahead()  # the steps import what a thread may still be importing
    with _Lanes(ws, progress, len(SCORE_TABLES) + 1) as lanes:
        gates_step = lanes.submit("gates", lambda view: model_gates(
            view, day, horizon_days, version=version, fresh=not reuse), announce=False)

        def speaks(name: str) -> bool:
            gate = gates_step.result()[0].get(name)
            return gate is None or gate.model_speaks

        # the longest first, a short one last: on a day's run churn takes one lane (~5 s) and
        # the others the other (~7 s), then health (~1 s) goes to the lane free first, which
        # evens them (it was fourth: 1-2 s longer)
        steps: dict[str, Callable[[Any], pa.Table]] = {
            "churn": lambda view: _score_churn(
                view, day, horizon_days, version=version,
                model_speaks=lambda: speaks("churn"), refit=not reuse),
            "tiers": lambda view: assign_tiers(view, day),
            "cross_sell": lambda view: _score_cross_sell(view, day, speaks("cross_sell"),
                                                         refit=not reuse, version=version),
            "stopped_items": lambda view: _score_stopped_items(
                view, day, speaks("stopped_items"), fresh=not reuse),
            "health": lambda view: health_scores(view, day),
        }
        running = {name: lanes.submit(name, step) for name, step in steps.items()}
        # the first error raised, the steps not started dropped; each table written on arrival
        results = lanes.results(write)
    gates, seconds_gates = results["gates"]
    seconds = {"gates": seconds_gates + lanes.began - started}  # the fingerprint, as before
    for name in SCORE_TABLES:  # in their usual order
        seconds[name] = results[name][1]
    assert set(running) == set(SCORE_TABLES) == set(rows)
    ws.con.execute(f"CREATE OR REPLACE TABLE {SCORED_KEY_TABLE} AS SELECT ? AS key", [key])
    return ScoreSummary(day, horizon_days, {SCORE_TABLES[n]: rows[n] for n in SCORE_TABLES},
                        seconds, gates, data_version=version)


T = TypeVar("T")


class _Lanes:
    """Steps run on two threads, in the order submitted, each thread reading the workspace
    through its own view (:func:`~salesradar.models.features.shared_view`: a DuckDB
    connection must not serve two threads; the views read the refresh's shared
    customer-days), each step in a copy of the submitting context. A step's result is
    ``(value, seconds)``. :meth:`results` waits for them all, or raises the first error as
    soon as a step fails (the steps not started are then dropped); on leaving, the running
    steps finish and the views close.

    The threads share the process's thread limits (:mod:`threadpoolctl` sets them for the
    whole process), so the block holds BLAS single-threaded, as every step asks: a step's own
    limits, set and restored while another runs, then change nothing. LightGBM's thread count
    is process-wide too: every call of the models in this process uses the churn model's
    ``n_jobs`` (see :meth:`ChurnModel._reason_order`)."""

    LANES = 2

    def __init__(self, ws: Any, progress: Callable[[str, int, int], None] | None,
                 total: int) -> None:
        self._ws = ws
        self._progress = progress
        self._total = total
        self._announced = 0
        self._local = threading.local()
        self._views: list[Any] = []
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Any]] = {}
        self._failed: list[BaseException] = []  # in the order the steps failed
        self.began = time.perf_counter()

    def __enter__(self) -> _Lanes:
        from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

        self._limits = threadpool_limits(limits=1, user_api="blas")
        self._pool = ThreadPoolExecutor(self.LANES, thread_name_prefix="salesradar-score")
        return self

    def __exit__(self, kind: object, *_: object) -> None:
        try:
            self._pool.shutdown(wait=True, cancel_futures=True)
        finally:
            for view in self._views:
                with contextlib.suppress(Exception):  # the others still close; the error wins
                    view.close()
            self._limits.restore_original_limits()

    def _view(self) -> Any:
        view = getattr(self._local, "view", None)
        if view is None:
            view = self._local.view = shared_view(self._ws)
            with self._lock:
                self._views.append(view)
        return view

    def submit(self, name: str, step: Callable[[Any], T], *,
               announce: bool = True) -> Future[tuple[T, float]]:
        """Queue ``step`` (called with this thread's view); ``announce``: report it to the
        progress callback when it starts, numbered in the order submitted (from 1)."""
        index = None
        if announce:
            self._announced += 1
            index = self._announced

        def run() -> tuple[T, float]:
            if index is not None and self._progress is not None:
                self._progress(name, index, self._total)
            began = time.perf_counter()
            try:
                return step(self._view()), time.perf_counter() - began
            except BaseException as error:
                with self._lock:
                    self._failed.append(error)
                raise

        future = self._pool.submit(contextvars.copy_context().run, run)
        self._futures[name] = future
        return future

    def results(self, done: Callable[[str, Any], None] | None = None) -> dict[str, Any]:
        """Every step's ``(value, seconds)`` by name, once all have run; as soon as one fails,
        the steps not started are dropped and the first error is raised (another step may
        then fail because of it, e.g. when the first one's failure stopped worker processes
        they shared). ``done(name, result)`` is called on this thread for each step as soon
        as it has finished (in the order submitted among those finished together), while no
        step has failed."""
        pending = set(self._futures.values())
        while pending:
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            with self._lock:
                first = self._failed[0] if self._failed else None
            if first is not None:
                for future in pending:
                    future.cancel()
                raise first
            if done is not None:
                for name, future in self._futures.items():
                    if future in finished:
                        done(name, future.result())
        return {name: future.result() for name, future in self._futures.items()}


def _scored_by(table: pa.Table, who: str) -> pa.Table:
    return table.append_column("scored_by", pa.array([who] * table.num_rows, pa.string()))


def _score_churn(
    ws: Any, day: dt.date, horizon_days: int, *, version: str | None = None,
    model_speaks: bool | Callable[[], bool] = True, refit: bool = False,
) -> pa.Table:
    """Churn scores. Unless ``refit``, the fitted model is reused when saved for the same data,
    or when the refit schedule still holds it (fitted less than a week before, the
    invoice lines changed by at most 5%: :func:`~salesradar.models.store.load_recent`); else
    it is fitted. It is saved with what it scored, for the explanations. When the model does
    not speak, the probabilities are the calibrated recency rule's. ``model_speaks`` may be
    asked once the model has scored (a callable: the gates may still be deciding)."""

    def usable(found: Any) -> ChurnModel | None:
        ok = isinstance(found, ChurnModel) and found.features_ == MODEL_FEATURES
        return found if ok else None

    version = version or (data_version(ws) if model_folder(ws) is not None else None)
    fitted_on: dt.date | None = None
    fitted_lines: int | None = None
    # refit (--full): fitted anew even when a model was saved for this very data, which may be
    # the model of the week saved again with the day it scored
    model = None if refit else usable(load_model(ws, "churn", day, horizon_days,
                                                 version=version))
    same = model is not None
    if model is None:
        recent = None if refit or model_folder(ws) is None else load_recent(
            ws, "churn", day, horizon_days, invoice_line_count(ws))
        if recent is not None and (model := usable(recent[0])) is not None:
            fitted_on, fitted_lines = recent[1], recent[2]
    if model is None:
        model = ChurnModel(horizon_days).fit(ws, day)
    table = model.score(ws, day)  # before saving: the saved model keeps what it scored
    speaks = model_speaks() if callable(model_speaks) else model_speaks
    table = _scored_by(table, "model") if speaks else _by_recency_rule(model, table)
    if not same:
        save_model(ws, "churn", model, day, horizon_days, version=version,
                   fitted_on=fitted_on, fitted_lines=fitted_lines)
    return table


def _by_recency_rule(model: ChurnModel, table: pa.Table) -> pa.Table:
    """``score_churn`` with the calibrated recency rule's P(churn) instead of the model's:
    ``churn_probability``, ``revenue_at_risk`` (times the same expected revenue) and the order
    follow the rule; ``scored_by`` is ``'recency_rule'``. The model's explanations then state
    the rule's probability too (:meth:`ChurnModel.explain` reads ``scored_probability_``)."""
    frame = model.scored_
    assert frame is not None  # score() just ran
    rule = model.recency_baseline_proba(frame)
    model.scored_probability_ = rule
    where = pc.index_in(table["customer_id"], value_set=pa.array(frame.customer_id.astype(str)))
    proba = rule[np.asarray(where.to_numpy(zero_copy_only=False), dtype=np.int64)]
    expected = np.asarray(table["expected_revenue"].to_numpy(zero_copy_only=False), np.float64)
    names = table.schema.names
    table = table.set_column(names.index("churn_probability"), "churn_probability",
                             pa.array(proba))
    table = table.set_column(names.index("revenue_at_risk"), "revenue_at_risk",
                             pa.array(proba * expected))
    order = np.argsort(-(proba * expected), kind="stable")
    return _scored_by(table.take(pa.array(order)), RULE_NAMES["churn"])


def _score_stopped_items(ws: Any, day: dt.date, model_speaks: bool, *,
                         fresh: bool = False) -> pa.Table:
    """Stopped items flagged by the model, or by the gap rule (gap over 2x the pair's median
    gap, the model's eligible pairs) in the model's columns with ``p_gap`` null. The pairs'
    facts are kept in the workspace for the next refresh, which computes again only those of
    the customers whose lines changed (:func:`~salesradar.models.stopped_items.
    kept_pair_facts`; ``fresh``: all of them)."""
    facts = kept_pair_facts(ws, day, fresh=fresh)
    if model_speaks:
        return _scored_by(find_stopped_items(ws, day, facts=facts), "model")
    model = StoppedItemsModel().fit(ws, day, facts=facts)
    assert model.pairs_ is not None
    schema = model.flags().schema
    rule = model.baseline_flags()
    extra = [c for c in schema.names if c not in rule.schema.names and c != "p_gap"]
    facts = model.pairs_.select(["customer_id", "sku", *extra])
    joined = rule.join(facts, keys=["customer_id", "sku"], join_type="left outer")
    joined = joined.sort_by([("value_at_stake", "descending")])
    out = pa.table({
        name: (pa.nulls(joined.num_rows, schema.field(name).type) if name == "p_gap"
               else joined[name].cast(schema.field(name).type))
        for name in schema.names
    })
    return _scored_by(out, RULE_NAMES["stopped_items"])


def _score_cross_sell(
    ws: Any, day: dt.date, model_speaks: bool, *, refit: bool = False,
    version: str | None = None,
) -> pa.Table:
    """Cross-sell offers of the model, or of popularity when the model does not speak.

    The model follows the churn model's refit schedule: unless ``refit`` (--full), the blend
    saved with the models serves while :func:`~salesradar.models.store.load_recent` holds it
    (fitted less than a week before, the invoice lines changed by at most 5%), applied to
    the customers' purchases to ``day`` without learning from them
    (:func:`~salesradar.models.crosssell.recommend_for`'s ``fitted``); else it is fitted on
    the data to ``day`` (the offers those of a fit on every run) and saved. Popularity, a rule,
    is counted anew on every run."""
    if not model_speaks:
        offers = recommend_for(ws, n=10, as_of=day, model=PopularityRecommender())
        return _scored_by(offers, RULE_NAMES["cross_sell"])
    kept = None if refit or model_folder(ws) is None else load_recent(
        ws, "cross_sell", day, CROSS_SELL_HORIZON, invoice_line_count(ws))
    saved = kept[0] if kept is not None else None
    # saved by this very code (a blend pickled by another version may lack what it reads)
    if (isinstance(saved, dict) and saved.get("code") == __version__
            and isinstance(saved.get("model"), BlendRecommender)):
        folder = model_folder(ws)  # the offers of the last day beside it: only the changed
        offers = recommend_for(ws, n=10, as_of=day, fitted=saved["model"],  # ranked again
                               kept_offers=folder / KEPT_OFFERS if folder else None)
        return _scored_by(offers, "model")
    model = BlendRecommender()
    offers = recommend_for(ws, n=10, as_of=day, model=model)  # fits it
    save_model(ws, "cross_sell", {"code": __version__, "model": model}, day,
               CROSS_SELL_HORIZON, version=version)
    return _scored_by(offers, "model")


def _explainer(ws: Any, risk: dict[str, Any]) -> ChurnModel:
    """The churn model saved by the last score run (no refit); when the data changed since (or
    nothing was saved), a model fitted and scored at the scores' date."""
    model = load_latest(ws, "churn")
    as_of = risk.get("as_of")
    if isinstance(model, ChurnModel) and model.scored_ is not None and (
        as_of is None or model.scored_.as_of[0] == np.datetime64(as_of, "D")
    ):
        return model
    day = dt.date.fromisoformat(str(as_of)[:10]) if as_of else last_invoice_date(ws)
    fitted = ChurnModel().fit(ws, day)
    fitted.score(ws, day)
    return fitted


def _rows(ws: Any, table: str, customer_id: str) -> list[dict[str, Any]]:
    if table not in table_names(ws.backend):
        raise UserInputError("no scores in this workspace yet: run salesradar score first")
    t = ws.table(table)
    return plain_rows(t.filter(t.customer_id == customer_id).to_pyarrow())


def customer_view(
    ws: Any, customer_id: str, *, currency: str | None = None, lang: Lang = "en"
) -> dict[str, Any]:
    """One customer's 360 view: sales, rhythm and risk, stopped items, offers, tier, health.

    The texts are in ``lang``, ``"en"`` or ``"he"``: ``why`` (the churn explanation), the
    churn ``reasons``, the tier's name, reason and handling, the health ``explanation`` and
    ``weakest_text`` (the weakest health factor in words).
    """
    lines = ws.table("invoice_lines")
    mine = lines.filter(lines.customer_id == customer_id)
    sales = mine.aggregate(
        first=mine.invoice_date.min(), last=mine.invoice_date.max(),
        revenue=mine.net_revenue.sum(), cost=mine.cost.sum(),
        invoices=mine.invoice_id.nunique(), skus=mine.sku.nunique(),
    ).to_pyarrow().to_pylist()[0]
    if sales["first"] is None:
        raise UserInputError(f"customer {customer_id!r} has no invoice lines in this workspace")
    master: list[dict[str, Any]] = []
    if "customers" in table_names(ws.backend):
        c = ws.table("customers")
        master = c.filter(c.customer_id == customer_id).to_pyarrow().to_pylist()
    risk = _rows(ws, SCORE_TABLES["churn"], customer_id)
    explainer = _explainer(ws, risk[0]) if risk else None
    tier = next(iter(_rows(ws, SCORE_TABLES["tiers"], customer_id)), None)
    health = next(iter(_rows(ws, SCORE_TABLES["health"], customer_id)), None)
    return {
        "customer_id": customer_id,
        "customer": {k: plain_value(v) for k, v in master[0].items()} if master else None,
        "sales": {k: plain_value(v) for k, v in sales.items()},
        "churn_risk": _risk_in(risk[0], lang) if risk else None,
        "why": explainer.explain(customer_id, currency=currency, lang=lang,
                                 by_rule=risk[0].get("scored_by") == RULE_NAMES["churn"])
        if explainer else [],
        "why_claims": explainer.explain_claims(customer_id) if explainer else [],
        "stopped_items": _rows(ws, SCORE_TABLES["stopped_items"], customer_id),
        "recommendations": [{**r, "reason": recommendation_reason(r, lang)}
                            for r in _rows(ws, SCORE_TABLES["cross_sell"], customer_id)],
        "tier": _tier_in(tier, lang) if tier else None,
        "health": _health_in(health, lang) if health else None,
    }


# customer_view's texts in the reader's language: the Hebrew columns the score run wrote, or
# the English translated (tables scored before those columns existed)
def _risk_in(risk: dict[str, Any], lang: Lang) -> dict[str, Any]:
    if lang == "he":
        risk = {**risk, "reasons": risk.get("reasons_he") or reason_labels(risk.get("reasons"),
                                                                           "he")}
    return risk


def in_language(view: dict[str, Any], lang: Lang) -> dict[str, Any]:
    """A 360 view's stored texts (churn reasons, tier and handling, health, offers' reasons)
    in the reader's language; the pages build their view from the score tables too."""
    out = dict(view)
    if out.get("churn_risk"):
        out["churn_risk"] = _risk_in(out["churn_risk"], lang)
    if out.get("tier"):
        out["tier"] = _tier_in(out["tier"], lang)
    if out.get("health"):
        out["health"] = _health_in(out["health"], lang)
    out["recommendations"] = [{**r, "reason": recommendation_reason(r, lang)}
                              for r in out.get("recommendations") or []]
    return out


def recommendation_reason(row: dict[str, Any], lang: Lang) -> str:
    """A cross-sell offer's reason in the reader's language, told from the numbers and names
    kept with it (:func:`~salesradar.models.crosssell.reasons.offer_reason`); the stored
    sentence for an offer scored before they were kept."""
    return offer_reason(row, lang) or str(row.get("reason") or "")


def _tier_in(tier: dict[str, Any], lang: Lang) -> dict[str, Any]:
    if lang == "he":
        code = tier.get("tier")
        tier = {**tier, "tier_name": tier.get("tier_name_he") or tier_name(code, "he"),
                "handling": tier.get("handling_he") or tier_handling(code, "he"),
                "reason": tier.get("reason_he") or tier.get("reason")}
    return tier


def _health_in(health: dict[str, Any], lang: Lang) -> dict[str, Any]:
    out = {**health, "weakest_text": health_factor(health.get("weakest"), lang)}
    if lang == "he":
        out["explanation"] = health.get("explanation_he") or health.get("explanation")
    return out
