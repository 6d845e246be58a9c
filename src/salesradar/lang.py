"""The languages every text a user reads is written in: English and Hebrew."""

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
