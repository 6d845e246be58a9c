"""The offers' product names: those of ``product_names`` (products.name, else the most frequent
line description), whether or not ``recommend_for`` could read them from products alone."""

from __future__ import annotations

import datetime as dt

import pytest

from salesradar.models.crosssell import ItemItemRecommender, recommend_for
from salesradar.models.non_product import product_names
from salesradar.workspace import Workspace

DAY = dt.date(2026, 3, 1)


def _sell(ws: Workspace) -> None:
    """Four customers who buy A, B and C, described "a line", "b line" and "c line"; C9 buys
    A only: its offers are B and C."""
    rows = [(f"C{k}", sku) for k in range(4) for sku in "ABC"] + [("C9", "A")]
    for i, (customer, sku) in enumerate(rows):
        ws.con.execute("INSERT INTO invoice_lines (invoice_id, line_no, invoice_date, "
                       "customer_id, sku, quantity, net_revenue, description) "
                       "VALUES (?, 1, ?, ?, ?, 1, 10, ?)",
                       [f"I{i}", DAY, customer, sku, f"{sku.lower()} line"])


def _names(ws: Workspace) -> dict[str, str | None]:
    offers = recommend_for(ws, ["C9"], n=5, as_of=DAY, model=ItemItemRecommender(min_support=1))
    names = dict(zip(offers["sku"].to_pylist(), offers["name"].to_pylist(), strict=True))
    # the reference: every SKU's name as product_names gives it
    reference = product_names(ws).to_pyarrow()
    every = dict(zip(reference["sku"].to_pylist(), reference["name"].to_pylist(), strict=True))
    assert names == {sku: every[sku] for sku in names}
    return names


@pytest.mark.parametrize(("products", "expected"), [
    # every offered SKU named by products: their names (read from products alone)
    ("('A', 'Anvil'), ('B', 'Bolt'), ('C', 'Clamp')", {"B": "Bolt", "C": "Clamp"}),
    # C named blank, or not at all: its most frequent description (every SKU's names)
    ("('A', 'Anvil'), ('B', 'Bolt'), ('C', '  ')", {"B": "Bolt", "C": "c line"}),
    ("('A', 'Anvil'), ('B', 'Bolt')", {"B": "Bolt", "C": "c line"}),
    # B named twice (once blank): the one name it has
    ("('B', ''), ('B', 'Bolt'), ('C', 'Clamp')", {"B": "Bolt", "C": "Clamp"}),
    # B named twice alike: that name
    ("('B', 'Bolt'), ('B', 'Bolt'), ('C', 'Clamp')", {"B": "Bolt", "C": "Clamp"}),
])
def test_offers_are_named_as_product_names_names_them(
    ws: Workspace, products: str, expected: dict[str, str]
) -> None:
    _sell(ws)
    ws.con.execute(f"INSERT INTO products (sku, name) VALUES {products}")
    assert _names(ws) == expected


def test_offers_without_products_are_named_by_their_lines(ws: Workspace) -> None:
    _sell(ws)
    assert _names(ws) == {"B": "b line", "C": "c line"}
