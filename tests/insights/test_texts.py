"""Insight wordings that have no rule test of their own: a card of many stopped items."""

from __future__ import annotations

from salesradar.insights.texts import claims_of, render


def _item(sku: str, value: float) -> dict[str, object]:
    return {"sku": sku, "sku_name": f"Item {sku}", "purchases": 6, "median_gap": 14.0,
            "gap_days": 60.0, "last_day": "2026-08-01", "value_at_stake": value,
            "returned_after_last": 0.0}


def test_a_card_of_many_items_names_the_biggest_and_counts_the_rest() -> None:
    items = [_item(sku, value) for sku, value in
             (("A", 5_000.0), ("B", 3_000.0), ("C", 2_000.0), ("D", 900.0), ("E", 600.0))]
    evidence = {"customer_id": "C1", "customer_name": "Cohen Foods", "as_of": "2026-09-30",
                "items": items, "value_at_stake": 11_500.0}
    en, he = render("stopped_item", evidence)
    assert en.what == "Cohen Foods stopped buying 5 items it bought regularly"
    assert en.why.startswith("₪12k between them, each in the year to its last purchase; Item A: "
                             "bought on 6 days, ")
    assert en.why.endswith("; and 2 more items") and "Item D" not in en.why
    assert he.why.endswith("; ועוד 2 פריטים")
    claims = claims_of("stopped_item", evidence)
    # every item keeps its claims (the audit checks the total over all five)
    assert sum(c["value"] for c in claims if c["claim"] == "value_at_stake") == 11_500.0
    assert {"claim": "setting", "value": 2, "setting": "items_not_listed"} in claims
