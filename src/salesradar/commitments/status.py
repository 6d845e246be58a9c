"""One commitment's status for people: tracking, fee, ROI and the verdict in a sentence.

This is the service function the CLI, the reports and the API share.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from salesradar.charts.labels import format_date, format_value
from salesradar.commitments.checks import VAGUE_CODES
from salesradar.commitments.model import Commitment
from salesradar.commitments.tracker import Tracking, track
from salesradar.commitments.value import value_of

VERDICT_LABELS = {
    "met": ("met", "עמד ביעד"), "missed": ("missed", "לא עמד ביעד"),
    "in_progress": ("in progress", "בתהליך"), "extended": ("extended", "בהארכה"),
    "vague": ("vague", "עמום"),
}


def verdict_sentence(t: Tracking) -> tuple[str, str]:
    """The verdict with its numbers, in English and Hebrew."""
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
