"""Non-product codes: detection by name (English, Hebrew) and by pattern, the company's overrides
both ways, the names of SKUs from invoice-line descriptions, and the models leaving them out."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from salesradar.io.importer import import_file
from salesradar.models.crosssell import ItemItemRecommender, recommend_for
from salesradar.models.non_product import (
    NonProductRules,
    clear_non_product,
    detect_non_product,
    non_product_codes,
    non_product_report,
    product_names,
    set_non_product,
)
from salesradar.models.stopped_items import StoppedItemsModel
from salesradar.workspace import Workspace

from .invoice_helpers import day, insert

# invoice k (1..8) of customer C((k-1) % 4 + 1) on day k: one product line, POSTAGE on 7 of 8
PRODUCTS = {"P0": "Blue mug", "P1": "BIRD FEEDER", "P2": "FRENCH CARRIAGE LANTERN"}


def _lines() -> list[tuple[str, int, str, str, float, float, str]]:
    """(invoice, day, customer, sku, quantity, revenue, description)."""
    rows = []
    for k in range(1, 9):
        invoice, customer, sku = f"I{k}", f"C{(k - 1) % 4 + 1}", f"P{k % 3}"
        rows.append((invoice, k, customer, sku, 6.0, 30.0, PRODUCTS[sku]))
        if k <= 7:
            rows.append((invoice, k, customer, "SHIP", 1.0, 5.0, "POSTAGE"))
    rows.append(("I8", 8, "C4", "H1", 1.0, 12.0, "דמי טיפול"))  # handling fee
    rows.append(("I8", 8, "C4", "G1", 2.0, 20.0, "משחק דמיון"))  # a make-believe game
    return rows


def _insert_lines(ws: Workspace, rows: list[tuple[str, int, str, str, float, float, str]]) -> None:
    insert(ws, "invoice_lines", {
        "invoice_id": [r[0] for r in rows],
        "line_no": list(range(1, len(rows) + 1)),
        "invoice_date": pa.array([day(r[1]) for r in rows], type=pa.date32()),
        "customer_id": [r[2] for r in rows],
        "sku": [r[3] for r in rows],
        "quantity": pa.array([r[4] for r in rows], type=pa.float64()),
        "net_revenue": pa.array([r[5] for r in rows], type=pa.float64()),
        "description": [r[6] for r in rows],
    })


@pytest.fixture
def shop() -> Workspace:
    ws = Workspace.open(":memory:")
    _insert_lines(ws, _lines())
    return ws


def test_names_detect_fees_in_english_and_hebrew_but_not_products(shop: Workspace) -> None:
    found = detect_non_product(shop)
    assert found["sku"].to_pylist() == ["SHIP", "H1"]  # most lines first
    assert found["rule"].to_pylist() == ["name", "name"]
    assert found["reason"].to_pylist() == ["named like a fee or charge: 'POSTAGE'",
                                           "named like a fee or charge: 'דמי טיפול'"]
    # SHIP: 7 of the 8 sales invoices, 4 customers
    ship = found.to_pylist()[0]
    assert (ship["invoices"], ship["customers"]) == (7, 4)
    assert ship["invoice_share"] == pytest.approx(7 / 8)
    # BIRD FEEDER (fee inside a word), FRENCH CARRIAGE LANTERN (fee word mid-name) and
    # משחק דמיון (דמי inside a word) are products
    assert non_product_codes(shop) == ["H1", "SHIP"]


@pytest.mark.parametrize(("name", "fee"), [
    ("POSTAGE", True), ("Next Day Carriage", True), ("PACKING CHARGE", True),
    ("Bank Charges", True), ("AMAZON FEE", True), ("Adjust bad debt", True),
    ("Discount 10%", True), ("דמי משלוח", True), ("עמלת בנק", True), ("הנחה", True),
    ("הובלה לאילת", True), ("דוגמה", True),
    ("BIRD FEEDER", False), ("PHONE CHARGER", False), ("SET OF 6 POSTCARDS", False),
    ("FRENCH CARRIAGE LANTERN", False), ("YELLOW EASTER EGG HUNT START POST", False),
    ("משחק דמיון", False), ("מתאמה", False), ("עמלן", False),
])
def test_name_rule_whole_words_at_either_end(name: str, fee: bool) -> None:
    ws = Workspace.open(":memory:")
    _insert_lines(ws, [("I1", 1, "C1", "X1", 3.0, 30.0, name)])
    assert detect_non_product(ws)["sku"].to_pylist() == (["X1"] if fee else [])


def test_codes_without_names_are_found_by_their_pattern(shop: Workspace) -> None:
    lines = shop.table("invoice_lines").drop("description")
    assert detect_non_product(lines).num_rows == 0  # the default thresholds need more data
    rules = NonProductRules(min_customers=4, min_catalogue=3, min_invoice_share=0.8,
                            fee_min_lines=7)
    found = detect_non_product(lines, rules).to_pylist()
    assert [r["sku"] for r in found] == ["SHIP"]
    # 7 of 8 invoices; quantity 1 on its 7 lines, on 8 of 17 lines overall (H1 and SHIP)
    assert found[0]["rule"] == "invoice_share+fee_quantity"
    assert found[0]["reason"] == (
        "on 87.5% of all sales invoices (7 of 8 sales invoices), 4 customers; "
        "quantity 1 on 100.0% of its 7 lines (all lines: 47.1%)"
    )


def test_price_spread_finds_amounts_typed_per_invoice() -> None:
    ws = Workspace.open(":memory:")
    amounts = [1.0, 2.0, 5.0, 40.0, 90.0, 300.0, 700.0, 1.5, 3.0, 800.0]
    rows = [(f"I{i}", i, "C1", "M9", 1.0, a, "") for i, a in enumerate(amounts)]
    rows += [(f"I{i}", i, "C1", "P0", 4.0, 8.0, "") for i in range(10)]
    _insert_lines(ws, rows)
    found = detect_non_product(ws).to_pylist()
    assert [(r["sku"], r["rule"]) for r in found] == [("M9", "price_spread")]
    # 10th percentile 1.45, 90th 710 (linear interpolation): 490-fold
    assert found[0]["reason"].startswith(
        "unit price varies 490-fold over its 10 lines, 10 different prices")
    # the same spread over a handful of price points is a product sold at several prices
    few = [(f"I{i}", i, "C1", "M9", 1.0, [1.0, 40.0, 300.0][i % 3], "") for i in range(10)]
    ws = Workspace.open(":memory:")
    _insert_lines(ws, few + [r for r in rows if r[3] == "P0"])
    assert detect_non_product(ws).num_rows == 0


def test_the_company_overrides_both_ways(shop: Workspace) -> None:
    at = dt.datetime(2026, 1, 5, 9, 0)
    set_non_product(shop, "SHIP", False, set_by="dana", at=at)  # our postage is a product
    set_non_product(shop, "P1", True, set_by="dana", at=at)  # and the feeder is a freebie
    assert non_product_codes(shop) == ["H1", "P1"]
    report = {r["sku"]: r for r in non_product_report(shop).to_pylist()}
    assert (report["SHIP"]["non_product"], report["SHIP"]["source"]) == (False, "set_product")
    assert (report["P1"]["non_product"], report["P1"]["source"]) == (True, "set")
    assert (report["P1"]["name"], report["P1"]["set_by"], report["P1"]["set_at"]) == (
        "BIRD FEEDER", "dana", at)
    assert report["H1"]["source"] == "detected"
    assert clear_non_product(shop, "SHIP") and not clear_non_product(shop, "SHIP")
    assert non_product_codes(shop) == ["H1", "P1", "SHIP"]


def test_cli_lists_and_overrides(tmp_path: Path) -> None:
    from salesradar.cli.main import app

    path = tmp_path / "ws.duckdb"
    with Workspace.open(path) as ws:
        _insert_lines(ws, _lines())
    runner = CliRunner()

    def run(*args: str) -> dict[str, object]:
        result = runner.invoke(app, ["products", "non-product", *args, "--workspace",
                                     str(path), "--json"])
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.output)
        return data

    listed = run("--list")
    assert [c["sku"] for c in listed["codes"]] == ["SHIP", "H1"]  # type: ignore[attr-defined]
    changed = run("--remove", "SHIP", "--by", "dana")
    assert changed["changed"] == {"sku": "SHIP", "non_product": False}
    codes = {c["sku"]: c for c in changed["codes"]}  # type: ignore[attr-defined]
    assert codes["SHIP"]["non_product"] is False and codes["SHIP"]["set_by"] == "dana"
    run("--add", "G1")
    with Workspace.open(path) as ws:
        assert non_product_codes(ws) == ["G1", "H1"]
    run("--reset", "SHIP")
    with Workspace.open(path) as ws:
        assert non_product_codes(ws) == ["G1", "H1", "SHIP"]


def test_product_names_from_descriptions_unless_products_names_them() -> None:
    ws = Workspace.open(":memory:")
    _insert_lines(ws, [
        ("I1", 1, "C1", "A", 1.0, 5.0, "Blue mug"),
        ("I2", 2, "C1", "A", 1.0, 5.0, "BLUE MUG 6PK"),
        ("I3", 3, "C2", "A", 1.0, 5.0, "Blue mug"),
        ("I3", 3, "C2", "B", 1.0, 5.0, "Red mug"),
        ("I4", 4, "C2", "C", 1.0, 5.0, ""),
    ])
    insert(ws, "products", {"sku": ["B", "Z"], "name": ["Red mug, large", "Zebra"]})
    names = product_names(ws).order_by("sku").to_pyarrow().to_pylist()
    assert names == [{"sku": "A", "name": "Blue mug"}, {"sku": "B", "name": "Red mug, large"},
                     {"sku": "C", "name": None}, {"sku": "Z", "name": "Zebra"}]


def test_models_never_offer_or_flag_non_products() -> None:
    """C1 buys P and POSTAGE every 10 days and stops both; C2 keeps buying them; C3 buys Q."""
    rows: list[tuple[str, int, str, str, float, float, str]] = []
    for d in range(0, 210, 10):
        k = len(rows)
        if d <= 100:
            rows += [(f"A{k}", d, "C1", "P", 1.0, 50.0, "Teapot"),
                     (f"A{k}", d, "C1", "SHIP", 1.0, 5.0, "POSTAGE")]
        rows += [(f"B{k}", d, "C1", "Q", 2.0, 20.0, "Cup"),
                 (f"C{k}", d, "C2", "P", 1.0, 50.0, "Teapot"),
                 (f"C{k}", d, "C2", "SHIP", 1.0, 5.0, "POSTAGE")]
    ws = Workspace.open(":memory:")
    _insert_lines(ws, rows)
    model = StoppedItemsModel().fit(ws, day(200))
    assert model.excluded_skus_ == ["SHIP"]
    flags = model.flags()
    assert set(zip(flags["customer_id"].to_pylist(), flags["sku"].to_pylist(),
                   strict=True)) == {("C1", "P")}
    assert flags["name"].to_pylist() == ["Teapot"]  # from the lines' descriptions
    kept = StoppedItemsModel(exclude_non_products=False).fit(ws, day(200)).flags()
    assert "SHIP" in kept["sku"].to_pylist()  # what the exclusion prevents
    recs = recommend_for(ws, ["C2"], n=5, model=ItemItemRecommender(min_support=1))
    assert recs["sku"].to_pylist() == ["Q"] and recs["name"].to_pylist() == ["Cup"]


def test_a_detection_serves_the_refit_week_and_corrections_apply_at_once(tmp_path: Path) -> None:
    """The detection of day D is reused for the runs of D to D + 6 while the lines change by
    at most 5% and no SKU code or product name is new; a new code, a renamed product, the
    company's corrections apply at once; a week later (or ``fresh``) the codes are detected
    again. What may wait for that: new evidence on the lines of a code seen before."""
    rows = _lines() + [(f"X{k}", 1 + k % 8, f"C{k % 4 + 1}", "P0", 3.0, 15.0, "Blue mug")
                       for k in range(40)]
    path = tmp_path / "ws.duckdb"
    saved = tmp_path / "ws.duckdb.models" / "non_product.json"
    with Workspace.open(path) as ws:
        _insert_lines(ws, rows)
        assert non_product_codes(ws) == ["H1", "SHIP"]  # detected on day 8, 57 lines
        # a new code: detected at once
        _insert_lines(ws, [("F9", 9, "C1", "FEE9", 1.0, 7.0, "Delivery charge")])
        assert non_product_codes(ws) == ["FEE9", "H1", "SHIP"]
        set_non_product(ws, "P1", True, set_by="dana")
        assert non_product_codes(ws) == ["FEE9", "H1", "P1", "SHIP"]  # a correction: at once
        clear_non_product(ws, "P1")
        # the make-believe game G1 now mostly described as a delivery charge: 2 more lines
        # (+3.4%) of a known code the day after, so the week's detection serves
        _insert_lines(ws, [(f"G{k}", 10, "C2", "G1", 1.0, 9.0, "Delivery charge")
                           for k in (1, 2)])
        assert non_product_codes(ws) == ["FEE9", "H1", "SHIP"]
        assert json.loads(saved.read_text())["detected_on"] == day(9).isoformat()
        assert non_product_codes(ws, fresh=True) == ["FEE9", "G1", "H1", "SHIP"]
        # a product named like a fee in an imported products table: detected at once
        (tmp_path / "products.csv").write_text("sku,name\nP2,Shipping fee\n")
        import_file(ws, "products", tmp_path / "products.csv")
        assert non_product_codes(ws) == ["FEE9", "G1", "H1", "P2", "SHIP"]
        # seven days after the last detection (day 10): detected again
        _insert_lines(ws, [("F17", 17, "C3", "P0", 3.0, 15.0, "Blue mug")])
        non_product_codes(ws)
    assert (json.loads(saved.read_text())["detected_on"],
            json.loads(saved.read_text())["lines"]) == (day(17).isoformat(), 61)
