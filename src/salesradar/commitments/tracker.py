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
    baseline_used: int | None = None  # baseline periods with data (of the agreed window)
    data_since: date | None = None
    # the result against the same periods a year earlier, where the data reach back that far
    seasonal_baseline: float | None = None
    seasonal_achieved_pct: float | None = None
    seasonal_verdict: Literal["met", "missed"] | None = None

    @property
    def baseline_shortened(self) -> bool:
        """The agreed baseline window reaches before the data: fewer periods were used."""
        b = self.commitment.baseline
        return (b is not None and b.value is None and self.baseline_used is not None
                and self.baseline_used < b.window)

    @property
    def seasonal_disagrees(self) -> bool:
        return (self.seasonal_verdict is not None and self.verdict in ("met", "missed")
                and self.seasonal_verdict != self.verdict)

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
            "data_since": self.data_since.isoformat() if self.data_since else None,
            "baseline_used": self.baseline_used,
            "baseline_window": (self.commitment.baseline.window
                                if self.commitment.baseline is not None else None),
            "baseline_shortened": self.baseline_shortened,
            "seasonal_baseline": self.seasonal_baseline,
            "seasonal_achieved_pct": self.seasonal_achieved_pct,
            "seasonal_verdict": self.seasonal_verdict,
            "seasonal_disagrees": self.seasonal_disagrees,
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


def compute_baseline(backend: Any, c: Commitment, since: date | None = None
                     ) -> tuple[float | None, list[tuple[W.Window, float | None]]]:
    """The baseline value and the per-period values it came from (none when agreed as a number).

    Periods that end before ``since`` (the first day of data) are left out: they are not 0,
    they are unknown; :class:`Tracking` then says the baseline was shortened.
    """
    assert c.baseline is not None and c.start is not None
    b = c.baseline
    if b.value is not None:
        return b.value, []
    wins = [w for w in W.windows_before(c.start, b.grain, b.window)
            if since is None or w[1] >= since]
    values = W.measure(backend, c.metric, wins)
    return W.aggregate(values, b.aggregation), list(zip(wins, values, strict=True))


GRAIN_WORDS = {"week": ("weeks", "שבועות"), "month": ("months", "חודשים"),
               "quarter": ("quarters", "רבעונים")}


def _shortened(c: Commitment, used: int, since: date) -> Concern:
    assert c.baseline is not None
    en, he = GRAIN_WORDS[c.baseline.grain]
    when = since.strftime("%d/%m/%Y")
    if used == 0:
        return Concern("baseline_no_history",
                       f"no baseline: the data begin on {when}, after the {c.baseline.window} "
                       f"{en} before the start",
                       f"אין בסיס: הנתונים מתחילים ב־{when}, אחרי {c.baseline.window} ה{he} "
                       "שלפני ההתחלה")
    return Concern("baseline_shortened",
                   f"baseline shortened to {used} of {c.baseline.window} {en}: the data begin "
                   f"on {when}",
                   f"הבסיס קוצר ל־{used} מתוך {c.baseline.window} {he}: הנתונים מתחילים "
                   f"ב־{when}")


def track(backend: Any, c: Commitment, *, as_of: date | None = None) -> Tracking:
    """Measure ``c`` on the workspace ``backend`` as of ``as_of`` (default: the last day of data).

    A vague commitment (no baseline, period or data source) gets the verdict ``vague`` with
    whatever could still be measured; the rest are ``in_progress`` until the end (or the end of
    the extension), then ``met`` or ``missed``.
    """
    concerns = check(c)
    until = W.data_until(backend, c.metric)
    since = W.data_since(backend, c.metric)
    day = min(d for d in (as_of, until, date.today()) if d is not None)
    if c.baseline is None or c.start is None or c.end is None:
        return Tracking(c, concerns, "vague", day, until, data_since=since)
    baseline, periods = compute_baseline(backend, c, since)
    used = len(periods) if c.baseline.value is None else None
    if used is not None and since is not None and used < c.baseline.window:
        concerns = [_shortened(c, used, since), *concerns]
        if used == 0:
            baseline = None
    vague = any(x.code in (*VAGUE_CODES, "baseline_no_history") for x in concerns)
    t = Tracking(c, concerns, "vague" if vague else "in_progress", day, until, baseline=baseline,
                 baseline_periods=periods, deadline=c.end, baseline_used=used, data_since=since)
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
    t = replace(t, result=result, achieved_pct=achieved, verdict="vague" if vague else verdict)
    return _seasonal(backend, t, t.deadline or c.end)


def _seasonal(backend: Any, t: Tracking, end: date) -> Tracking:
    """The result against the same evaluation periods a year earlier, where the data reach
    back that far; a concern when it and the verdict disagree."""
    c = t.commitment
    if t.result is None or t.data_since is None or t.verdict not in ("met", "missed"):
        return t
    assert c.baseline is not None
    wins = [W.year_earlier(w, c.baseline.grain)
            for w in W.windows_ending(end, c.baseline.grain, c.evaluation_periods)]
    if any(w[1] < t.data_since for w in wins):
        return t
    before = W.aggregate(W.measure(backend, c.metric, wins), "mean")
    if before is None:
        return t
    achieved = improvement(c, before, t.result)
    verdict: Literal["met", "missed"] = "met" if _met(c, achieved) else "missed"
    t = replace(t, seasonal_baseline=before, seasonal_achieved_pct=achieved,
                seasonal_verdict=verdict)
    if t.seasonal_disagrees:
        got = "–" if achieved is None else f"{c.sign * achieved:+.1%}"
        labels = {"met": ("met", "עמד ביעד"), "missed": ("missed", "לא עמד ביעד")}
        t = replace(t, concerns=[*t.concerns, Concern(
            "seasonal_disagrees",
            f"against the same periods a year earlier the result is {got}: "
            f"{labels[verdict][0]}, while against the baseline it is {labels[t.verdict][0]}; "
            "the baseline may compare a season with another",
            f"מול אותן תקופות לפני שנה התוצאה היא {got}: {labels[verdict][1]}, ואילו מול הבסיס: "
            f"{labels[t.verdict][1]}; ייתכן שהבסיס משווה עונה לעונה אחרת")])
    return t


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
