"""Non-product codes: postage, fees, discounts, manual adjustments, bank charges, samples.

Such codes sit on invoice lines like products but are not something a customer can be offered
or can stop buying. They are detected from the data itself, never from a list of one data set:

- **name**: the code, or the SKU's name (``products.name``, else the most frequent
  ``invoice_lines.description``), has a fee word as a whole word at its start or its end (the
  head noun: "PACKING CHARGE", "Next Day Carriage", "דמי משלוח") -- English postage, post,
  shipping, freight, delivery, carriage, fee, charge, discount, adjust(ment), manual, sample,
  commission; Hebrew משלוח, דמי, הנחה, עמלה, התאמה, דוגמה, הובלה (and their plural and
  construct forms). A fee word inside a product's name ("FRENCH CARRIAGE LANTERN") or inside a
  longer word ("BIRD FEEDER", "דמיון") is not a match, nor is a name of more than
  :attr:`NonProductRules.max_name_words` words.
- **invoice share**: the code is on at least ``min_invoice_share`` (20%) of all sales invoices,
  bought by at least ``min_customers`` customers, in a catalogue of at least ``min_catalogue``
  SKUs (a delivery fee charged on most orders). On UCI Online Retail I no real product comes
  near: the most frequent, 85123A, is on 10.7% of the 18,532 sales invoices; POST is on 5.9%
  (1,099), below 7 real products, so POST is found by its name, not by this rule.
- **fee-like quantity**: at least ``fee_min_lines`` lines of which at least 95% have quantity
  ±1, where the data as a whole is not sold in ones (under half of all lines have quantity ±1).
  On UCI I this finds C2 CARRIAGE (134 lines) and 23444 "Next Day Carriage" (80); the first
  real product with such a pattern has 10 lines.
- **price spread**: at least ``spread_min_lines`` lines whose unit price (revenue ÷ quantity)
  varies by a factor of ``min_price_spread`` (20) or more between its 10th and 90th
  percentile, over at least ``min_distinct_prices`` (10) different unit prices: an amount
  typed per invoice, not a price. On UCI I: M "Manual" (2,256×, 184 prices), DOT (102×, 16),
  CRUK (70×, 16); no real product with 10 lines or more exceeds 12.7×. In the raw file (with
  the lines that have no customer) some products vary 21-75× but over at most 7 prices, while
  M, S (SAMPLES), BANK CHARGES and CRUK take 16-260.

The company has the last word: :func:`set_non_product` marks a code as non-product or as a
real product (both ways), stored in the workspace table ``_salesradar_non_product`` (``sku,
non_product, set_by, set_at``); :func:`non_product_codes` is what the models exclude.

:func:`product_names` gives every SKU a name: ``products.name``, else the most frequent
description on its invoice lines.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import asdict, dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from salesradar.engine import table_names
from salesradar.models.product_corrections import (
    OVERRIDES_TABLE,
    clear_non_product,
    is_workspace,
    non_product_overrides,
    override_decisions,
    set_non_product,
)

__all__ = [
    "OVERRIDES_TABLE",
    "NonProductRules",
    "clear_non_product",
    "detect_non_product",
    "non_product_codes",
    "non_product_overrides",
    "non_product_report",
    "product_names",
    "set_non_product",
    "sku_facts",
]

_ENGLISH = (
    "postage", "post", "shipping", "freight", "delivery", "carriage", "fees?", "charges?",
    "discounts?", "adjust", "adjustments?", "manual", "samples?", "commissions?",
)
_HEBREW = (
    "משלוח", "משלוחים", "דמי", "הנחה", "הנחות", "הנחת", "עמלה", "עמלות", "עמלת", "התאמה",
    "התאמות", "התאמת", "דוגמה", "דוגמא", "דוגמאות", "דוגמת", "הובלה", "הובלות", "הובלת",
)
_WORDS = "|".join((*_ENGLISH, *_HEBREW))
# a whole word at the start or at the end of the text (letters on neither side; RE2 syntax)
_EDGE_WORD = (
    rf"(?i)(^\s*({_WORDS})([^\p{{L}}]|$))|((^|[^\p{{L}}])({_WORDS})[^\p{{L}}\p{{N}}]*$)"
)


@dataclass(frozen=True)
class NonProductRules:
    """Thresholds of the detector (see the module docstring for the numbers behind them)."""

    min_invoice_share: float = 0.20
    min_customers: int = 10
    min_catalogue: int = 20
    fee_min_lines: int = 20
    fee_quantity_one: float = 0.95
    max_overall_quantity_one: float = 0.5
    spread_min_lines: int = 10
    min_price_spread: float = 20.0
    min_distinct_prices: int = 10
    max_name_words: int = 4


def _lines(source: Any) -> ir.Table:
    if isinstance(source, ir.Table):
        return source
    if hasattr(source, "lines"):  # CustomerTables
        lines: ir.Table = source.lines
        return lines
    return source.table("invoice_lines")


def _products(source: Any) -> ir.Table | None:
    if isinstance(source, ir.Table):
        return None
    if hasattr(source, "lines"):
        products: ir.Table | None = source.products
        return products
    return source.table("products")


def _description_names(lines: ir.Table) -> ir.Table | None:
    """The most frequent non-empty description per SKU (ties: the alphabetically first)."""
    if "description" not in lines.columns:
        return None
    text = lines.description.cast("string").strip()
    named = lines.mutate(name=text).filter(text.notnull() & (text != ""))
    counts = named.group_by(["sku", "name"]).aggregate(n=named.count())
    rank = ibis.row_number().over(
        ibis.window(group_by=counts.sku, order_by=[counts.n.desc(), counts.name])
    )
    ranked = counts.mutate(r=rank)
    return ranked.filter(ranked.r == 0).select("sku", "name")


def product_names(source: Any) -> ir.Table:
    """Every SKU's name: ``products.name`` when known, else its most frequent invoice-line
    description.

    ``source`` is a workspace, :class:`~salesradar.models.features.CustomerTables` or the
    invoice lines. Returns an Ibis table ``sku, name`` with one row per SKU of the invoice
    lines or of ``products`` (``name`` null when neither knows it), to join on ``sku``.
    """
    lines = _lines(source)
    skus = lines.select("sku").distinct()
    products = _products(source)
    if products is not None and "name" in products.columns:
        given = products.select("sku", given=products.name.cast("string"))
        given = given.filter(given.given.notnull() & (given.given.strip() != ""))
        skus = skus.union(products.select("sku")).distinct()
    else:
        given = None
    described = _description_names(lines)
    out = skus
    name: ir.Value = ibis.null("string")
    if described is not None:
        out = out.left_join(described.rename(described_name="name"), "sku").drop("sku_right")
        name = out.described_name
    if given is not None:
        out = out.left_join(given.distinct(on="sku", keep="first"), "sku").drop("sku_right")
        name = out.given.fill_null(name) if described is not None else out.given
    result: ir.Table = out.select("sku", name=name)
    return result


def _distinct_per_sku(pairs: ir.Table, key: str, name: str) -> ir.Table:
    """``count(DISTINCT key)`` per SKU from the distinct (SKU, key) ``pairs``: two group-bys,
    which DuckDB can spill to disk where a ``count(DISTINCT ...)`` aggregate stays in memory."""
    counted: ir.Table = pairs.group_by("sku").aggregate(**{name: pairs[key].count()})
    return counted


def _quantile_parts(prices: ir.Table, q: float, name: str) -> dict[str, ir.Value]:
    """The aggregates per SKU from which :func:`_quantile` gives DuckDB's
    ``quantile_cont(unit, q)``: ``h = (valid - 1) * q`` (in doubles, as DuckDB) and the prices
    at 0-based positions ``floor(h)`` and ``ceil(h)`` of the SKU's sorted prices, the first
    price whose running line count ``upto`` passes each position."""
    h = (prices.valid - 1).cast("float64") * ibis.literal(q, "float64")
    return {
        f"{name}_h": h.max(),  # one value per SKU
        f"{name}_lo": prices.unit.min(where=prices.upto > h.floor()),
        f"{name}_hi": prices.unit.min(where=prices.upto > h.ceil()),
    }


def _quantile(facts: ir.Table, name: str) -> ir.Value:
    """DuckDB's linear interpolation of doubles, to the last bit: ``lo`` when ``h`` is whole,
    else ``lo * (1 - d) + hi * d`` with ``d = h - floor(h)``."""
    h, lo, hi = facts[f"{name}_h"], facts[f"{name}_lo"], facts[f"{name}_hi"]
    d = h - h.floor()
    return ibis.ifelse(h == h.floor(), lo, lo * (1.0 - d) + hi * d)


def _counted_lines(source: Any) -> ir.Table:
    """The lines the detector counts (a quantity, not 0) with their ``unit`` price, their
    ``sale_invoice`` (the invoice of a positive line, else null) and ``one`` (1.0 when the
    quantity is ±1, else 0.0)."""
    lines = _lines(source)
    lines = lines.filter(lines.quantity.notnull() & (lines.quantity != 0))
    quantity = lines.quantity.cast("float64")
    unit = (lines.net_revenue.cast("float64") / quantity).abs()
    sale_invoice = ibis.ifelse(lines.net_revenue > 0, lines.invoice_id, ibis.null("string"))
    one = ibis.ifelse(quantity.abs() == 1.0, 1.0, 0.0)
    return lines.mutate(unit=unit, sale_invoice=sale_invoice, one=one)


def _price_facts(t: ir.Table, *, sales: bool = False) -> tuple[ir.Table, ir.Table]:
    """The lines per (SKU, unit price), and per SKU: ``lines``, ``ones`` and the parts of the
    10th and 90th price percentiles (:func:`_quantile_parts`); with ``sales``, also the
    SKU's lines with a sale invoice (``sales``: no fewer than its sales invoices)."""
    extra = {"sales": t.sale_invoice.count()} if sales else {}
    by_price = t.group_by(["sku", "unit"]).aggregate(lines=t.count(), ones=t.one.sum(), **extra)
    # lines with a unit price, summed as doubles (exact for any count of lines below 2**53):
    # DuckDB's running sums of integers are 128-bit and twice as slow
    priced = by_price.lines.cast("float64").sum(where=by_price.unit.notnull())
    prices = by_price.mutate(
        valid=priced.over(ibis.window(group_by="sku")),
        upto=priced.over(ibis.cumulative_window(group_by="sku", order_by="unit")),
    )
    per_sku = prices.group_by("sku").aggregate(
        lines=prices.lines.sum(),
        ones=prices.ones.sum(),
        **_quantile_parts(prices, 0.1, "p10"),
        **_quantile_parts(prices, 0.9, "p90"),
        **({"sales": prices.sales.sum()} if sales else {}),
    )
    return by_price, per_sku


def _price_count(by_price: ir.Table) -> ir.Table:
    """``prices`` per SKU: its distinct unit prices, to the cent."""
    return _distinct_per_sku(
        by_price.select("sku", price=by_price.unit.round(2)).distinct(), "price", "prices")


def _pair_counts(t: ir.Table) -> tuple[ir.Table, ir.Table, ir.Table]:
    """The distinct (SKU, sales invoice) pairs, and per SKU its ``invoices`` and
    ``customers``."""
    sold = t.select("sku", "sale_invoice").distinct()
    return (sold, _distinct_per_sku(sold, "sale_invoice", "invoices"),
            _distinct_per_sku(t.select("sku", "customer_id").distinct(), "customer_id",
                              "customers"))


def _with_totals(per_sku: ir.Table, facts: ir.Table, sale_invoices: ir.Table) -> ir.Table:
    """``facts`` with the data-wide ``all_skus``, ``all_quantity_one_share`` (from
    ``per_sku``) and ``all_invoices`` (the distinct ``sale_invoices``)."""
    totals = per_sku.aggregate(
        all_skus=per_sku.sku.count(),
        all_quantity_one_share=per_sku.ones.sum() / per_sku.lines.sum(),
    ).cross_join(sale_invoices.aggregate(all_invoices=sale_invoices.sale_invoice.count()))
    return facts.cross_join(totals)


def _price_columns(out: ir.Table) -> dict[str, ir.Value]:
    """The columns of :func:`sku_facts` that come from the lines per price, and the totals."""
    p10 = _quantile(out, "p10")
    return {
        # a sum of 0/1 flags over the lines: the mean of the flags, exactly
        "quantity_one_share": (out.ones / out.lines).cast("float64"),
        "price_spread": ibis.ifelse(p10 > 0, _quantile(out, "p90") / p10,
                                    ibis.null("float64")),
        "prices": out.prices.cast("int64"),
        "all_invoices": out.all_invoices.cast("int64"),
        "all_skus": out.all_skus.cast("int64"),
        "all_quantity_one_share": out.all_quantity_one_share.cast("float64"),
    }


def sku_facts(source: Any) -> ir.Table:
    """One row per SKU with what the detector looks at (one Ibis query).

    Columns: ``sku``, ``lines``, ``invoices`` (sales invoices with a positive line of it),
    ``invoice_share`` (of all sales invoices), ``customers``, ``quantity_one_share`` (lines
    with quantity ±1), ``price_spread`` (90th ÷ 10th percentile of |revenue ÷ quantity|, null
    without a positive 10th percentile), ``prices`` (distinct unit prices, to the cent), and the
    data-wide ``all_invoices``, ``all_skus``,
    ``all_quantity_one_share``.

    Every aggregate is a group-by DuckDB can spill to disk (a 100M-line workspace fits its
    memory limit): the distinct counts count the distinct (SKU, key) pairs, and the percentiles
    (DuckDB's ``quantile_cont``, exactly) come from the lines per (SKU, unit price) and their
    running count in price order.
    """
    t = _counted_lines(source)
    by_price, per_sku = _price_facts(t)
    sold, invoices, customers = _pair_counts(t)
    facts = per_sku
    for other in (invoices, customers, _price_count(by_price)):  # null-safe on sku, as the
        facts = facts.left_join(other, facts.sku.identical_to(other.sku)).drop("sku_right")
    out = _with_totals(per_sku, facts, sold.select("sale_invoice").distinct())
    columns = _price_columns(out)
    result: ir.Table = out.select(
        "sku",
        lines=out.lines.cast("int64"),
        invoices=out.invoices.cast("int64"),
        invoice_share=out.invoices.cast("float64") / ibis.greatest(out.all_invoices, 1),
        customers=out.customers.cast("int64"),
        **columns,
    )
    return result


def _screen_facts(source: Any) -> ir.Table:
    """:func:`sku_facts` without its two counts of distinct (SKU, key) pairs, ``invoices``
    and ``customers`` (on 10M lines, two thirds of the detection's time: nearly every (SKU,
    invoice) pair is distinct), with ``sales`` instead: the SKU's lines with a sales invoice,
    at least its ``invoices``. The detector counts the pairs only for the SKUs that need
    them (:func:`_pair_facts`)."""
    t = _counted_lines(source)
    by_price, per_sku = _price_facts(t, sales=True)
    prices = _price_count(by_price)
    facts = per_sku.left_join(prices, per_sku.sku.identical_to(prices.sku)).drop("sku_right")
    out = _with_totals(per_sku, facts, t.select("sale_invoice").distinct())
    result: ir.Table = out.select(
        "sku", lines=out.lines.cast("int64"), sales=out.sales.cast("int64"),
        **_price_columns(out))
    return result


def _pair_facts(source: Any, skus: pa.Array) -> pa.Table:
    """``sku, invoices, customers`` of :func:`sku_facts` for the SKUs ``skus`` only (null-safe
    on the SKU, as :func:`sku_facts`)."""
    t = _counted_lines(source)
    wanted = ibis.memtable(pa.table({"sku": skus}))
    t = t.semi_join(wanted, t.sku.identical_to(wanted.sku))
    _, invoices, customers = _pair_counts(t)
    joined = invoices.left_join(customers, invoices.sku.identical_to(customers.sku))
    return joined.select("sku", invoices=joined.invoices.cast("int64"),
                         customers=joined.customers.cast("int64")).to_pyarrow()


def _name_match(texts: pa.ChunkedArray | pa.Array, max_words: int) -> pa.Array:
    """Whether each text has a fee word at its start or end and at most ``max_words`` words."""
    filled = pc.utf8_trim_whitespace(pc.fill_null(pc.cast(texts, pa.string()), ""))
    words = pc.list_value_length(pc.utf8_split_whitespace(filled))
    hit = pc.match_substring_regex(filled, _EDGE_WORD)
    result: pa.Array = pc.and_(hit, pc.less_equal(pc.fill_null(words, 0), max_words))
    return result


def _fmt_pct(value: float) -> str:
    return f"{100.0 * value:.1f}%"


def _by_share(table: pa.Table, share: Any, rules: NonProductRules) -> pa.Array:
    """The invoice-share rule on ``share`` (null: 0), with the table's ``customers``."""
    return pc.and_(
        pc.and_(pc.greater_equal(pc.fill_null(share, 0.0), rules.min_invoice_share),
                pc.greater_equal(table["customers"], rules.min_customers)),
        pc.greater_equal(table["all_skus"], rules.min_catalogue),
    )


def _by_quantity(table: pa.Table, rules: NonProductRules) -> pa.Array:
    return pc.and_(
        pc.and_(pc.greater_equal(table["lines"], rules.fee_min_lines),
                pc.greater_equal(table["quantity_one_share"], rules.fee_quantity_one)),
        pc.less(table["all_quantity_one_share"], rules.max_overall_quantity_one),
    )


def _by_spread(table: pa.Table, rules: NonProductRules) -> pa.Array:
    return pc.and_(
        pc.and_(pc.greater_equal(table["lines"], rules.spread_min_lines),
                pc.greater_equal(table["prices"], rules.min_distinct_prices)),
        # an unknown spread (no price above zero) detects nothing, whatever the threshold
        pc.fill_null(pc.greater_equal(table["price_spread"], rules.min_price_spread), False),
    )


def _with_pair_facts(source: Any, table: pa.Table, rules: NonProductRules) -> pa.Table:
    """The screened facts (:func:`_screen_facts` with the names) with :func:`sku_facts`'s
    ``invoices``, ``invoice_share`` and ``customers`` where the detector needs them: on the
    SKUs that another rule detects, or whose ``sales`` (at least their invoices) reach the
    invoice share. Elsewhere they are null: the invoice-share rule cannot hold there (a
    share of at most ``sales / all_invoices`` is below the threshold), and the rows are not
    detected."""
    total = pc.max_element_wise(table["all_invoices"], 1).cast(pa.float64())
    bound = pc.divide(table["sales"].cast(pa.float64()), total)
    need = pc.fill_null(pc.or_(
        pc.or_(pc.or_(_name_match(table["sku"], rules.max_name_words),
                      _name_match(table["name"], rules.max_name_words)),
               pc.and_(pc.greater_equal(bound, rules.min_invoice_share),
                       pc.greater_equal(table["all_skus"], rules.min_catalogue))),
        pc.or_(_by_quantity(table, rules), _by_spread(table, rules))), False)
    invoices = pa.nulls(table.num_rows, pa.int64())
    customers = pa.nulls(table.num_rows, pa.int64())
    if pc.any(need).as_py():
        counted = _pair_facts(source, table["sku"].filter(need).combine_chunks())
        where = pc.index_in(table["sku"], value_set=counted["sku"].combine_chunks(),
                            skip_nulls=False)
        invoices = pc.if_else(need, pc.take(counted["invoices"], where), None)
        customers = pc.if_else(need, pc.take(counted["customers"], where), None)
    # as sku_facts divides them (a double over a double: the same bits)
    share = pc.divide(invoices.cast(pa.float64()), total)
    return (table.append_column("invoices", invoices).append_column("invoice_share", share)
            .append_column("customers", customers).drop_columns(["sales"]))


def detect_non_product(source: Any, rules: NonProductRules | None = None) -> pa.Table:
    """Codes the data shows are not products, each with the reason it was detected.

    ``source`` is a workspace, :class:`~salesradar.models.features.CustomerTables` or invoice
    lines (an Ibis table). Overrides set by the company are not applied here (see
    :func:`non_product_report` and :func:`non_product_codes`).

    Returns
    -------
    pyarrow.Table
        ``sku, name, rule`` (the rules that hold, joined by ``+``: ``name``,
        ``invoice_share``, ``fee_quantity``, ``price_spread``), ``reason`` (each rule in words
        with its numbers, joined by ``; ``), ``lines, invoices, invoice_share, customers``;
        sorted by lines, most first.
    """
    rules = rules or NonProductRules()
    facts = _screen_facts(source)
    names = product_names(source)
    joined = facts.left_join(names, "sku").drop("sku_right").order_by(
        [ibis.desc("lines"), "sku"]
    )
    table = _with_pair_facts(source, joined.to_pyarrow(), rules)
    empty = pa.table({
        "sku": pa.array([], pa.string()), "name": pa.array([], pa.string()),
        "rule": pa.array([], pa.string()), "reason": pa.array([], pa.string()),
        "lines": pa.array([], pa.int64()), "invoices": pa.array([], pa.int64()),
        "invoice_share": pa.array([], pa.float64()), "customers": pa.array([], pa.int64()),
    })
    if table.num_rows == 0:
        return empty
    by_name = pc.or_(_name_match(table["sku"], rules.max_name_words),
                     _name_match(table["name"], rules.max_name_words))
    by_share = pc.fill_null(_by_share(table, table["invoice_share"], rules), False)
    by_quantity, by_spread = _by_quantity(table, rules), _by_spread(table, rules)
    hit = pc.fill_null(pc.or_(pc.or_(by_name, by_share), pc.or_(by_quantity, by_spread)), False)
    found = table.filter(hit)
    rows = []
    flags = {
        "name": by_name.filter(hit).to_pylist(),
        "share": by_share.filter(hit).to_pylist(),
        "quantity": by_quantity.filter(hit).to_pylist(),
        "spread": by_spread.filter(hit).to_pylist(),
    }
    for i, r in enumerate(found.to_pylist()):  # one row per detected code, a handful
        label = r["name"] or r["sku"]
        of = f"{r['invoices']:,} of {r['all_invoices']:,} sales invoices"
        held: list[tuple[str, str]] = []
        if flags["name"][i]:
            held.append(("name", f"named like a fee or charge: {label!r}"))
        if flags["share"][i]:
            held.append(("invoice_share", (
                f"on {_fmt_pct(r['invoice_share'])} of all sales invoices ({of}), "
                f"{r['customers']:,} customers")))
        if flags["quantity"][i]:
            held.append(("fee_quantity", (
                f"quantity 1 on {_fmt_pct(r['quantity_one_share'])} of its {r['lines']:,} "
                f"lines (all lines: {_fmt_pct(r['all_quantity_one_share'])})")))
        if flags["spread"][i]:
            held.append(("price_spread", (
                f"unit price varies {r['price_spread']:,.0f}-fold over its {r['lines']:,} "
                f"lines, {r['prices']:,} different prices (an amount typed per invoice, not a "
                "price)")))
        rule = "+".join(h[0] for h in held)
        reason = "; ".join(h[1] for h in held)
        rows.append({"sku": r["sku"], "name": r["name"], "rule": rule, "reason": reason,
                     "lines": r["lines"], "invoices": r["invoices"],
                     "invoice_share": r["invoice_share"], "customers": r["customers"]})
    return pa.Table.from_pylist(rows, schema=empty.schema) if rows else empty


def non_product_report(source: Any, rules: NonProductRules | None = None) -> pa.Table:
    """Detected codes and the company's decisions together, as ``salesradar products
    non-product --list`` shows them.

    Columns: ``sku, name, non_product`` (the decision in force), ``source`` (``detected``,
    ``set`` or ``set_product``: detected but kept as a product), ``rule, reason, lines,
    invoices, invoice_share, customers, set_by, set_at``.
    """
    detected = detect_non_product(source, rules).to_pylist()
    overrides = {r["sku"]: r for r in non_product_overrides(source).to_pylist()}
    names: dict[str, str | None] = {}
    if overrides:
        wanted = list(overrides)
        known = product_names(source)
        known = known.filter(known.sku.isin(wanted)).to_pyarrow()
        names = dict(zip(known["sku"].to_pylist(), known["name"].to_pylist(), strict=True))
    rows = []
    seen = set()
    for r in detected:
        o = overrides.get(r["sku"])
        keep_product = o is not None and not o["non_product"]
        rows.append({**r, "non_product": not keep_product,
                     "source": "set_product" if keep_product else "detected",
                     "set_by": o["set_by"] if o else None, "set_at": o["set_at"] if o else None})
        seen.add(r["sku"])
    for sku, o in overrides.items():
        if sku in seen:
            continue
        rows.append({"sku": sku, "name": names.get(sku), "rule": None,
                     "reason": "set by the company" if o["non_product"]
                     else "set by the company as a product",
                     "lines": None, "invoices": None, "invoice_share": None, "customers": None,
                     "non_product": bool(o["non_product"]), "source": "set",
                     "set_by": o["set_by"], "set_at": o["set_at"]})
    schema = pa.schema([
        ("sku", pa.string()), ("name", pa.string()), ("non_product", pa.bool_()),
        ("source", pa.string()), ("rule", pa.string()), ("reason", pa.string()),
        ("lines", pa.int64()), ("invoices", pa.int64()), ("invoice_share", pa.float64()),
        ("customers", pa.int64()), ("set_by", pa.string()), ("set_at", pa.timestamp("us")),
    ])
    return pa.Table.from_pylist(rows, schema=schema)


_LAST_CODES: dict[tuple[Any, ...], list[str]] = {}  # this process's last answer, by its key
_LAST_CODES_LOCK = threading.Lock()
DETECTED_FILE = "non_product.json"  # the last detection, in the models' folder


def _codes_key(source: Any, rules: NonProductRules | None) -> tuple[Any, ...] | None:
    """What a workspace file's codes depend on: its data (every import that changed a table),
    the company's corrections and the thresholds. None: not cached (in memory, a table)."""
    path = str(getattr(source, "path", "") or "")
    if not is_workspace(source) or not path or path.startswith(":"):
        return None
    from salesradar.models.store import data_version

    overrides = tuple(tuple(r.values()) for r in override_decisions(source))
    return (path, data_version(source), overrides, rules or NonProductRules())


def _detection_state(ws: Any, rules: NonProductRules) -> tuple[str, dt.date | None, int]:
    """What a saved detection must match, as text: the thresholds, this code, the SKU codes
    on the invoice lines and the products' names (a new code, or a product renamed "delivery
    charge", is detected at once); with the last invoice day and the line count."""
    from salesradar import __version__

    day, lines, skus, codes = ws.con.execute(
        "SELECT max(invoice_date)::DATE, count(*), count(DISTINCT sku), "
        "(SELECT sum(hash(sku))::VARCHAR FROM (SELECT DISTINCT sku FROM invoice_lines)) "
        "FROM invoice_lines").fetchone() or (None, 0, 0, None)
    named = (ws.con.execute("SELECT count(*), sum(hash(sku, name))::VARCHAR FROM products")
             .fetchone() if "products" in table_names(ws) else None)
    state = [__version__, asdict(rules), [skus, codes], list(named or [])]
    return json.dumps(state, sort_keys=True, default=str), day, int(lines)


def _saved_detection(ws: Any, state: tuple[str, dt.date | None, int]) -> list[str] | None:
    """The codes detected by an earlier run when the refit schedule lets them serve this data
    (:func:`~salesradar.models.store.still_fresh`: detected on the data to a day at most six
    days before, the invoice lines changed by at most 5%, the same thresholds and code, the
    same SKU codes and product names: :func:`_detection_state`)."""
    from salesradar.models.store import model_folder, still_fresh

    folder = model_folder(ws)
    if folder is None or not (folder / DETECTED_FILE).exists():
        return None
    try:
        saved = json.loads((folder / DETECTED_FILE).read_text())
        settings, day, lines = state
        fresh = day is not None and saved["settings"] == settings and still_fresh(
            dt.date.fromisoformat(saved["detected_on"]), int(saved["lines"]), day, lines)
        return [str(c) for c in saved["codes"]] if fresh else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _save_detection(ws: Any, state: tuple[str, dt.date | None, int], codes: list[str]) -> None:
    from salesradar.models.store import model_folder, write_atomically

    folder = model_folder(ws)
    settings, day, lines = state
    if folder is None or day is None:
        return
    try:
        folder.mkdir(exist_ok=True)
        write_atomically(folder / DETECTED_FILE, json.dumps({
            "settings": settings, "detected_on": day.isoformat(), "lines": lines,
            "codes": codes}))
    except OSError:  # a read-only folder: detect again next time
        return


def non_product_codes(source: Any, rules: NonProductRules | None = None, *,
                      fresh: bool = False) -> list[str]:
    """The codes every model leaves out: detected ones, minus those the company keeps as
    products, plus those it marked as non-products. Sorted.

    A refresh asks three times (stopped items, cross-sell, the offers' evidence); on a
    workspace file the detection (a scan of every line: 4 s on 10M lines) runs once per state
    of its data, and a detection of the last week serves the runs of the refit schedule
    (:data:`~salesradar.models.store.REFIT_DAYS`) unless ``fresh`` (``run --full``). The
    company's corrections always apply at once."""
    rules = rules or NonProductRules()
    key = _codes_key(source, rules)
    known = None if key is None or fresh else _LAST_CODES.get(key)  # one read: threads share it
    if known is not None:
        return list(known)
    state = None if key is None else _detection_state(source, rules)  # read once
    detected = None if state is None or fresh else _saved_detection(source, state)
    if detected is None:
        detected = [str(c) for c in detect_non_product(source, rules)["sku"].to_pylist()]
        if state is not None:
            _save_detection(source, state, detected)
    overrides = {str(r["sku"]): bool(r["non_product"]) for r in override_decisions(source)}
    codes = sorted({c for c in detected if overrides.get(c, True)}
                   | {c for c, marked in overrides.items() if marked})
    if key is not None:
        with _LAST_CODES_LOCK:
            _LAST_CODES.clear()
            _LAST_CODES[key] = codes
    return list(codes)
