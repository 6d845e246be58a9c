"""Score a workspace with every model and keep the results as tables beside the data.

``salesradar score`` calls :func:`score_workspace`; pages, alerts and ``salesradar customer`` read
the ``score_*`` tables instead of refitting, and the churn explanations come from the fitted
model saved beside the workspace (:mod:`salesradar.models.store`). :func:`customer_view`
assembles one customer's 360 view from them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from salesradar.engine import table_names
from salesradar.errors import UserInputError
from salesradar.lang import Lang
from salesradar.metrics import plain_rows, plain_value
from salesradar.models.churn import (
    MODEL_FEATURES,
    ChurnModel,
    explain_customer,
    last_invoice_date,
)
from salesradar.models.crosssell import recommend_for
from salesradar.models.labels import health_factor, reason_labels, tier_handling, tier_name
from salesradar.models.stopped_items import find_stopped_items
from salesradar.models.store import (
    data_version,
    load_latest,
    load_model,
    model_folder,
    save_model,
)
from salesradar.models.tiers import assign_tiers, health_scores

SCORE_TABLES = {
    "churn": "score_churn",
    "stopped_items": "score_stopped_items",
    "cross_sell": "score_cross_sell",
    "tiers": "score_tiers",
    "health": "score_health",
}


@dataclass(frozen=True)
class ScoreSummary:
    as_of: dt.date
    horizon_days: int
    rows: dict[str, int]  # score table -> rows written
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "horizon_days": self.horizon_days,
                "rows": self.rows, "seconds": {k: round(v, 2) for k, v in self.seconds.items()}}


def score_workspace(
    ws: Any,
    as_of: dt.date | None = None,
    horizon_days: int = 90,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> ScoreSummary:
    """Run every model as of ``as_of`` (default: the last invoice date) and store the scores."""
    import time

    day = as_of or last_invoice_date(ws)
    steps: dict[str, Callable[[], pa.Table]] = {
        "churn": lambda: _score_churn(ws, day, horizon_days),
        "stopped_items": lambda: find_stopped_items(ws, day),
        "cross_sell": lambda: recommend_for(ws, n=10, as_of=day),
        "tiers": lambda: assign_tiers(ws, day),
        "health": lambda: health_scores(ws, day),
    }
    rows: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for index, (name, step) in enumerate(steps.items()):
        if progress:
            progress(name, index, len(steps))
        started = time.perf_counter()
        table = step()
        ws.backend.create_table(SCORE_TABLES[name], table, overwrite=True)
        rows[SCORE_TABLES[name]] = table.num_rows
        seconds[name] = time.perf_counter() - started
    return ScoreSummary(day, horizon_days, rows, seconds)


def _score_churn(ws: Any, day: dt.date, horizon_days: int) -> pa.Table:
    """Churn scores; the fitted model is reused when saved for the same data, else fitted and
    saved."""
    # the data's fingerprint scans every invoice line: once for the load and the save
    version = data_version(ws) if model_folder(ws) is not None else None
    saved = load_model(ws, "churn", day, horizon_days, version=version)
    if isinstance(saved, ChurnModel) and saved.features_ == MODEL_FEATURES:
        return saved.score(ws, day)
    model = ChurnModel(horizon_days).fit(ws, day)
    table = model.score(ws, day)  # before saving: the saved model keeps what it scored
    save_model(ws, "churn", model, day, horizon_days, version=version)
    return table


def _why(
    ws: Any, customer_id: str, risk: dict[str, Any], currency: str, lang: Lang
) -> list[str]:
    """The churn explanation from the model saved by the last score run (no refit); when the
    data changed since (or nothing was saved), a model is fitted at the scores' date."""
    model = load_latest(ws, "churn")
    as_of = risk.get("as_of")
    if isinstance(model, ChurnModel) and model.scored_ is not None and (
        as_of is None or model.scored_.as_of[0] == np.datetime64(as_of, "D")
    ):
        return model.explain(customer_id, currency=currency, lang=lang)
    day = dt.date.fromisoformat(str(as_of)[:10]) if as_of else None
    return explain_customer(ws, customer_id, day, currency=currency, lang=lang)


def _rows(ws: Any, table: str, customer_id: str) -> list[dict[str, Any]]:
    if table not in table_names(ws.backend):
        raise UserInputError("no scores in this workspace yet: run salesradar score first")
    t = ws.table(table)
    return plain_rows(t.filter(t.customer_id == customer_id).to_pyarrow())


def customer_view(
    ws: Any, customer_id: str, *, currency: str = "₪", lang: Lang = "en"
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
    tier = next(iter(_rows(ws, SCORE_TABLES["tiers"], customer_id)), None)
    health = next(iter(_rows(ws, SCORE_TABLES["health"], customer_id)), None)
    return {
        "customer_id": customer_id,
        "customer": {k: plain_value(v) for k, v in master[0].items()} if master else None,
        "sales": {k: plain_value(v) for k, v in sales.items()},
        "churn_risk": _risk_in(risk[0], lang) if risk else None,
        "why": _why(ws, customer_id, risk[0], currency, lang) if risk else [],
        "stopped_items": _rows(ws, SCORE_TABLES["stopped_items"], customer_id),
        "recommendations": _rows(ws, SCORE_TABLES["cross_sell"], customer_id),
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
