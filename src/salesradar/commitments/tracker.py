"""Baseline, weekly progress against the path to the target, and the verdict of a commitment.

The baseline ``B`` is the agreed aggregation of the metric over the periods before the start; the
target is ``T = B + s·|B|·improvement`` where ``s`` is +1 when higher is better and −1 when lower
is (a shorter sales cycle). The path from ``B`` to ``T`` is linear over the period unless agreed
milestones were given. Each week the metric over the trailing period is compared with the path:
on track when ``s·(actual − path) ≥ 0``. At the end (data permitting) the mean of the last
``evaluation_periods`` periods is the result: met when ``s·(result − B)/|B| ≥ improvement``.
A missed commitment with extension terms gets the extension before it is called missed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from salesradar.commitments import windows as W
from salesradar.commitments.checks import VAGUE_CODES, Concern, check
from salesradar.commitments.model import Commitment

Verdict = Literal["met", "missed", "in_progress", "extended", "vague"]


@dataclass(frozen=True)
class Checkpoint:
    """One week: the metric over the period ending ``day`` against the path value that day."""

    day: date
    actual: float | None
    path: float
    on_track: bool | None

    def to_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "actual": self.actual, "path": self.path,
                "on_track": self.on_track}


@dataclass(frozen=True)
class Tracking:
    """Everything measured about a commitment as of ``as_of``."""

    commitment: Commitment
    concerns: list[Concern]
    verdict: Verdict
    as_of: date
    data_until: date | None
    baseline: float | None = None
    baseline_periods: list[tuple[W.Window, float | None]] = field(default_factory=list)
    target: float | None = None
    checkpoints: list[Checkpoint] = field(default_factory=list)
    result: float | None = None  # the evaluation value, once the period is over
    achieved_pct: float | None = None  # improvement reached (of the latest value until the end)
    deadline: date | None = None  # the end, or the end plus the extension

    def to_dict(self) -> dict[str, Any]:
        return {
            "commitment": self.commitment.to_dict(),
            "concerns": [c.to_dict() for c in self.concerns],
            "verdict": self.verdict, "as_of": self.as_of.isoformat(),
            "data_until": self.data_until.isoformat() if self.data_until else None,
            "baseline": self.baseline,
            "baseline_periods": [{"start": s.isoformat(), "end": e.isoformat(), "value": v}
                                 for (s, e), v in self.baseline_periods],
            "target": self.target, "result": self.result, "achieved_pct": self.achieved_pct,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "checkpoints": [c.to_dict() for c in self.checkpoints],
        }


def improvement(c: Commitment, baseline: float, value: float) -> float | None:
    """How far ``value`` moved from the baseline in the good direction, as a fraction of it."""
    if baseline == 0:
        return None
    return c.sign * (value - baseline) / abs(baseline)


def target_value(c: Commitment, baseline: float) -> float:
    return baseline + c.sign * abs(baseline) * c.improvement_pct


def path_value(c: Commitment, baseline: float, day: date) -> float:
    """The value the metric should have reached by ``day`` on the agreed (or linear) path."""
    assert c.start is not None and c.end is not None
    points = [(c.start - timedelta(days=1), 0.0), *c.path, (c.end, c.improvement_pct)]
    reached = c.improvement_pct
    for (d0, p0), (d1, p1) in itertools.pairwise(points):
        if d0 <= day <= d1:
            span = (d1 - d0).days or 1
            reached = p0 + (p1 - p0) * (day - d0).days / span
            break
    return baseline + c.sign * abs(baseline) * reached


def compute_baseline(backend: Any, c: Commitment) -> tuple[float | None,
                                                             list[tuple[W.Window, float | None]]]:
    """The baseline value and the per-period values it came from (none when agreed as a number)."""
    assert c.baseline is not None and c.start is not None
    b = c.baseline
    if b.value is not None:
        return b.value, []
    wins = W.windows_before(c.start, b.grain, b.window)
    values = W.measure(backend, c.metric, wins)
    return W.aggregate(values, b.aggregation), list(zip(wins, values, strict=True))


def track(backend: Any, c: Commitment, *, as_of: date | None = None) -> Tracking:
    """Measure ``c`` on the workspace ``backend`` as of ``as_of`` (default: the last day of data).

    A vague commitment (no baseline, period or data source) gets the verdict ``vague`` with
    whatever could still be measured; the rest are ``in_progress`` until the end (or the end of
    the extension), then ``met`` or ``missed``.
    """
    concerns = check(c)
    until = W.data_until(backend, c.metric)
    day = min(d for d in (as_of, until, date.today()) if d is not None)
    vague = any(x.code in VAGUE_CODES for x in concerns)
    if c.baseline is None or c.start is None or c.end is None:
        return Tracking(c, concerns, "vague", day, until)
    baseline, periods = compute_baseline(backend, c)
    t = Tracking(c, concerns, "vague" if vague else "in_progress", day, until, baseline=baseline,
                 baseline_periods=periods, deadline=c.end)
    if baseline is None:
        return t
    grain = c.baseline.grain
    extended_end = c.end + timedelta(days=c.refund.extension_days)
    days = W.weekly_checkpoints(c.start, min(day, extended_end))
    actuals = W.measure(backend, c.metric, [W.window_ending(d, grain) for d in days])
    points = []
    for d, a in zip(days, actuals, strict=True):
        p = path_value(c, baseline, min(d, c.end))
        points.append(Checkpoint(d, a, p, None if a is None else c.sign * (a - p) >= -1e-9))
    latest = next((p.actual for p in reversed(points) if p.actual is not None), None)
    t = replace(t, target=target_value(c, baseline), checkpoints=points,
                achieved_pct=None if latest is None else improvement(c, baseline, latest))
    if day < c.end:
        return t
    result, achieved = _evaluate(backend, c, baseline, c.end)
    verdict: Verdict = "met" if _met(c, achieved) else "missed"
    if verdict == "missed" and c.refund.extension_days > 0:
        t = replace(t, deadline=extended_end)
        if day < extended_end:
            verdict = "extended"
        else:
            result, achieved = _evaluate(backend, c, baseline, extended_end)
            verdict = "met" if _met(c, achieved) else "missed"
    return replace(t, result=result, achieved_pct=achieved,
                   verdict="vague" if vague else verdict)


def _met(c: Commitment, achieved: float | None) -> bool:
    return achieved is not None and achieved >= c.improvement_pct - 1e-9


def _evaluate(backend: Any, c: Commitment, baseline: float,
              end: date) -> tuple[float | None, float | None]:
    """The mean of the last ``evaluation_periods`` periods up to ``end`` and its improvement."""
    assert c.baseline is not None
    values = W.measure(backend, c.metric, W.windows_ending(end, c.baseline.grain,
                                                           c.evaluation_periods))
    result = W.aggregate(values, "mean")
    return result, None if result is None else improvement(c, baseline, result)
