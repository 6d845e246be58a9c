"""One commitment's status for people: tracking, fee, ROI and the verdict in a sentence.

This is the service function the CLI, the reports and the API share.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from salesradar.charts.labels import format_date, format_value
from salesradar.commitments.checks import VAGUE_CODES
from salesradar.commitments.model import Commitment
from salesradar.commitments.tracker import GRAIN_WORDS, Tracking, track
from salesradar.commitments.value import value_of

VERDICT_LABELS = {
    "met": ("met", "עמד ביעד"), "missed": ("missed", "לא עמד ביעד"),
    "in_progress": ("in progress", "בתהליך"), "extended": ("extended", "בהארכה"),
    "vague": ("vague", "עמום"),
}


def verdict_sentence(t: Tracking) -> tuple[str, str]:
    """The verdict with its numbers, in English and Hebrew; a shortened baseline comes first,
    the seasonality-adjusted result last."""
    en, he = _verdict_sentence(t)
    c = t.commitment
    if (t.baseline_shortened and c.baseline is not None and t.baseline_used
            and t.data_since is not None):
        words = GRAIN_WORDS[c.baseline.grain]
        en = (f"BASELINE SHORTENED to {t.baseline_used} of {c.baseline.window} {words[0]} "
              f"(the data begin on {format_date(t.data_since)}) — {en}")
        he = (f"הבסיס קוצר ל־{t.baseline_used} מתוך {c.baseline.window} {words[1]} (הנתונים "
              f"מתחילים ב־{format_date(t.data_since)}) — {he}")
    if t.seasonal_verdict is not None and t.seasonal_achieved_pct is not None:
        got = format_value(t.seasonal_achieved_pct * c.sign, "%", decimals=1)
        got = ("+" if t.seasonal_achieved_pct * c.sign > 0 else "") + got
        label_en, label_he = VERDICT_LABELS[t.seasonal_verdict]
        en += (f"; against the same periods a year earlier: {got}, {label_en}"
               + (" — the two disagree" if t.seasonal_disagrees else ""))
        he += (f"; מול אותן תקופות לפני שנה: {got}, {label_he}"
               + (" — השניים אינם מסכימים" if t.seasonal_disagrees else ""))
    return en, he


def _verdict_sentence(t: Tracking) -> tuple[str, str]:
    c = t.commitment
    unit = c.kpi.unit.value
    promised = ("+" if c.higher_is_better else "−") + format_value(c.improvement_pct, "%")
    if t.verdict == "vague":
        vague = [x for x in t.concerns if x.code in VAGUE_CODES]
        reasons_en = "; ".join(x.en for x in vague)
        reasons_he = "; ".join(x.he for x in vague)
        return (f"vague: cannot be judged ({reasons_en})", f"עמום: אי אפשר לשפוט ({reasons_he})")

    def v(x: float | None) -> str:
        return format_value(x, unit)

    def v_he(x: float | None) -> str:
        return format_value(x, unit, lang="he")

    # the change of the metric itself (down is good for a sales cycle), as the promise reads
    change = None if t.achieved_pct is None else t.achieved_pct * c.sign
    got = "–" if change is None else (
        ("+" if change > 0 else "") + format_value(change, "%", decimals=1))
    if t.verdict in ("met", "missed"):
        en = (f"{VERDICT_LABELS[t.verdict][0]}: {c.metric} averaged {v(t.result)} over the last "
              f"{c.evaluation_periods} periods against a baseline of {v(t.baseline)}: {got} "
              f"(promised {promised})")
        he = (f"{VERDICT_LABELS[t.verdict][1]}: {c.kpi.label_he} עמד בממוצע על {v_he(t.result)} "
              f"ב־{c.evaluation_periods} התקופות האחרונות, מול בסיס של {v_he(t.baseline)}: "
              f"{got} (הובטח {promised})")
        return en, he
    last = t.checkpoints[-1] if t.checkpoints else None
    where_en = where_he = ""
    if last is not None and last.actual is not None:
        where_en = (f"; {v(last.actual)} in the period to {format_date(last.day)}, "
                    f"{'on track' if last.on_track else 'behind'} (path {v(last.path)})")
        where_he = (f"; {v_he(last.actual)} בתקופה שעד {format_date(last.day)}, "
                    f"{'במסלול' if last.on_track else 'מאחורי המסלול'} (מסלול {v_he(last.path)})")
    deadline = format_date(t.deadline) if t.deadline else "–"
    if t.verdict == "extended":
        return (f"extended: missed at the end, the extension runs to {deadline}{where_en}",
                f"בהארכה: לא עמד ביעד בסיום, ההארכה נמשכת עד {deadline}{where_he}")
    return (f"in progress until {deadline}: {got} of the {promised} promised{where_en}",
            f"בתהליך עד {deadline}: {got} מתוך {promised} שהובטחו{where_he}")


def commitment_status(backend: Any, c: Commitment, *,
                      as_of: date | None = None) -> dict[str, Any]:
    """Everything about one commitment: terms, concerns, tracking, fee, ROI, verdict sentence."""
    t = track(backend, c, as_of=as_of)
    fee, roi = value_of(backend, t)
    en, he = verdict_sentence(t)
    return {**t.to_dict(), "kpi": c.kpi.info().to_dict(), "fee": fee.to_dict(),
            "roi": roi.to_dict() if roi else None, "verdict_en": en, "verdict_he": he,
            "verdict_label_en": VERDICT_LABELS[t.verdict][0],
            "verdict_label_he": VERDICT_LABELS[t.verdict][1]}
