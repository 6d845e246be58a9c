"""``detect_non_product`` counts the distinct (SKU, invoice) and (SKU, customer) pairs only for
the SKUs that need them; what it detects, and every number it reports, must be what the rules
give on the full facts of every SKU (DuckDB's own ``count(DISTINCT ...)`` and
``quantile_cont``: the reference query of ``test_non_product_facts``)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from salesradar.models.non_product import NonProductRules, detect_non_product

from .test_non_product_facts import PRICE, REFERENCE, Line, _table

# SKU codes and whether their name is a fee's (no products table, no descriptions: the name
# rule reads the code)
NAMED = {"POST": True, "FEE": True, "BIRD FEEDER": False, "S1": False, "S2": False,
         "S3": False, None: False}
LINE = st.tuples(
    st.sampled_from(["I1", "I2", "I3", "I4", "I5", "I6", "I7", "I8", None]),
    st.sampled_from([None, "C1", "C2", "C3", "C4"]),
    st.sampled_from(list(NAMED)),
    st.sampled_from([None, 0.0, 1.0, 1.0, -1.0, 2.0, 3.0, -7.0, 0.5]),
    PRICE,
)
RULES = st.builds(
    NonProductRules,
    min_invoice_share=st.sampled_from([0.0, 0.1, 0.3, 0.6, 1.0]),
    min_customers=st.sampled_from([0, 1, 2, 3]),
    min_catalogue=st.sampled_from([0, 1, 3]),
    fee_min_lines=st.sampled_from([0, 1, 3, 100]),
    fee_quantity_one=st.sampled_from([0.0, 0.5, 1.0]),
    max_overall_quantity_one=st.sampled_from([0.5, 1.01]),
    spread_min_lines=st.sampled_from([0, 2, 100]),
    # 0 included: a SKU without a spread (no price above zero) is still not detected by it
    min_price_spread=st.sampled_from([0.0, 0.5, 1.5, 5.0]),
    min_distinct_prices=st.sampled_from([0, 1, 2]),
)


def _expected(facts: list[dict[str, Any]], rules: NonProductRules) -> list[tuple[Any, ...]]:
    """The rules applied to the reference facts, by hand: the detected rows' numbers."""
    out = []
    for f in facts:
        held = []
        if NAMED[f["sku"]]:
            held.append("name")
        if ((f["invoice_share"] or 0.0) >= rules.min_invoice_share
                and f["customers"] >= rules.min_customers
                and f["all_skus"] >= rules.min_catalogue):
            held.append("invoice_share")
        if (f["lines"] >= rules.fee_min_lines
                and f["quantity_one_share"] >= rules.fee_quantity_one
                and f["all_quantity_one_share"] < rules.max_overall_quantity_one):
            held.append("fee_quantity")
        if (f["lines"] >= rules.spread_min_lines and f["prices"] >= rules.min_distinct_prices
                and f["price_spread"] is not None
                and f["price_spread"] >= rules.min_price_spread):
            held.append("price_spread")
        if held:
            out.append((f["sku"], "+".join(held), f["lines"], f["invoices"],
                        f["invoice_share"], f["customers"]))
    return sorted(out, key=lambda r: (-r[2], r[0] is None, r[0] or ""))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(LINE, max_size=50), RULES)
def test_detected_as_the_rules_on_every_skus_full_facts(
    rows: list[Line], rules: NonProductRules
) -> None:
    table, con = _table(rows)
    facts = con.con.sql(REFERENCE).to_arrow_table().to_pylist()
    found = detect_non_product(table, rules).to_pylist()
    got = [(r["sku"], r["rule"], r["lines"], r["invoices"], r["invoice_share"], r["customers"])
           for r in found]
    assert sorted(got, key=lambda r: (-r[2], r[0] is None, r[0] or "")) == \
        _expected(facts, rules)
    assert all(r["reason"] for r in found)
