"""Baseline, weekly progress, verdict, fee and ROI on the hand-made company of ``data.py``."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesradar.commitments.checks import check
from salesradar.commitments.model import parse_commitment
from salesradar.commitments.tracker import improvement, path_value, track
from salesradar.commitments.value import value_of
from salesradar.commitments.windows import (
    add_periods,
    measure,
    window_ending,
    windows_before,
    windows_from,
)
from salesradar.errors import UserInputError

from .data import backend, terms


@pytest.fixture(scope="module")
def b() -> Any:
    return backend()


def test_windows_are_calendar_months_from_the_first() -> None:
    assert windows_before(date(2025, 4, 1), "month", 3) == [
        (date(2025, 1, 1), date(2025, 1, 31)), (date(2025, 2, 1), date(2025, 2, 28)),
        (date(2025, 3, 1), date(2025, 3, 31))]
    # the month ending 7 April: 8 March .. 7 April
    assert window_ending(date(2025, 4, 7), "month") == (date(2025, 3, 8), date(2025, 4, 7))
    assert add_periods(date(2025, 1, 31), "month", 1) == date(2025, 2, 28)
    assert windows_from(date(2025, 4, 1), date(2025, 5, 10), "month") == [
        (date(2025, 4, 1), date(2025, 4, 30)), (date(2025, 5, 1), date(2025, 5, 10))]


def test_measure_simple_and_derived_kpis_alike(b: Any) -> None:
    wins = windows_before(date(2025, 4, 1), "month", 3)
    # revenue is a simple KPI (one range join); ARPA a derived one (one UNION ALL of requests):
    # with one customer, revenue per active customer is the revenue itself
    assert measure(b, "revenue", wins) == [100_000, 110_000, 90_000]
    assert measure(b, "arpa", wins) == [100_000, 110_000, 90_000]
    assert measure(b, "revenue", [(date(2024, 1, 1), date(2024, 1, 31))]) == [None]
    with pytest.raises(UserInputError, match="needs the table"):
        measure(b, "win_rate", wins)


@pytest.mark.parametrize(("aggregation", "expected"), [
    ("mean", 100_000.0),   # (100,000 + 110,000 + 90,000) / 3
    ("median", 100_000.0),
    ("sum", 300_000.0),
    ("last", 90_000.0),    # March
    ("max", 110_000.0),
])
def test_baseline_aggregations(b: Any, aggregation: str, expected: float) -> None:
    c = parse_commitment(terms(baseline={"window": 3, "aggregation": aggregation}))
    t = track(b, c, as_of=date(2025, 11, 15))
    assert t.baseline == expected
    assert [v for _, v in t.baseline_periods] == [100_000, 110_000, 90_000]


def test_met_commitment_with_weekly_progress(b: Any) -> None:
    t = track(b, parse_commitment(terms()), as_of=date(2025, 11, 15))
    assert t.baseline == 100_000 and t.target == pytest.approx(120_000)  # 100,000 × 1.2
    # weeks end on day 7, 14, ... of the period: 183 days -> 26 checkpoints, the last 29 Sep
    assert len(t.checkpoints) == 26 and t.checkpoints[-1].day == date(2025, 9, 29)
    first, second, third = t.checkpoints[:3]
    # 7 Apr: the month 8 Mar..7 Apr holds the 15 Mar invoice (90,000);
    # path = 100,000 + 20,000 × 7/183 = 100,765.03 -> behind
    assert (first.actual, round(first.path, 2), first.on_track) == (90_000, 100_765.03, False)
    assert second.actual == 90_000  # 15 Mar..14 Apr still holds only March's invoice
    # 21 Apr: 22 Mar..21 Apr holds 15 Apr (105,000); path 100,000 + 20,000 × 21/183 = 102,295.08
    assert (third.actual, round(third.path, 2), third.on_track) == (105_000, 102_295.08, True)
    # verdict: mean of Jul, Aug, Sep = (120 + 125 + 130)k / 3 = 125,000 -> +25% >= +20%
    assert (t.verdict, t.result, t.achieved_pct) == ("met", 125_000, 0.25)


def test_missed_commitment_fee_refund_and_roi(b: Any) -> None:
    t = track(b, parse_commitment(terms(improvement_pct=0.30)), as_of=date(2025, 11, 15))
    assert (t.verdict, t.achieved_pct) == ("missed", 0.25)  # 25% < 30%
    fee, roi = value_of(b, t)
    # revenue Apr..Sep = 105 + 110 + 115 + 120 + 125 + 130 = 705k against 6 × 100k -> +105,000
    assert fee.success_base == pytest.approx(105_000)
    # 10,000 fixed + 10% × 105,000 + no bonus − 50% × 10,000 refund = 15,500
    assert (fee.status, fee.success_fee, fee.bonus, fee.refund) == ("final", 10_500, 0, 5_000)
    assert fee.due == pytest.approx(15_500)
    assert roi is not None
    # gross profit is 40% of revenue: +42,000; ROI = (42,000 − 15,500) / 15,500 = 1.7097
    assert roi.incremental_gross_profit == pytest.approx(42_000)
    assert roi.roi == pytest.approx(26_500 / 15_500)
    assert roi.metrics["gross_margin"].before == pytest.approx(0.4)
    assert roi.metrics["revenue"].during == pytest.approx(117_500)  # 705,000 / 6
    assert roi.metrics["revenue"].change_pct == pytest.approx(0.175)  # 117,500 / 100,000 − 1


def test_met_fee_with_bonus_and_cap(b: Any) -> None:
    t = track(b, parse_commitment(terms()), as_of=date(2025, 11, 15))
    fee, roi = value_of(b, t)
    # 10,000 + 10,500 + 5,000 bonus = 25,500; ROI = (42,000 − 25,500) / 25,500
    assert (fee.bonus, fee.refund, fee.due) == (5_000, 0, pytest.approx(25_500))
    assert roi is not None and roi.roi == pytest.approx(16_500 / 25_500)
    capped = track(b, parse_commitment(terms(fees={"fixed": 10_000, "success_fee_pct": 0.1,
                                                   "bonus": 5_000, "cap": 20_000})),
                   as_of=date(2025, 11, 15))
    fee, _ = value_of(b, capped)
    assert (fee.due, fee.capped_by) == (20_000, pytest.approx(5_500))  # 25,500 − 20,000


def test_in_progress_then_extension(b: Any) -> None:
    t = track(b, parse_commitment(terms()), as_of=date(2025, 6, 30))
    # 91 days -> 13 weeks; the month ending 30 Jun is June: 115,000 -> +15% so far
    assert (t.verdict, len(t.checkpoints), t.achieved_pct) == ("in_progress", 13, 0.15)
    fee, _ = value_of(b, t)
    # accrued: Apr..Jun = 330k − 300k = +30,000 -> 10,000 + 3,000
    assert (fee.status, fee.due) == ("to_date", pytest.approx(13_000))
    late = parse_commitment(terms(improvement_pct=0.30, refund={"refund_pct": 0.5,
                                                                "extension_days": 31}))
    assert track(b, late, as_of=date(2025, 10, 20)).verdict == "extended"
    # at 31 Oct: Aug, Sep, Oct = (125 + 130 + 135)k / 3 = 130,000 -> +30%: met in the extension
    done = track(b, late, as_of=date(2025, 11, 15))
    assert (done.verdict, done.result, done.deadline) == ("met", 130_000, date(2025, 10, 31))


def test_data_that_stop_before_the_end_keep_it_in_progress(b: Any) -> None:
    c = parse_commitment(terms(start="2025-06-01", end="2025-12-31"))
    t = track(b, c, as_of=date(2026, 2, 1))
    assert (t.verdict, t.data_until, t.as_of) == ("in_progress", date(2025, 11, 15),
                                                  date(2025, 11, 15))


def test_vague_commitment(b: Any) -> None:
    c = parse_commitment(terms(baseline=None, data_source=None))
    assert [w.code for w in check(c)] == ["no_baseline", "no_data_source"]
    t = track(b, c, as_of=date(2025, 11, 15))
    assert t.verdict == "vague" and t.baseline is None
    fee, _ = value_of(b, t)
    assert fee.status == "not_computed"
    no_period = parse_commitment(terms(end=None))
    assert "no_period" in [w.code for w in check(no_period)]
    assert track(b, no_period).verdict == "vague"


@pytest.mark.parametrize(("metric", "start", "end", "code"), [
    ("revenue", "2025-04-01", "2025-05-31", "unrealistic_timeline"),   # 61 days < 182
    ("win_rate", "2025-04-01", "2025-05-31", "unrealistic_timeline"),  # 61 days < 91
    ("answer_rate", "2025-04-01", "2025-05-31", None),                 # 61 days >= 60
    ("answer_rate", "2025-04-01", "2025-04-30", "unrealistic_timeline"),  # 30 days < 60
    ("revenue", "2025-01-01", "2025-12-31", None),
])
def test_unrealistic_timeline(metric: str, start: str, end: str, code: str | None) -> None:
    c = parse_commitment(terms(metric=metric, start=start, end=end))
    codes = [w.code for w in check(c)]
    assert ("unrealistic_timeline" in codes) == (code is not None)
    if code:
        concern = next(w for w in check(c) if w.code == code)
        assert "ימים" in concern.he


def test_lower_is_better_and_agreed_path() -> None:
    cycle = parse_commitment(terms(metric="sales_cycle_days", improvement_pct=0.25))
    # 40 days down to 32 is (40 − 32) / 40 = 20% better; the target is 40 − 25% = 30
    assert improvement(cycle, 40, 32) == pytest.approx(0.2)
    assert path_value(cycle, 40, date(2025, 9, 30)) == pytest.approx(30)
    # milestones: +5% by 30 Jun, then +20% by 30 Sep; halfway on 15 Aug is 5% + 15% × 46/92
    milestones = parse_commitment(terms(path=[["2025-06-30", 0.05]]))
    assert path_value(milestones, 100_000, date(2025, 6, 30)) == pytest.approx(105_000)
    assert path_value(milestones, 100_000, date(2025, 8, 15)) == pytest.approx(112_500)


@pytest.mark.parametrize(("override", "message"), [
    ({"metric": "no_such"}, "unknown KPI"),
    ({"metric": "churn_rate"}, "calendar period only"),
    ({"improvement_pct": 22}, "fraction"),
    ({"end": "2025-03-01"}, "must be after start"),
    ({"model": "magic"}, "model must be one of"),
    ({"fees": {"fixed": -1}}, "cannot be negative"),
    ({"colour": "red"}, "unknown commitment field"),
])
def test_mistakes_are_refused(override: dict[str, Any], message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        parse_commitment(terms(**override))


def test_verdict_sentences(b: Any) -> None:
    from salesradar.commitments.status import verdict_sentence

    met = track(b, parse_commitment(terms()), as_of=date(2025, 11, 15))
    en, he = verdict_sentence(met)
    assert en == ("met: revenue averaged ₪125,000 over the last 3 periods against a baseline of "
                  "₪100,000: +25.0% (promised +20%)")
    assert he.startswith("עמד ביעד: הכנסות עמד בממוצע על ₪125,000")
    running = track(b, parse_commitment(terms()), as_of=date(2025, 6, 30))
    # the last week ends 30 Jun: June's 115,000 against the path 100,000 + 20,000 × 91/183
    assert verdict_sentence(running)[0] == (
        "in progress until 30/09/2025: +15.0% of the +20% promised; ₪115,000 in the period to "
        "30/06/2025, on track (path ₪109,945)")


# A seasonal company: Q4 is the peak. Revenue on the 15th of each month, cost 60%:
#   2024-10..12  150,000 (the data begin on 15/10/2024)   2025-01..06  100,000
#   2025-07..09  110,000   2025-10..12  160,000   2026-01  100,000 (the data run past the end)
SEASONAL = {**{(2024, m): 150_000 for m in (10, 11, 12)},
            **{(2025, m): 100_000 for m in range(1, 7)},
            **{(2025, m): 110_000 for m in (7, 8, 9)},
            **{(2025, m): 160_000 for m in (10, 11, 12)}, (2026, 1): 100_000}


def _seasonal_backend(cost: bool = True) -> Any:
    import ibis

    from metrics.conftest import load_tables
    from metrics.data import arrow_table

    rows = [{"invoice_id": f"I{y}{m:02d}", "line_no": 1, "invoice_date": date(y, m, 15),
             "customer_id": "c1", "sku": "s1", "quantity": 1, "net_revenue": rev,
             "cost": rev * 0.6 if cost else None, "rep_id": "r1", "channel": "field"}
            for (y, m), rev in SEASONAL.items()]
    return load_tables(ibis.duckdb.connect(),
                       {"invoice_lines": arrow_table("invoice_lines", rows)})


def _peak_terms() -> dict[str, Any]:
    """+20% revenue, July to December 2025, over the mean of the 12 months before July."""
    return terms(start="2025-07-01", end="2025-12-31",
                 baseline={"window": 12, "grain": "month", "aggregation": "mean"})


def test_shortened_baseline_and_seasonal_disagreement() -> None:
    from salesradar.commitments.status import commitment_status

    t = track(_seasonal_backend(), parse_commitment(_peak_terms()), as_of=date(2026, 1, 15))
    # the 12 months before July 2025 reach back to July 2024; the data begin on 15/10/2024, so
    # only October 2024 to June 2025 count: 9 of 12, mean (3 × 150,000 + 6 × 100,000) ÷ 9
    assert (t.baseline_used, t.baseline_shortened) == (9, True)
    assert t.baseline == pytest.approx(1_050_000 / 9)
    assert t.concerns[0].code == "baseline_shortened"
    assert t.concerns[0].en == ("baseline shortened to 9 of 12 months: the data begin on "
                                "15/10/2024")
    assert "9 מתוך 12" in t.concerns[0].he
    # October to December 2025 average 160,000: +37.1% over 116,667, met against +20% ...
    assert t.verdict == "met"
    assert t.achieved_pct == pytest.approx(160_000 / (1_050_000 / 9) - 1)
    # ... but against the same months of 2024 (150,000) only +6.7%: missed; they disagree
    assert t.seasonal_baseline == pytest.approx(150_000)
    assert t.seasonal_achieved_pct == pytest.approx(160_000 / 150_000 - 1)
    assert (t.seasonal_verdict, t.seasonal_disagrees) == ("missed", True)
    assert t.concerns[-1].code == "seasonal_disagrees"
    s = commitment_status(_seasonal_backend(), parse_commitment(_peak_terms()),
                          as_of=date(2026, 1, 15))
    assert s["verdict_en"].startswith("BASELINE SHORTENED to 9 of 12 months (the data begin on "
                                      "15/10/2024) — met: revenue averaged ₪160,000")
    assert s["verdict_en"].endswith("against the same periods a year earlier: +6.7%, missed "
                                    "— the two disagree")
    assert s["verdict_he"].startswith("הבסיס קוצר ל־9 מתוך 12 חודשים")
    assert (s["baseline_used"], s["baseline_window"], s["seasonal_verdict"]) == (9, 12, "missed")


def test_no_history_before_the_start_is_vague() -> None:
    t = track(_seasonal_backend(), parse_commitment(terms(start="2024-10-01",
                                                          end="2025-03-31")),
              as_of=date(2026, 1, 15))
    # the 3 months before October 2024 have no data at all: no baseline, no verdict
    assert (t.baseline, t.baseline_used, t.verdict) == (None, 0, "vague")
    assert t.concerns[0].code == "baseline_no_history"


def test_roi_needs_cost() -> None:
    with_cost = track(_seasonal_backend(), parse_commitment(_peak_terms()),
                      as_of=date(2026, 1, 15))
    fee, roi = value_of(_seasonal_backend(), with_cost)
    assert roi is not None and roi.cost_coverage == pytest.approx(1.0)
    # 12-month before window (9 with data, mean 116,667), during Jul..Dec 2025 = 810,000:
    # +110,000 revenue, 40% of it gross profit
    assert roi.incremental_revenue == pytest.approx(810_000 - 6 * 1_050_000 / 9)
    assert roi.incremental_gross_profit == pytest.approx(0.4 * (810_000 - 6 * 1_050_000 / 9))
    assert roi.roi == pytest.approx((roi.incremental_gross_profit - fee.due) / fee.due)
    assert roi.reason_en is None
    no_cost = track(_seasonal_backend(cost=False), parse_commitment(_peak_terms()),
                    as_of=date(2026, 1, 15))
    fee, roi = value_of(_seasonal_backend(cost=False), no_cost)
    # no cost: gross profit is unknown (not revenue), so is the ROI, and the reason says so
    assert roi is not None and roi.roi is None and roi.incremental_gross_profit is None
    assert roi.incremental_revenue == pytest.approx(810_000 - 6 * 1_050_000 / 9)
    assert roi.reason_en is not None and "cost for no revenue" not in roi.reason_en
    assert "ROI unknown" in roi.reason_en and roi.reason_he
