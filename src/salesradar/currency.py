"""The company's currency: the sign every amount is written with, in every text and page.

The company chooses it once (``salesradar settings set currency USD``, stored with the other
company settings in the app database); whoever opens a workspace for a user (a CLI command, the web
app, a report, the refresh) makes it current with :func:`use_currency`, and every formatter below
(:func:`salesradar.models.text.money`, :func:`salesradar.charts.labels.format_value`, the insight
texts) writes :func:`symbol` unless it is given one. Nothing prints ₪ unless the company's currency
is ILS, the default.

>>> symbol()
'₪'
>>> with use_currency("USD"):
...     symbol(), code()
('$', 'USD')
>>> symbol_of("CHF")
'CHF\\xa0'
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from salesradar.errors import UserInputError

DEFAULT_CURRENCY = "ILS"
#: the signs people write before an amount; any other ISO 4217 code is written as itself
SYMBOLS: dict[str, str] = {
    "ILS": "₪", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹",
    "CAD": "CA$", "AUD": "A$", "NZD": "NZ$", "HKD": "HK$", "SGD": "S$", "MXN": "MX$",
    "BRL": "R$", "KRW": "₩", "TRY": "₺", "UAH": "₴", "PLN": "zł\u00a0", "RUB": "₽",
}

_CURRENT: ContextVar[tuple[str, str]] = ContextVar(
    "salesradar_currency", default=(DEFAULT_CURRENCY, SYMBOLS[DEFAULT_CURRENCY]))


def check_code(code: str) -> str:
    """``code`` as an ISO 4217 code (three letters, upper-cased), or a :class:`UserInputError`."""
    text = code.strip().upper()
    if len(text) != 3 or not text.isascii() or not text.isalpha():
        raise UserInputError(f"currency must be a three-letter ISO 4217 code such as ILS, USD, "
                             f"EUR or GBP, not {code!r}")
    return text


def symbol_of(code: str) -> str:
    """The sign written before an amount in ``code``: ``₪`` for ILS, the code itself (and a
    no-break space) for a currency without a common sign."""
    checked = check_code(code)
    return SYMBOLS.get(checked, checked + "\u00a0")


def symbol() -> str:
    """The current currency's sign (``₪`` until a company setting says otherwise)."""
    return _CURRENT.get()[1]


def code() -> str:
    """The current currency's ISO 4217 code."""
    return _CURRENT.get()[0]


def activate(currency: str, sign: str | None = None) -> None:
    """Make ``currency`` (with ``sign``, else its usual sign) current for what follows."""
    checked = check_code(currency)
    _CURRENT.set((checked, sign or symbol_of(checked)))


@contextmanager
def use_currency(currency: str, sign: str | None = None) -> Iterator[None]:
    """``currency`` is current inside the block, and the previous one again after it."""
    checked = check_code(currency)
    token = _CURRENT.set((checked, sign or symbol_of(checked)))
    try:
        yield
    finally:
        _CURRENT.reset(token)


def exact(value: float) -> str:
    """A whole amount with thousands separators in the current currency: ``₪1,250``."""
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol()}{abs(value):,.0f}"


#: a regular expression matching any currency sign this module writes (for texts that are read
#: back: Hebrew unit words, number isolation in right-to-left pages, the truth audit)
SIGN_PATTERN = "(?:" + "|".join(
    sorted((s.replace("$", r"\$").replace("\u00a0", r"\u00a0") for s in set(SYMBOLS.values())),
           key=len, reverse=True)) + r"|[A-Z]{3}\u00a0)"
