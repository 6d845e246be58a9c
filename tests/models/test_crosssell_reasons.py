"""A cross-sell offer's reason as a reader sees it: the products by name, the amount in the
company's currency, the same sentence in English and Hebrew, each amount said once.

Found by reading the truth audit's sample of Northwind: "22 of the 33 customers who buy 72 also
buy 59; its 30 buyers of the last year spent a median 1272 on it; worth about $1.3k a year" -
two product codes where the offer names the product, an amount without its currency, and the
same amount twice."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest

from salesradar.currency import use_currency
from salesradar.insights import Kind
from salesradar.insights.generate import generate_insights
from salesradar.insights.rules import RuleSettings
from salesradar.insights.texts import _cross_claims
from salesradar.models.crosssell import PopularityRecommender, recommend_for
from salesradar.models.crosssell.reasons import offer_reason
from salesradar.models.scoring import recommendation_reason
from salesradar.workspace import Workspace

OFFER = {"sku": "59", "name": "Raclette Courdavault", "anchor_sku": "72",
         "anchor_name": "Mozzarella di Giovanni", "anchor_buyers": 1033, "co_buyers": 22,
         "sku_buyers": 54, "year_buyers": 30, "customers": 2089, "expected_value": 1271.875}


def test_offer_reason_in_both_languages() -> None:
    with use_currency("USD"):
        assert offer_reason(OFFER) == (
            "22 of the 1,033 customers who have bought Mozzarella di Giovanni have also bought "
            "Raclette Courdavault; its 30 buyers of the last year spent a median $1.3k on it")
        assert offer_reason(OFFER, "he") == (
            "22 מתוך 1,033 הלקוחות שקנו את Mozzarella di Giovanni קנו גם את Raclette "
            "Courdavault; 30 הקונים שלו בשנה האחרונה הוציאו עליו בחציון $1.3k")
    alone = {**OFFER, "anchor_sku": None, "anchor_name": None, "anchor_buyers": 0,
             "co_buyers": 0}
    assert offer_reason(alone) == (  # the company's currency: shekels by default
        "bought by 54 of the 2,089 customers; its 30 buyers of the last year spent a median "
        "₪1.3k on it")
    assert offer_reason(alone, "he") == (
        "נקנה על ידי 54 מתוך 2,089 הלקוחות; 30 הקונים שלו בשנה האחרונה הוציאו עליו בחציון "
        "₪1.3k")


def test_a_product_without_a_name_is_its_code() -> None:
    unnamed = {**OFFER, "name": None, "anchor_name": "  "}
    assert offer_reason(unnamed, "en").startswith(  # type: ignore[union-attr]
        "22 of the 1,033 customers who have bought 72 have also bought 59;")


@pytest.mark.parametrize("missing", ["year_buyers", "expected_value", "co_buyers"])
def test_without_its_numbers_the_stored_sentence_stays(missing: str) -> None:
    """Offers scored by an older version: the page shows their stored sentence."""
    old = {**OFFER, missing: None, "reason": "the stored sentence"}
    assert offer_reason(old) is None
    assert recommendation_reason(old, "en") == "the stored sentence"
    assert recommendation_reason({**OFFER, "reason": "x"}, "he") == offer_reason(OFFER, "he")


def test_the_insight_says_the_amount_once_with_names() -> None:
    evidence = {**OFFER, "sku_name": OFFER["name"], "customer_id": "ANATR",
                "customer_name": "Ana Trujillo", "as_of": "1998-05-06", "scored_by": "popularity",
                "anchor": {"sku": "72", "name": "Mozzarella di Giovanni"},
                "reason": "22 of the 1033 customers who buy 72 also buy 59"}
    with use_currency("USD"):
        en, he, claims = _cross_claims(evidence)
    assert en.what == "Offer Raclette Courdavault to Ana Trujillo"
    assert en.why == (
        "22 of the 1,033 customers who have bought Mozzarella di Giovanni have also bought "
        "Raclette Courdavault; its 30 buyers of the last year spent a median $1.3k on it, about "
        "what it is worth a year to a customer who buys it; picked by popularity (the "
        "cross-sell model did not beat it on this data)")
    assert he.why.count("$1.3k") == 1 and "Mozzarella di Giovanni" in he.why
    assert [c["claim"] for c in claims] == ["sku_net_buyers", "median_buyer_spend",
                                            "sku_buyers", "co_buyers"]


def test_offers_carry_their_anchors_name(ws: Workspace) -> None:
    """Five buyers of A, four of them also buy C (its anchor: A); customer 9's own SKUs have one
    buyer each, so its offer has no anchor. Named from ``products``."""
    day = dt.date(2026, 10, 1)
    rows = [(c, "A") for c in "12345"] + [(c, "C") for c in "1234"] + [("9", "B"), ("9", "D")]
    for i, (customer, sku) in enumerate(rows):
        ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, "
                       "customer_id, sku, quantity, net_revenue) VALUES (?, 1, ?, ?, ?, 1, 10)",
                       [f"I{i}", day, customer, sku])
    ws.con.execute("INSERT INTO products (sku, name, active) VALUES ('A', 'Anchor bolt', true), "
                   "('B', 'Bolt', true), ('C', 'Clamp', true), ('D', 'Drill', true)")
    offers = recommend_for(ws, ["5", "9"], n=1, model=PopularityRecommender(min_support=5))
    got = [(r["customer_id"], r["sku"], r["name"], r["anchor_sku"], r["anchor_name"])
           for r in offers.to_pylist()]
    assert got == [("5", "C", "Clamp", "A", "Anchor bolt"), ("9", "A", "Anchor bolt", None, None)]


def test_one_buyer_is_not_a_median() -> None:
    """The 360 page lists every offer: one buyer's spend is its own, not a median."""
    one = {**OFFER, "year_buyers": 1}
    assert offer_reason(one).endswith(  # type: ignore[union-attr]
        "; its one buyer of the last year spent ₪1.3k on it")
    assert offer_reason(one, "he").endswith(  # type: ignore[union-attr]
        "; הקונה היחיד שלו בשנה האחרונה הוציא עליו ₪1.3k")
    assert offer_reason({**OFFER, "year_buyers": 0}).endswith(  # type: ignore[union-attr]
        "; nobody bought it in the last year")


def test_an_offer_is_worth_telling_only_with_enough_buyers(ws: Workspace) -> None:
    """Found on the 10M-line benchmark company: 91 of its 230 offers stated "a median" of one
    to four buyers' spend (60 of one buyer: "its 1 buyers of the last year spent a median
    ₪372k on it") and, being the biggest amounts, came first for their reps. The rule tells
    an offer only when ``cross_sell_min_buyers`` customers (5) bought the SKU that year."""
    ws.con.execute("INSERT INTO reps (rep_id, name) VALUES ('R1', 'Rep')")
    ws.con.execute("INSERT INTO customers (customer_id, name, rep_id) VALUES "
                   "('C1', 'Five', 'R1'), ('C2', 'Four', 'R1')")
    offers = pa.table({
        "customer_id": ["C1", "C2"], "sku": ["X", "Y"], "score": [0.9, 0.9], "rank": [1, 1],
        "reason": ["", ""], "expected_value": [2_000.0, 50_000.0],
        "anchor_sku": pa.array([None, None], pa.string()), "anchor_buyers": [0, 0],
        "co_buyers": [0, 0], "sku_buyers": [9, 6], "year_buyers": [5, 4],
        "customers": [40, 40], "name": ["Xylophone", "Yoyo"],
        "anchor_name": pa.array([None, None], pa.string()), "scored_by": ["model", "model"]})
    ws.con.register("offers", offers)
    ws.con.execute("CREATE TABLE score_cross_sell AS SELECT * FROM offers")
    day = dt.date(2026, 10, 1)
    found = generate_insights(ws, day, kinds=[Kind.CROSS_SELL])
    assert [i.subject.id for i in found] == ["C1/X"]
    assert found[0].en.why.startswith("bought by 9 of the 40 customers; its 5 buyers of the "
                                      "last year spent a median ₪2.0k on it, about what")
    looser = RuleSettings(cross_sell_min_buyers=4)
    found = generate_insights(ws, day, settings=looser, kinds=[Kind.CROSS_SELL])
    assert sorted(i.subject.id for i in found) == ["C1/X", "C2/Y"]
