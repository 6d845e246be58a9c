"""The languages every text a user reads is written in: English and Hebrew.

>>> hebrew_prefixes("להתקשר ל-נבון מסעדות ול-Cohen Foods ב-90 הימים")
'להתקשר לנבון מסעדות ול-Cohen Foods ב-90 הימים'
>>> hebrew_prefixes("ל-המשביר, מ-א עד ת")
'ל-המשביר, מ-א עד ת'
"""

import re
from typing import Literal

from salesradar.errors import UserInputError

Lang = Literal["en", "he"]
LANGS: tuple[Lang, ...] = ("en", "he")


def parse_lang(text: str, what: str = "language") -> Lang:
    """``text`` as a language; anything but en or he is a :class:`UserInputError` that names
    ``what`` was asked for (``"--lang"``, ``"lang"``) and the bad value."""
    for known in LANGS:
        if text == known:
            return known
    raise UserInputError(f"{what} must be {' or '.join(LANGS)}, not {text!r}")


# a Hebrew prefix (ב, ה, כ, ל, מ, ש, or ו before one of them) written as a word of its own
# before a hyphen and a Hebrew word of two letters or more that does not start with ה: "ל-" + a
# name that turned out to be Hebrew. Not before a single letter ("מ-א עד ת"), nor before ה,
# which Hebrew drops after ב, כ and ל ("ל-המשביר", not "להמשביר")
_PREFIX_HYPHEN = re.compile(
    "(?<![\\w\u05b0-\u05ff])(\u05d5?[\u05d1\u05d4\u05db\u05dc\u05de\u05e9]|\u05d5)-"
    "(?=[\u05d0-\u05d3\u05d5-\u05ea][\u05d0-\u05ea])")


def hebrew_prefixes(text: str) -> str:
    """Hebrew prefixes joined to the Hebrew word they precede: the templates write "ל-{name}"
    for a name that may be Latin or a number ("ל-Cohen Foods", "ב-90"), where the hyphen
    belongs; before a Hebrew word ("ל-לקוח 18102", "ל-נבון") Hebrew writes none. Left as
    they are: a single letter after the hyphen ("מ-א עד ת") and a word starting with ה
    ("ל-המשביר": joined, Hebrew would drop the ה). A name of its own that starts with such a
    prefix, a hyphen and a Hebrew word is joined too."""
    return _PREFIX_HYPHEN.sub(r"\1", text) if "-" in text else text
