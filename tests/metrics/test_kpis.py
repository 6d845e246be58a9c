"""Every KPI on the hand-made workspace (``data.py``), worked out by hand, on every engine.

Invoice lines (date, customer, sku, qty, revenue, cost, rep, channel):

    L1  2023-12-10 c1 s1  10  100   60 r1 field     L9  2024-02-07 c2 s2   4   40   16 r2 web
    L2  2023-12-15 c3 s3   2   40   30 r3 phone     L10 2024-02-09 c1 s2  -1  -10   -4 r1 field
    L3  2024-01-05 c1 s1  10  100   60 r1 field     L11 2024-02-20 c4 s3   3   60   45 r2 web
    L4  2024-01-06 c1 s2   5   50   20 r1 field     L12 2024-03-04 c3 s3   2   40   30 r1 field
    L5  2024-01-10 c2 s1  20  200  120 r3 phone     L13 2024-03-10 c2 s1   5   55   30 r2 web
    L6  2024-01-20 c3 s3   1   20   15 r3 phone     L14 2024-03-12 c4 s3   1   20   15 r2 web
    L7  2024-02-03 c1 s1  12  120   72 r1 field     L15 2024-03-15 c4 s3  -1  -20  -15 r2 web
    L8  2024-02-05 c2 s1  10  110   60 r2 web

Revenue per customer and month (the basis of the customer KPIs):

    customer   Dec   Jan   Feb   Mar        active: Dec {c1,c3}  Jan {c1,c2,c3}
    c1         100   150   110     .                Feb {c1,c2,c4}  Mar {c2,c3}
    c2           .   200   150    55        first period: c1 Dec, c3 Dec, c2 Jan, c4 Feb
    c3          40    20     .    40
    c4           .     .    60     0        (c4's March sale is returned in full: not active)
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from salesradar.errors import UserInputError
from salesradar.metrics import REGISTRY, compute_kpi, kpi_records

JAN, FEB, MAR, DEC = "2024-01-01", "2024-02-01", "2024-03-01", "2023-12-01"
Q1 = (date(2024, 1, 1), date(2024, 3, 31))

Key = tuple[Any, ...]

# (kpi, by, period, (start, end), {(period, *dimension values): value})
CASES: list[tuple[str, tuple[str, ...], str | None, tuple[date, date] | None, dict[Key, Any]]] = [
    # revenue = Σ net revenue, returns net out. Jan 100+50+200+20; Feb 120+110+40-10+60;
    # Mar 40+55+20-20.
    ("revenue", (), "month", Q1, {(JAN,): 370, (FEB,): 320, (MAR,): 95}),
    # by rep: r1 Jan 100+50, Feb 120-10, Mar 40; r2 Feb 110+40+60, Mar 55+20-20; r3 Jan 200+20
    ("revenue", ("rep",), "month", Q1, {
        (JAN, "r1"): 150, (FEB, "r1"): 110, (MAR, "r1"): 40, (FEB, "r2"): 210, (MAR, "r2"): 55,
        (JAN, "r3"): 220}),
    # by category (products): X = s1+s2, Y = s3, whole range: X 100+100+50+200+120+110+40-10+55
    # = 765; Y 40+20+60+40+20-20 = 160
    ("revenue", ("category",), None, None, {(None, "X"): 765, (None, "Y"): 160}),
    # by region (customers: c1,c2 North; c3,c4 South), Feb: North 110+150 = 260, South 60
    ("revenue", ("region",), "month", (date(2024, 2, 1), date(2024, 2, 29)),
     {(FEB, "North"): 260, (FEB, "South"): 60}),
    # gross profit = revenue − cost. Costs: Jan 60+20+120+15 = 215; Feb 72+60+16-4+45 = 189;
    # Mar 30+30+15-15 = 60. GP: Jan 155, Feb 131, Mar 35
    ("gross_profit", (), "month", Q1, {(JAN,): 155, (FEB,): 131, (MAR,): 35}),
    # by team (reps): team A = r1+r2, Feb: GP r1 (120-72)+(-10+4) = 42, r2 50+24+15 = 89 → 131
    ("gross_profit", ("team",), "month", (date(2024, 2, 1), date(2024, 2, 29)),
     {(FEB, "A"): 131}),
    # gross margin = GP ÷ revenue: 155/370, 131/320, 35/95
    ("gross_margin", (), "month", Q1,
     {(JAN,): 155 / 370, (FEB,): 131 / 320, (MAR,): 35 / 95}),
    # by channel, Mar: field 10/40, web 25+5-5 = 25 over 55
    ("gross_margin", ("channel",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "field"): 10 / 40, (MAR, "web"): 25 / 55}),
    # active customers (net revenue > 0): Jan 3, Feb 3, Mar 2 (c4 nets to 0)
    ("active_customers", (), "month", Q1, {(JAN,): 3, (FEB,): 3, (MAR,): 2}),
    # by rep: Feb r1 {c1}, r2 {c2, c4}; Mar r1 {c3}, r2 {c2} (c4 0); Jan r1 {c1}, r3 {c2, c3}
    ("active_customers", ("rep",), "month", Q1, {
        (JAN, "r1"): 1, (JAN, "r3"): 2, (FEB, "r1"): 1, (FEB, "r2"): 2, (MAR, "r1"): 1,
        (MAR, "r2"): 1}),
    # new = first period ever: Jan c2, Feb c4, Mar none
    ("new_customers", (), "month", Q1, {(JAN,): 1, (FEB,): 1, (MAR,): 0}),
    # by rep Feb: r1 has c1 (first Dec) → 0; r2 has c2 (first Jan), c4 (first Feb) → 1
    ("new_customers", ("rep",), "month", (date(2024, 2, 1), date(2024, 2, 29)),
     {(FEB, "r1"): 0, (FEB, "r2"): 1}),
    # reactivated: Mar c3 (not active Feb, active Dec and Jan); Jan c2 and Feb c4 are new
    ("reactivated_customers", (), "month", Q1, {(JAN,): 0, (FEB,): 0, (MAR,): 1}),
    ("reactivated_customers", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 1, (MAR, "r2"): 0}),
    # distinct SKUs with net revenue > 0 per active customer: Jan c1 {s1,s2}, c2 {s1}, c3 {s3}
    # → 4/3; Feb c1 {s1} (s2 net -10), c2 {s1,s2}, c4 {s3} → 4/3; Mar c2 {s1}, c3 {s3} → 1
    ("unique_skus_per_customer", (), "month", Q1, {(JAN,): 4 / 3, (FEB,): 4 / 3, (MAR,): 1.0}),
    # churned: Jan none of {c1,c3}; Feb c3 of {c1,c2,c3}; Mar c1, c4 of {c1,c2,c4}
    ("churned_customers", (), "month", Q1, {(JAN,): 0, (FEB,): 1, (MAR,): 2}),
    # slices by rep of the previous period: Feb ← Jan r1 {c1} 0, r3 {c2,c3}: c3 (c2 moved to r2,
    # not churned); Mar ← Feb r1 {c1}: c1, r2 {c2,c4}: c4
    ("churned_customers", ("rep",), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB, "r1"): 0, (FEB, "r3"): 1, (MAR, "r1"): 1, (MAR, "r2"): 1}),
    # churn rate: 0/2, 1/3, 2/3
    ("churn_rate", (), "month", Q1, {(JAN,): 0.0, (FEB,): 1 / 3, (MAR,): 2 / 3}),
    ("churn_rate", ("rep",), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB, "r1"): 0.0, (FEB, "r3"): 1 / 2, (MAR, "r1"): 1.0, (MAR, "r2"): 1 / 2}),
    # revenue churn: Feb c3's Jan 20 of 370; Mar c1 110 + c4 60 of Feb 320
    ("revenue_churn_rate", (), "month", Q1, {(JAN,): 0.0, (FEB,): 20 / 370, (MAR,): 170 / 320}),
    # by rep Mar: r1 110/110; r2 60/210
    ("revenue_churn_rate", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 1.0, (MAR, "r2"): 60 / 210}),
    # ARPA = revenue ÷ active: 370/3, 320/3, 95/2
    ("arpa", (), "month", Q1, {(JAN,): 370 / 3, (FEB,): 320 / 3, (MAR,): 95 / 2}),
    # concentration over the trailing 12 months (Dec..Feb for Feb; Dec..Mar for Mar):
    # Feb c1 100+150+110 = 360, c2 350, c3 60, c4 60 = 830; Mar c1 360, c2 405, c3 100, c4 60 = 925
    ("concentration_top1", (), "month", (date(2024, 2, 1), date(2024, 3, 31)),
     {(FEB,): 360 / 830, (MAR,): 405 / 925}),
    ("concentration_top3", (), "month", (date(2024, 2, 1), date(2024, 3, 31)),
     {(FEB,): 770 / 830, (MAR,): 865 / 925}),
    ("concentration_top5", (), "month", (date(2024, 2, 1), date(2024, 3, 31)),
     {(FEB,): 1.0, (MAR,): 1.0}),
    ("hhi", (), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB,): (360**2 + 350**2 + 60**2 + 60**2) / 830**2,
        (MAR,): (405**2 + 360**2 + 100**2 + 60**2) / 925**2}),
    # by rep, Mar: r1 c1 360 + c3 40 → 360/400; r2 c2 205 + c4 60 → 205/265;
    # r3 (nothing in Mar, but a trailing year) c2 200 + c3 60 → 200/260
    ("concentration_top1", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 0.9, (MAR, "r2"): 205 / 265, (MAR, "r3"): 200 / 260}),
    # without a period the window is the selected range, Jan–Mar: c1 150+110 = 260,
    # c2 200+150+55 = 405, c3 20+40 = 60, c4 60 → 785
    ("concentration_top1", (), None, Q1, {(None,): 405 / 785}),
    ("share_of_wallet", (), None, Q1, {(None,): (260 + 60 + 60) / 1600}),
    # share of wallet, Mar (trailing 12 months ÷ potential): c1 360/1000, c3 100/400,
    # c4 60/200; c2 has no potential (no row)
    ("share_of_wallet", ("customer",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "c1"): 0.36, (MAR, "c3"): 0.25, (MAR, "c4"): 0.3}),
    ("share_of_wallet", (), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR,): 520 / 1600}),
    # cost to serve: Jan c1 10+5, Feb c2 100, Mar c3 27
    ("cost_to_serve", (), "month", Q1, {(JAN,): 15, (FEB,): 100, (MAR,): 27}),
    ("cost_to_serve", ("segment",), None, Q1, {(None, "key"): 15, (None, "smb"): 127}),
    # profitability Jan–Mar = GP − cost to serve: c1 (40+30+48-6) - 15 = 97;
    # c2 (80+50+24+25) - 100 = 79; c3 (5+10) - 27 = -12; c4 15+5-5 = 15
    ("customer_profitability", ("customer",), None, Q1, {
        (None, "c1"): 97, (None, "c2"): 79, (None, "c3"): -12, (None, "c4"): 15}),
    # DSO: Feb payments I3 100 after 40 days (Jan 5 → Feb 14), I5 200 after 30 days
    # → (4000+6000)/300; Mar I7 120 after 30 days (Feb 3 → Mar 4, leap year); I8 unpaid
    ("days_sales_outstanding", (), "month", Q1, {(FEB,): 10000 / 300, (MAR,): 30.0}),
    ("days_sales_outstanding", ("customer",), "month", (date(2024, 2, 1), date(2024, 2, 29)),
     {(FEB, "c1"): 40.0, (FEB, "c2"): 30.0}),
    # win rate by close month: Jan D1 won, D2 lost; Feb D3 won, D4 lost; Mar D8 won
    ("win_rate", (), "month", Q1, {(JAN,): 0.5, (FEB,): 0.5, (MAR,): 1.0}),
    # by rep, Mar: r1 has only open deals → 0 ÷ 0 is null, not 0; r2 D8 won
    ("win_rate", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): None, (MAR, "r2"): 1.0}),
    # by amount: Jan 1000/1500, Feb 300/500, Mar 400/400
    ("win_rate_amount", (), "month", Q1, {(JAN,): 1000 / 1500, (FEB,): 0.6, (MAR,): 1.0}),
    # sales cycle of won deals: D1 Jan 1 → Jan 31 30 days; D3 Jan 15 → Feb 14 30; D8 9
    ("sales_cycle_days", (), "month", Q1, {(JAN,): 30.0, (FEB,): 30.0, (MAR,): 9.0}),
    ("avg_deal_size", (), "month", Q1, {(JAN,): 1000.0, (FEB,): 300.0, (MAR,): 400.0}),
    # weighted pipeline, open deals closing in Mar: D5 2000×0.9 (commit) + D6 1000×0.5
    # ("best case") + D7 500×0.1 (no category) = 2350; r1 2300, r2 50
    ("weighted_pipeline", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 2300.0, (MAR, "r2"): 50.0}),
    # Jan and Feb only have closed deals: no open pipeline is 0, not null
    ("weighted_pipeline", (), "month", Q1, {(JAN,): 0.0, (FEB,): 0.0, (MAR,): 2350.0}),
    # no period: all open deals with a close date (D9 has none and is left out)
    ("weighted_pipeline", (), None, None, {(None,): 2350.0}),
    # coverage = open closing in p ÷ (target − won in p). Mar r1 3000/(1200-0) = 2.5;
    # r2 500/(500-400) = 5; Feb r2 target 300 met by D3's 300 → null. Feb r1 (0 open ÷ 100)
    # is null, not 0×: the deals were last created or closed in March, so February is over
    # and its open pipeline is gone (coverage looks ahead)
    ("pipeline_coverage", ("rep",), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB, "r1"): None, (FEB, "r2"): None, (MAR, "r1"): 2.5, (MAR, "r2"): 5.0}),
    # company Mar: 3500 / (1700 − 400); Jan has deals but no monthly target → null; Feb over
    ("pipeline_coverage", (), "month", Q1,
     {(JAN,): None, (FEB,): None, (MAR,): 3500 / 1300}),
    # forecast accuracy: the latest commit per rep against the actual of its measure. Mar r1
    # 50 (the 800 before it is replaced) vs its invoiced revenue 40 (line 12) → 1 − 10/40;
    # r2 44 vs its revenue 55 + 20 − 20 = 55 → 1 − 11/55; Feb r2 250 of won amount vs its
    # won 300 → 1 − 50/300 (its invoiced 210 does not count); Feb r1 invoiced but forecast
    # nothing → null
    ("forecast_accuracy", ("rep",), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB, "r1"): None, (FEB, "r2"): 1 - 50 / 300, (MAR, "r1"): 0.75, (MAR, "r2"): 0.8}),
    # company Mar: revenue forecasts 50 + 44 = 94 vs invoiced 95 → 1 − 1/95; Feb: won-amount
    # forecast 250 vs won 300; Jan: revenue and won deals but no forecast → null
    ("forecast_accuracy", (), "month", Q1,
     {(JAN,): None, (FEB,): 1 - 50 / 300, (MAR,): 1 - 1 / 95}),
    # every line has a cost: coverage 100%, so gross profit and margin are known
    ("cost_coverage", (), "month", Q1, {(JAN,): 1.0, (FEB,): 1.0, (MAR,): 1.0}),
    # revenue per rep: active reps Jan r1, r3 → 370/2; Feb, Mar r1, r2 → 320/2, 95/2
    ("revenue_per_rep", (), "month", Q1, {(JAN,): 185.0, (FEB,): 160.0, (MAR,): 47.5}),
    # by team, Jan: A has r1 (r2 starts Feb) → 150/1; B r3 220/1
    ("revenue_per_rep", ("team",), "month", (date(2024, 1, 1), date(2024, 1, 31)),
     {(JAN, "A"): 150.0, (JAN, "B"): 220.0}),
    # whole range Jan–Mar: r1, r2, r3 all active some time → (370+320+95)/3
    ("revenue_per_rep", (), None, Q1, {(None,): 785 / 3}),
    # attainment = revenue ÷ monthly revenue target: Feb r1 110/100, r2 210/300;
    # Mar r1 40/1200, r2 55/500 (r1's quarterly target is not a monthly one)
    ("target_attainment", ("rep",), "month", (date(2024, 2, 1), date(2024, 3, 31)), {
        (FEB, "r1"): 1.1, (FEB, "r2"): 0.7, (MAR, "r1"): 40 / 1200, (MAR, "r2"): 0.11}),
    # quarter: Q1 revenue 370+320+95 over the quarterly target 9999 (monthly ones are not mixed in)
    ("target_attainment", (), "quarter", Q1, {(JAN,): 785 / 9999}),
    # time to first contact (hours), Mar cohort: La 0.5, Lb 2, Lc 4 (email), Ld 1 (the call at
    # 07:00 is before the lead existed); Le (Feb) only has a task → never contacted.
    # median of 0.5, 1, 2, 4 = 1.5; p90 = 2 + 0.7 × (4 − 2) = 3.4 (interpolated)
    ("time_to_first_contact_median", (), "month", Q1, {(MAR,): 1.5}),
    ("time_to_first_contact_p90", (), "month", Q1, {(MAR,): 3.4}),
    # by rep: r1 {0.5, 2} → 1.25, p90 0.5 + 0.9 × 1.5 = 1.85; r2 {4, 1} → 2.5, 1 + 0.9 × 3 = 3.7
    ("time_to_first_contact_median", ("rep",), "month", Q1, {(MAR, "r1"): 1.25, (MAR, "r2"): 2.5}),
    ("time_to_first_contact_p90", ("rep",), "month", Q1, {(MAR, "r1"): 1.85, (MAR, "r2"): 3.7}),
    # lead → deal by creation cohort: Mar La, Lc of 4; Feb Le none of 1
    ("lead_to_deal_rate", (), "month", Q1, {(FEB,): 0.0, (MAR,): 0.5}),
    ("lead_to_deal_rate", ("source",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "web"): 0.5, (MAR, "phone"): 0.5}),
    # lead → meeting: Mar La, Lc, Ld of 4; Feb 0 of 1
    ("lead_to_meeting_rate", (), "month", Q1, {(FEB,): 0.0, (MAR,): 0.75}),
    # meeting → deal: Mar La, Lc of {La, Lc, Ld}; Feb no meeting → null, not 0
    ("meeting_to_deal_rate", (), "month", Q1, {(FEB,): None, (MAR,): 2 / 3}),
    ("meeting_to_deal_rate", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 1.0, (MAR, "r2"): 0.5}),
    # calls per rep-day, Mar: r1 3 calls on Mar 1 + 1 on Mar 4 → 4/2; r2 Mar 2, Mar 3 → 2/2
    ("calls_per_rep_day", ("rep",), "month", Q1, {(MAR, "r1"): 2.0, (MAR, "r2"): 1.0}),
    ("calls_per_rep_day", (), "month", Q1, {(MAR,): 1.5}),
    # answer rate: Mar A1, A6, A9, A10 answered of 6 calls; Feb only a task → 0 calls → null
    ("answer_rate", (), "month", Q1, {(FEB,): None, (MAR,): 4 / 6}),
    ("answer_rate", ("rep",), "month", (date(2024, 3, 1), date(2024, 3, 31)),
     {(MAR, "r1"): 0.75, (MAR, "r2"): 0.5}),
    # stage visits (deal, stage entered, next entry, end): Jan D1 qualify → proposal 10 days
    # (moved on), D1 proposal → closed_won 20 d (won: moved on), D2 qualify → closed_lost 10 d
    # (lost), D3 qualify → proposal 10 d, D3 proposal: no next, deal won (moved on, no days);
    # Feb D4 qualify → proposal 10 d, D4 proposal → closed_lost 14 d (lost), D5 qualify →
    # proposal 29 d, D7 qualify: open, undecided; Mar D5 proposal: open, undecided.
    # conversion Jan 4 / (4 + 1); Feb 2 / 3; Mar nothing decided → null
    ("stage_conversion", (), "month", Q1, {(JAN,): 0.8, (FEB,): 2 / 3, (MAR,): None}),
    # by stage: qualify D1 D3 D4 D5 moved, D2 lost → 4/5; proposal D1 D3 moved, D4 lost → 2/3
    ("stage_conversion", ("stage",), None, None, {(None, "qualify"): 0.8,
                                                  (None, "proposal"): 2 / 3}),
    # by rep: Jan r1 D1 ×2 of D1 ×2 + D2 → 2/3, r2 D3 ×2 → 1; Feb r1 D5 → 1, r2 D4q of D4 ×2
    ("stage_conversion", ("rep",), "month", Q1, {
        (JAN, "r1"): 2 / 3, (JAN, "r2"): 1.0, (FEB, "r1"): 1.0, (FEB, "r2"): 0.5,
        (MAR, "r1"): None}),
    # time in stage, visits with a next entry: Jan 10, 20, 10, 10 → 12.5; Feb 10, 14, 29;
    # Mar none → null
    ("time_in_stage_days", (), "month", Q1, {(JAN,): 12.5, (FEB,): 53 / 3, (MAR,): None}),
    # qualify 10, 10, 10, 10, 29 → 13.8; proposal 20, 14 → 17
    ("time_in_stage_days", ("stage",), None, None, {(None, "qualify"): 13.8,
                                                    (None, "proposal"): 17.0}),
]


def _key(row: dict[str, Any], dims: list[str]) -> Key:
    return (row.get("period"), *(row[d] for d in dims))


def _by_key(records: list[dict[str, Any]], dims: list[str]) -> dict[Key, Any]:
    return {_key(r, dims): r for r in records}


def _ids(case: tuple[Any, ...]) -> str:
    name, by, period = case[0], case[1], case[2]
    return f"{name}-{'+'.join(by) or 'company'}-{period or 'none'}"


@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_kpi_case(backend: Any, case: tuple[Any, ...]) -> None:
    name, by, period, span, expected = case
    start, end = span or (None, None)
    table = compute_kpi(backend, name, by, period, start, end, persist=False)
    from salesradar.metrics.frame import DIMENSIONS

    dims = [DIMENSIONS[d].column for d in by]
    got = _by_key(kpi_records(table), dims)
    assert set(got) == set(expected), f"rows differ: got {sorted(got, key=str)}"
    for key, value in expected.items():
        actual = got[key]["value"]
        if value is None:
            assert actual is None, f"{key}: expected null, got {actual}"
        else:
            assert actual == pytest.approx(value, rel=1e-9, abs=1e-9), key


def test_every_kpi_has_a_case() -> None:
    assert {c[0] for c in CASES} == set(REGISTRY)


def test_previous_and_change(backend: Any) -> None:
    # revenue by month from Jan: Jan's previous is December's 140 (computed though outside the
    # range); Feb 320 − 370 = −50; Mar 95 − 320 = −225, −225/320 = −0.703125
    table = compute_kpi(backend, "revenue", (), "month", *Q1, persist=False)
    rows = {r["period"]: r for r in kpi_records(table)}
    assert rows[JAN]["previous"] == pytest.approx(140)
    assert rows[JAN]["change"] == pytest.approx(230)
    assert rows[FEB]["change"] == pytest.approx(-50)
    assert rows[MAR]["change_pct"] == pytest.approx(-0.703125)
    # r2 has no January row, so its February previous is null
    by_rep = _by_key(kpi_records(compute_kpi(backend, "revenue", ("rep",), "month", *Q1,
                                             persist=False)), ["rep_id"])
    assert by_rep[(FEB, "r2")]["previous"] is None
    assert by_rep[(MAR, "r2")]["previous"] == pytest.approx(210)


def test_flags(backend: Any) -> None:
    # coverage Mar: r1 2.5 < 3 flagged; r2 5.0 not; Feb r2 null → flag null (not set)
    cov = _by_key(kpi_records(compute_kpi(backend, "pipeline_coverage", ("rep",), "month",
                                          date(2024, 2, 1), date(2024, 3, 31), persist=False)),
                  ["rep_id"])
    assert cov[(MAR, "r1")]["flags"] == ["coverage_below_min"]
    assert cov[(MAR, "r2")]["flags"] == []
    assert cov[(FEB, "r2")]["flags"] == []
    # top customer 405/925 = 44% > 15%
    conc = kpi_records(compute_kpi(backend, "concentration_top1", (), "month",
                                   date(2024, 3, 1), date(2024, 3, 31), persist=False))
    assert conc[0]["flags"] == ["customer_over_threshold"]
    # active customers Mar 2 vs Feb 3 = −33% (> 20% drop), no year-earlier data → unexplained
    active = {r["period"]: r for r in kpi_records(
        compute_kpi(backend, "active_customers", (), "month", *Q1, persist=False))}
    assert active[MAR]["flags"] == ["active_drop"]
    assert active[FEB]["flags"] == []


def test_mart_is_persisted(backend: Any) -> None:
    table = compute_kpi(backend, "revenue", ("rep",), "month", *Q1)
    assert "mart_revenue_month_rep" in backend.list_tables()
    stored = backend.table("mart_revenue_month_rep").count().execute()
    assert stored == table.num_rows == 6


@pytest.mark.parametrize(
    ("name", "by", "period", "message"),
    [
        ("revenue", ("colour",), "month", "unknown dimension colour"),
        ("win_rate", ("product",), "month", "win_rate cannot be split by product"),
        ("churn_rate", (), None, "cannot be computed by period none"),
        ("revenue", (), "fortnight", "unknown period 'fortnight'"),
        ("revenu", (), "month", "unknown KPI 'revenu'"),
    ],
)
def test_bad_requests(duckdb_backend: Any, name: str, by: tuple[str, ...], period: str,
                      message: str) -> None:
    with pytest.raises(UserInputError, match=message):
        compute_kpi(duckdb_backend, name, by, period)


def test_fiscal_quarters_on_every_engine(backend: Any) -> None:
    """A fiscal year from December (``settings set fiscal_year_start 12``): the quarter from
    01/12/2023 holds December 140 + January 370 + February 320 = 830; the next one, cut at
    31/03/2024, March's 95."""
    from salesradar.metrics.fiscal import use_fiscal_year

    with use_fiscal_year(12):
        table = compute_kpi(backend, "revenue", (), "quarter", date(2023, 12, 1),
                            date(2024, 3, 31), persist=False)
    rows = {r["period"]: r["value"] for r in kpi_records(table)}
    assert rows == {"2023-12-01": pytest.approx(830), "2024-03-01": pytest.approx(95)}
