"""Churn features, labels, leakage, calibration and the model's contract."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from salesradar.errors import UserInputError
from salesradar.models import NotFittedError
from salesradar.models.cadence import customer_terms
from salesradar.models.churn import ChurnModel, build_features, training_cutoffs
from salesradar.models.features import churn_features, churn_labels

from .invoice_helpers import day, insert, simulated, workspace

# customer A orders every 10 days from day 0 to day 50 and then stops; B orders on days 80, 85
REGULAR = [("A", d, "X", 100.0) for d in range(0, 60, 10)] + [
    ("B", 80, "X", 50.0),
    ("B", 85, "Y", 70.0),
    ("B", 85, "X", -20.0),  # a return on a purchase day: netted into revenue
]
CUTOFF = day(90)

FAST = {"n_estimators": 40, "calibration_folds": 2, "snapshots": 4, "min_leaf": 20}


def _features(ws: object, cutoff: dt.date) -> dict[str, dict[str, float]]:
    table = churn_features(ws.table("invoice_lines"), [cutoff]).to_pyarrow()  # type: ignore[attr-defined]
    return {row["customer_id"]: row for row in table.to_pylist()}


def test_features_by_hand() -> None:
    f = _features(workspace(REGULAR), CUTOFF)
    a, b = f["A"], f["B"]
    assert a["recency_days"] == 40  # last order on day 50
    assert a["median_gap"] == 10 and a["mean_gap"] == 10
    assert a["gap_ratio"] == pytest.approx(4.0)
    assert a["gap_cv"] == pytest.approx(0.0)
    assert a["purchase_days"] == 6 and a["tenure_days"] == 90
    # window w1 = days 1..90 (age < 90), w2 = the 90 before: orders on 10..50 and on day 0
    assert (a["orders_w1"], a["orders_w2"]) == (5, 1)
    assert a["revenue_w1"] == 500 and a["revenue_365"] == 600
    assert a["order_trend"] == pytest.approx((5 - 1) / (5 + 1))
    assert a["recency_2nd"] == 50 and a["recency_3rd"] == 60
    assert b["purchase_days"] == 2 and b["recency_days"] == 5
    assert b["revenue_w1"] == pytest.approx(100.0)  # 50 + 70 - 20
    assert b["returns_share"] == pytest.approx(20 / 120)
    assert b["skus_w1"] == 2
    assert b["gap_ratio"] == pytest.approx(1.0)
    assert a["margin_rate"] is None  # no cost column values
    assert a["late_share"] is None and a["contacts"] is None  # tables without rows


# SKU breadth at day 500 (window 90: w1 = ages 0..89, w2 = ages 90..179, the year = ages
# 0..364): X sold at ages 10 and 100 (both windows), Y twice at age 95 (two lines, one SKU),
# Z at age 200 (the year only), W at age 400 (too old), V only returned (age 5: not a sale)
BREADTH = [
    ("D", 490, "X", 10.0), ("D", 400, "X", 10.0), ("D", 405, "Y", 5.0), ("D", 405, "Y", 6.0),
    ("D", 300, "Z", 7.0), ("D", 100, "W", 8.0), ("D", 495, "V", -3.0),
]


def test_sku_breadth_by_hand() -> None:
    d = _features(workspace(BREADTH), day(500))["D"]
    assert (d["skus_w1"], d["skus_w2"], d["skus_365"]) == (1, 2, 3)
    assert d["sku_trend"] == pytest.approx((1 - 2) / (1 + 2))
    # at two cutoffs at once each is counted alone: at day 410, X (age 10) and Y (age 5) in
    # w1, Z (age 110) in w2, and W (age 310) in the year; X's sale on day 490 is in the future
    both = churn_features(workspace(BREADTH).table("invoice_lines"), [day(410), day(500)])
    rows = {r["as_of"]: r for r in both.to_pyarrow().to_pylist()}
    assert (rows[day(410)]["skus_w1"], rows[day(410)]["skus_w2"],
            rows[day(410)]["skus_365"]) == (2, 1, 4)


# "this season last year" at day 400 with a 90-day season is days 36..125: the data start on
# day 0; A buys on days 35 (just before), 40, 100 (with a return), 125 (the last day) and 126
# (just after); C only returns something on day 60 and first buys on day 390; B first buys on 380
SEASONAL = [
    ("A", 0, "X", 10.0), ("A", 35, "X", 5.0), ("A", 40, "X", 100.0), ("A", 100, "X", 50.0),
    ("A", 100, "Y", -20.0), ("A", 125, "X", 30.0), ("A", 126, "X", 70.0), ("A", 390, "X", 1.0),
    ("C", 60, "X", -15.0), ("C", 390, "X", 40.0), ("B", 380, "Y", 60.0),
]


def _last_season(cutoff: int, **kwargs: int) -> dict[str, tuple[object, object]]:
    table = churn_features(workspace(SEASONAL).table("invoice_lines"), [day(cutoff)], **kwargs)
    return {r["customer_id"]: (r["orders_last_season"], r["revenue_last_season"])
            for r in table.to_pyarrow().to_pylist()}


def test_this_season_last_year_by_hand() -> None:
    got = _last_season(400)
    assert got["A"] == (3, pytest.approx(100 + 50 - 20 + 30))  # days 40, 100, 125
    assert got["C"] == (0, pytest.approx(-15.0))  # a return is no purchase, but it is netted
    assert got["B"] == (0, 0)  # not yet a customer a year ago: nothing, not unknown
    assert _last_season(400, season_days=30)["A"] == (1, pytest.approx(100.0))  # days 36..65
    # the data reach back exactly a year at day 365 (days 1..90: days 35 and 40), not at 364
    assert _last_season(365)["A"] == (2, pytest.approx(105.0))
    assert _last_season(364)["A"] == (None, None)
    # the churn model's season is its horizon
    frame = build_features(workspace(SEASONAL), [day(400)], horizon_days=30)
    a = list(frame.customer_id).index("A")
    assert frame.columns["orders_last_season"][a] == 1
    for wrong in (0, 366):
        with pytest.raises(UserInputError, match="season_days"):
            _last_season(400, season_days=wrong)


def test_labels_use_only_the_horizon() -> None:
    ws = workspace([*REGULAR, ("B", 150, "X", 30.0), ("A", 200, "X", 10.0)])
    labels = churn_labels(ws.table("invoice_lines"), [CUTOFF], horizon_days=90).to_pyarrow()
    got = {r["customer_id"]: r for r in labels.to_pylist()}
    assert got["A"]["churned"] is True  # next order on day 200 > 90 + 90
    assert got["B"]["churned"] is False and got["B"]["next_revenue"] == 30
    assert got["A"]["last_revenue"] == 500  # days 1..90


def test_no_leakage_from_after_the_cutoff() -> None:
    before = _features(workspace(REGULAR), CUTOFF)
    future = [("A", 95, "Z", 1e6), ("B", 91, "X", -5000.0), ("C", 100, "X", 10.0)]
    after = _features(workspace([*REGULAR, *future]), CUTOFF)
    assert after == before  # same customers, same values: nothing after the cutoff is read


def test_training_cutoffs_never_look_past_the_cutoff() -> None:
    cutoffs = training_cutoffs(dt.date(2026, 9, 30), 90, 3, 30)
    assert max(cutoffs) + dt.timedelta(days=90) == dt.date(2026, 9, 30)
    assert len(cutoffs) == 3


@pytest.fixture(scope="module")
def sim() -> object:
    return simulated(customers=400, days=540, seed=3)


@pytest.fixture(scope="module")
def fitted(sim: object) -> ChurnModel:
    return ChurnModel(90, **FAST).fit(sim, day(449))  # type: ignore[arg-type]


def test_calibration_on_simulated_data(sim: object, fitted: ChurnModel) -> None:
    cutoff = day(449)
    frame = build_features(sim, [cutoff])
    proba = fitted.predict_proba_features(frame)
    assert ((proba >= 0) & (proba <= 1)).all()
    labels = churn_labels(sim.table("invoice_lines"), [cutoff]).order_by("customer_id")  # type: ignore[attr-defined]
    churned = np.asarray(labels.to_pyarrow()["churned"].to_numpy(zero_copy_only=False), float)
    assert abs(proba.mean() - churned.mean()) < 0.08


def test_score_and_explain(sim: object, fitted: ChurnModel) -> None:
    scores = fitted.score(sim, day(449))
    assert scores.column_names[:5] == [
        "customer_id", "as_of", "churn_probability", "expected_revenue", "revenue_at_risk",
    ]
    risk = scores["revenue_at_risk"].to_numpy()
    assert (np.diff(risk) <= 1e-9).all()  # highest first
    assert len(set(scores["customer_id"].to_pylist())) == scores.num_rows
    proba = scores["churn_probability"].to_numpy()
    expected = scores["expected_revenue"].to_numpy()
    np.testing.assert_allclose(risk, proba * expected)
    customer = scores["customer_id"][0].as_py()
    lines = fitted.explain(customer, currency="£")
    assert "at stake" in lines[0] and "£" in lines[0]
    assert "chance of no order in the next 90 days" in lines[1]


def test_explain_in_the_customers_terms(fitted: ChurnModel) -> None:
    ws = workspace(REGULAR)
    fitted.score(ws, CUTOFF)
    first = fitted.explain("A", currency="₪")[0]
    # A: 6 purchase days 10 apart (a rhythm), the last on day 50, 40 days before the cutoff;
    # money at stake: its lines in (50 - 365, 90]: 6 x 100 = 600, as bought (no pace, no
    # scaling to a quarter)
    assert first == ("orders every ~10 days; last order 40 days ago (past its rhythm; its "
                     "longest pause before was 10 days); ₪600 at stake: its net purchases in "
                     "the year to its last order")
    # B: two purchase days (80 and 85) are a fact, not a rhythm; 50 + 70 - 20 = 100
    assert fitted.explain("B")[0] == (
        "bought twice, 5 days apart; last order 5 days ago; ₪100 at stake: its net purchases "
        "in the year to its last order"
    )


def test_unfitted_use_raises() -> None:
    model = ChurnModel()
    ws = workspace(REGULAR)
    with pytest.raises(NotFittedError):
        model.score(ws, CUTOFF)
    with pytest.raises(NotFittedError):
        model.explain("A")
    with pytest.raises(NotFittedError):
        model.predict_proba_features(build_features(ws, [CUTOFF]))


def test_payments_and_contacts_features() -> None:
    ws = workspace(REGULAR)
    insert(ws, "payments", {
        "invoice_id": ["P1", "P2", "P3"],
        "customer_id": ["A", "A", "A"],
        "due_date": [day(20), day(40), day(80)],
        "paid_date": [day(20), day(50), day(120)],  # on time, 10 days late, open at the cutoff
        "amount": [1.0, 1.0, 1.0],
    })
    insert(ws, "contacts", {"contact_id": ["K1", "K2"], "customer_id": ["A", "A"],
                            "level": ["finance", "executive"]})
    from salesradar.models.features import CustomerTables

    table = churn_features(CustomerTables.from_workspace(ws), [CUTOFF]).to_pyarrow()
    a = {r["customer_id"]: r for r in table.to_pylist()}["A"]
    assert a["late_share"] == pytest.approx(2 / 3)
    assert a["mean_days_late"] == pytest.approx((0 + 10 + 10) / 3)  # open one: 90 - 80
    assert a["overdue_open"] == 1
    assert (a["contacts"], a["contact_levels"]) == (2, 2)
    b = {r["customer_id"]: r for r in table.to_pylist()}["B"]
    assert b["contacts"] == 0


def test_hist_gradient_boosting_estimator(sim: object) -> None:
    model = ChurnModel(90, estimator="hist_gradient_boosting", **FAST).fit(sim, day(449))  # type: ignore[arg-type]
    scores = model.score(sim, day(449))
    proba = scores["churn_probability"].to_numpy()
    assert ((proba >= 0) & (proba <= 1)).all()


def test_bg_expected_purchases_when_a_plus_b_below_one() -> None:
    # fitted on a short UCI snapshot: a + b < 1 makes 2F1's third parameter negative for x = 0,
    # where the Euler-transformed 2F1 is negative (rhythm.py took its log: NaN and a warning)
    from scipy.special import hyp2f1  # type: ignore[import-untyped, unused-ignore]

    from salesradar.models.rhythm import BetaGeoModel, BetaGeoParams

    p = BetaGeoParams(0.5307, 30.92, 0.09003, 0.4081)
    model = BetaGeoModel()
    model.params_ = p
    big_t, t = np.array([27.0, 1.0]), 90.0
    got = model.expected_purchases(t, [0.0, 0.0], [0.0, 0.0], big_t)
    z = t / (p.alpha + big_t + t)
    direct = (p.a + p.b - 1) / (p.a - 1) * (
        1 - ((p.alpha + big_t) / (p.alpha + big_t + t)) ** p.r * hyp2f1(p.r, p.b, p.a + p.b - 1, z)
    )  # x = 0: always alive, so the conditional expectation is the answer
    np.testing.assert_allclose(got, direct, rtol=1e-9)


def test_a_sale_and_its_cancellation_net_to_exactly_zero() -> None:
    """0.1 + 0.2 - 0.3 is 5.6e-17 in floating point, in any order of addition; the engine adds
    in a run-dependent order, so such residues made the revenue trend flip between 1.0
    (tiny / tiny) and null (0 / 0) from one run to the next. Money sums are rounded."""
    rows = [("N", 10, "X", 0.1), ("N", 10, "Y", 0.2), ("N", 10, "Z", -0.3), ("N", 150, "X", 5.0)]
    # cutoff day 160: day 10 (150 days old) is in the 90 days before the last 90 (w2), day 150
    # in the last 90 (w1)
    n = _features(workspace(rows), day(160))["N"]
    assert n["revenue_w2"] == 0.0  # 0.1 + 0.2 - 0.3, exactly
    assert n["revenue_trend"] == pytest.approx(1.0)  # (5 - 0) / (5 + 0)
    # cutoff day 100: only day 10 (90 days old, w2) counts: 0 / 0, not -5.6e-17 / 5.6e-17 = -1
    assert _features(workspace(rows), day(100))["N"]["revenue_trend"] is None


def test_scores_carry_each_customers_value_at_stake(sim: object, fitted: ChurnModel) -> None:
    scores = fitted.score(sim, day(449)).to_pylist()
    terms = customer_terms(sim.table("invoice_lines"), day(449)).to_pyarrow()  # type: ignore[attr-defined]
    worth = dict(zip(terms["customer_id"].to_pylist(), terms["value_at_stake"].to_pylist(),
                     strict=True))
    gaps = dict(zip(terms["customer_id"].to_pylist(), terms["typical_gap_days"].to_pylist(),
                    strict=True))
    assert scores and all(row["customer_id"] in worth for row in scores)
    for row in scores:
        assert row["value_at_stake"] == pytest.approx(worth[row["customer_id"]])
        # the rhythm shown is the one definition: none below three purchase days
        assert row["median_gap_days"] == gaps[row["customer_id"]]
        assert (row["median_gap_days"] is None) == (row["purchase_days"] < 3)
        # every reason stated is one whose direction holds, with its claims
        for group, text in zip(row["reason_groups"], row["reasons"], strict=True):
            assert (group != "rhythm" and any(ch.isdigit() for ch in text)) or group in (
                "season", "contacts")
