"""A vendor's commitment as data: what was promised, how it is measured, what it costs.

A CEO evaluating an outside vendor ("we will raise your revenue by 22% in nine months") needs the
promise pinned down before signing: the metric (any KPI of :data:`salesradar.metrics.REGISTRY`), the
baseline it is measured against (by default the mean of the twelve months before the start), the
improvement, the period, where the numbers come from, and the money (fixed fee, success fee, bonus,
cap, refund or extension when the promise is missed). :func:`parse_commitment` reads that from a
mapping (a YAML file or CLI options) and refuses what cannot be right; :mod:`.checks` says what is
vague or unrealistic without refusing it, because a vague promise is exactly what must be seen.

>>> c = parse_commitment({"name": "Growth", "vendor": "Acme", "model": "revenue",
...     "metric": "revenue", "improvement_pct": 0.22, "start": "2026-01-01",
...     "end": "2026-09-30", "data_source": "ERP invoice lines", "fees": {"fixed": 60000}})
>>> c.baseline.window, c.baseline.grain, c.baseline.aggregation
(12, 'month', 'mean')
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, Literal, cast, get_args

from salesradar.errors import UserInputError
from salesradar.metrics.registry import REGISTRY, Kpi

Model = Literal["success_fee", "hybrid", "kpi", "revenue"]
Grain = Literal["week", "month", "quarter"]
Aggregation = Literal["mean", "median", "sum", "min", "max", "last"]
FeeBase = Literal["revenue", "gross_profit"]
MODELS: tuple[str, ...] = get_args(Model)
GRAINS: tuple[str, ...] = get_args(Grain)
AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)


@dataclass(frozen=True)
class Baseline:
    """How the starting level is set: ``aggregation`` of the metric over the ``window`` periods
    of ``grain`` before the start (each period measured like the progress is), or an agreed
    ``value`` when the parties fixed a number instead."""

    window: int = 12
    grain: Grain = "month"
    aggregation: Aggregation = "mean"
    value: float | None = None


@dataclass(frozen=True)
class FeeTerms:
    """What the vendor is paid: ``fixed`` always, ``success_fee_pct`` of the incremental
    ``success_fee_base`` (revenue or gross profit above the baseline over the period), ``bonus``
    when the commitment is met, everything together at most ``cap``."""

    fixed: float = 0.0
    success_fee_pct: float = 0.0
    success_fee_base: FeeBase = "revenue"
    bonus: float = 0.0
    cap: float | None = None


@dataclass(frozen=True)
class RefundTerms:
    """When the commitment is missed: ``refund_pct`` of the fixed fee comes back, unless the
    contract first grants ``extension_days`` more to reach the target."""

    refund_pct: float = 0.0
    extension_days: int = 0


@dataclass(frozen=True)
class Commitment:
    """One commitment. ``improvement_pct`` is a fraction (0.22 = +22%), always "better": up for
    a KPI where higher is better, down for one where lower is (sales cycle, churn).
    ``path`` optionally gives agreed milestones ``(date, improvement reached by then)``; without
    it the path to the target is linear. ``evaluation_periods`` is how many periods of the
    baseline grain, ending on ``end``, are averaged for the verdict."""

    name: str
    vendor: str
    model: Model
    metric: str
    improvement_pct: float
    start: date | None = None
    end: date | None = None
    data_source: str | None = None
    baseline: Baseline | None = field(default_factory=Baseline)
    fees: FeeTerms = field(default_factory=FeeTerms)
    refund: RefundTerms = field(default_factory=RefundTerms)
    path: tuple[tuple[date, float], ...] = ()
    evaluation_periods: int = 3
    notes: str = ""
    id: int | None = None

    @property
    def kpi(self) -> Kpi:
        return REGISTRY[self.metric]

    @property
    def higher_is_better(self) -> bool:
        return self.kpi.higher_is_better is not False

    @property
    def sign(self) -> int:
        """1 when higher is better, -1 when lower is: an improvement times this is the change."""
        return 1 if self.higher_is_better else -1

    @property
    def days(self) -> int | None:
        """Length of the period in days (both ends included)."""
        if self.start is None or self.end is None:
            return None
        return (self.end - self.start).days + 1

    def with_id(self, ident: int) -> Commitment:
        return replace(self, id=ident)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings; the inverse of :func:`parse_commitment`."""
        d = asdict(self)
        d["start"] = self.start.isoformat() if self.start else None
        d["end"] = self.end.isoformat() if self.end else None
        d["path"] = [[day.isoformat(), pct] for day, pct in self.path]
        return d


def parse_commitment(raw: dict[str, Any]) -> Commitment:
    """A :class:`Commitment` from a mapping (YAML, JSON or CLI options); mistakes raise
    :class:`~salesradar.errors.UserInputError` naming the field and the fix."""
    known = {f for f in Commitment.__dataclass_fields__}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UserInputError(f"unknown commitment field(s) {', '.join(unknown)}; known fields: "
                             + ", ".join(sorted(known - {'id'})))
    for name in ("name", "vendor", "model", "metric", "improvement_pct"):
        if raw.get(name) in (None, ""):
            raise UserInputError(f"a commitment needs {name!r}")
    model = _choice("model", raw["model"], MODELS)
    metric = str(raw["metric"])
    kpi = REGISTRY[metric]  # an unknown KPI raises with the list of names
    if None not in kpi.periods:
        raise UserInputError(
            f"{metric} is computed by calendar period only, so it cannot be measured over the "
            "trailing windows a commitment uses; choose a KPI that `salesradar kpi --list` shows "
            "with the period 'none'")
    improvement = _number("improvement_pct", raw["improvement_pct"])
    if not 0 < improvement <= 10:
        raise UserInputError(f"improvement_pct is a fraction (0.22 = +22%), got {improvement}")
    if kpi.higher_is_better is False and improvement >= 1:
        raise UserInputError(f"{metric} improves by going down; it cannot fall by "
                             f"{improvement:.0%} (improvement_pct must be below 1)")
    start, end = _date("start", raw.get("start")), _date("end", raw.get("end"))
    if start and end and end <= start:
        raise UserInputError(f"end {end} must be after start {start}")
    evaluation = int(_number("evaluation_periods", raw.get("evaluation_periods", 3)))
    if evaluation < 1:
        raise UserInputError("evaluation_periods must be at least 1")
    return Commitment(
        name=str(raw["name"]), vendor=str(raw["vendor"]), model=cast(Model, model),
        metric=metric, improvement_pct=improvement, start=start, end=end,
        data_source=(str(raw["data_source"]).strip() or None) if raw.get("data_source") else None,
        baseline=_baseline(raw["baseline"]) if "baseline" in raw else Baseline(),
        fees=_fees(raw.get("fees") or {}), refund=_refund(raw.get("refund") or {}),
        path=_path(raw.get("path") or [], start, end),
        evaluation_periods=evaluation, notes=str(raw.get("notes") or ""),
        id=int(raw["id"]) if raw.get("id") is not None else None,
    )


def _baseline(raw: Any) -> Baseline | None:
    if raw is None or raw == {}:
        return None  # "no baseline": the commitment is vague, and the checks say so
    if not isinstance(raw, dict):
        raise UserInputError("baseline must be a mapping with window, grain, aggregation or value")
    _only("baseline", raw, Baseline.__dataclass_fields__)
    window = int(_number("baseline.window", raw.get("window", 12)))
    if window < 1:
        raise UserInputError("baseline.window must be at least 1 period")
    value = raw.get("value")
    return Baseline(
        window=window, grain=cast(Grain, _choice("baseline.grain", raw.get("grain", "month"),
                                                 GRAINS)),
        aggregation=cast(Aggregation, _choice("baseline.aggregation",
                                              raw.get("aggregation", "mean"), AGGREGATIONS)),
        value=None if value is None else _number("baseline.value", value))


def _fees(raw: dict[str, Any]) -> FeeTerms:
    _only("fees", raw, FeeTerms.__dataclass_fields__)
    fees = FeeTerms(
        fixed=_money("fees.fixed", raw.get("fixed", 0)),
        success_fee_pct=_number("fees.success_fee_pct", raw.get("success_fee_pct", 0)),
        success_fee_base=cast(FeeBase, _choice("fees.success_fee_base",
                                               raw.get("success_fee_base", "revenue"),
                                               ("revenue", "gross_profit"))),
        bonus=_money("fees.bonus", raw.get("bonus", 0)),
        cap=None if raw.get("cap") is None else _money("fees.cap", raw["cap"]))
    if not 0 <= fees.success_fee_pct <= 1:
        raise UserInputError("fees.success_fee_pct is a fraction between 0 and 1 (0.1 = 10%)")
    return fees


def _refund(raw: dict[str, Any]) -> RefundTerms:
    _only("refund", raw, RefundTerms.__dataclass_fields__)
    pct = _number("refund.refund_pct", raw.get("refund_pct", 0))
    if not 0 <= pct <= 1:
        raise UserInputError("refund.refund_pct is a fraction between 0 and 1 (0.5 = half)")
    days = int(_number("refund.extension_days", raw.get("extension_days", 0)))
    if days < 0:
        raise UserInputError("refund.extension_days cannot be negative")
    return RefundTerms(refund_pct=pct, extension_days=days)


def _path(raw: list[Any], start: date | None, end: date | None) -> tuple[tuple[date, float], ...]:
    points: list[tuple[date, float]] = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise UserInputError("path is a list of [date, improvement reached] pairs")
        day = _date("path date", item[0])
        assert day is not None
        if (start and day < start) or (end and day > end):
            raise UserInputError(f"path date {day} is outside the commitment period")
        points.append((day, _number("path improvement", item[1])))
    return tuple(sorted(points))


def _only(section: str, raw: dict[str, Any], fields: Any) -> None:
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise UserInputError(f"unknown {section} field(s) {', '.join(unknown)}; known: "
                             + ", ".join(sorted(fields)))


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise UserInputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UserInputError(f"{name} must be a number, got {value!r}") from None


def _money(name: str, value: Any) -> float:
    amount = _number(name, value)
    if amount < 0:
        raise UserInputError(f"{name} cannot be negative, got {amount}")
    return amount


def _date(name: str, value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise UserInputError(f"{name} must be a date as YYYY-MM-DD, got {value!r}") from None
