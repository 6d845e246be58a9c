"""A cross-sell offer's reason in the reader's language, from the numbers kept with the offer.

The recommender keeps, with every offer, the numbers its reason states (the columns of
:data:`~salesradar.models.crosssell.base.RECOMMENDATION_SCHEMA` after ``expected_value``) and
:func:`~salesradar.models.crosssell.recommend_for` the names of the offered SKU and of its
anchor. The customer's page and the insights word them here, the same sentence in English and
Hebrew, with the products' names (a code only where the data name none) and the amount in the
company's currency. Who bought the anchor and the offer counts every year of the data, so the
words say "have bought" ("who buy" read as this year's buyers, fewer than the co-buyers); the
spend is the last year's:

>>> from salesradar.currency import use_currency
>>> offer = {"sku": "59", "name": "Raclette Courdavault", "anchor_sku": "72",
...          "anchor_name": "Mozzarella di Giovanni", "anchor_buyers": 33, "co_buyers": 22,
...          "sku_buyers": 54, "year_buyers": 30, "customers": 89, "expected_value": 1271.875}
>>> with use_currency("USD"):
...     print(offer_reason(offer))  # doctest: +NORMALIZE_WHITESPACE
22 of the 33 customers who have bought Mozzarella di Giovanni have also bought Raclette
Courdavault; its 30 buyers of the last year spent a median $1.3k on it
>>> print(offer_reason({**offer, "anchor_sku": None}, "he"))  # doctest: +NORMALIZE_WHITESPACE
נקנה על ידי 54 מתוך 89 הלקוחות; 30 הקונים שלו בשנה האחרונה הוציאו עליו בחציון
₪1.3k
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from salesradar.lang import Lang
from salesradar.models.text import money

__all__ = ["REASON_NUMBERS", "offer_reason"]

#: the numbers a reason needs besides the anchor (an offer without an anchor has none)
REASON_NUMBERS = ("sku_buyers", "year_buyers", "customers", "expected_value")


def _label(name: Any, code: Any) -> str:
    text = str(name).strip() if name is not None else ""
    return text or str(code)


def offer_reason(offer: Mapping[str, Any], lang: Lang = "en") -> str | None:
    """The offer's reason in ``lang``: who else buys the SKU (the customers who buy the
    anchor, a SKU of the customer's own, or all customers when it has none) and what its
    buyers of the last year spent on it. None when the offer lacks one of the numbers (a table
    scored by an older version: show its stored ``reason``)."""
    if any(offer.get(k) is None for k in REASON_NUMBERS):
        return None
    anchor = offer.get("anchor_sku")
    if anchor is not None and (offer.get("anchor_buyers") is None
                               or offer.get("co_buyers") is None):
        return None
    sku = _label(offer.get("name"), offer.get("sku"))
    if lang == "he":
        who = (f"{int(offer['co_buyers']):,} מתוך {int(offer['anchor_buyers']):,} הלקוחות "
               f"שקנו את {_label(offer.get('anchor_name'), anchor)} קנו גם את {sku}"
               if anchor is not None else
               f"נקנה על ידי {int(offer['sku_buyers']):,} מתוך {int(offer['customers']):,} "
               "הלקוחות")
    else:
        who = (f"{int(offer['co_buyers']):,} of the {int(offer['anchor_buyers']):,} customers "
               f"who have bought {_label(offer.get('anchor_name'), anchor)} have also bought {sku}"
               if anchor is not None else
               f"bought by {int(offer['sku_buyers']):,} of the {int(offer['customers']):,} "
               "customers")
    return f"{who}; {_year_spend(int(offer['year_buyers']), float(offer['expected_value']), lang)}"


def _year_spend(buyers: int, value: float, lang: Lang) -> str:
    """What the SKU's buyers of the last year spent on it: a median from two buyers, the
    one buyer's own spend, or that nobody bought it."""
    spend = money(value)
    if lang == "he":
        if buyers == 0:
            return "איש לא קנה אותו בשנה האחרונה"
        if buyers == 1:
            return f"הקונה היחיד שלו בשנה האחרונה הוציא עליו {spend}"
        return f"{buyers:,} הקונים שלו בשנה האחרונה הוציאו עליו בחציון {spend}"
    if buyers == 0:
        return "nobody bought it in the last year"
    if buyers == 1:
        return f"its one buyer of the last year spent {spend} on it"
    return f"its {buyers:,} buyers of the last year spent a median {spend} on it"
