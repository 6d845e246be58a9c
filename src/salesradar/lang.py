"""The languages every text a user reads is written in: English and Hebrew."""

from typing import Literal

Lang = Literal["en", "he"]
LANGS: tuple[Lang, ...] = ("en", "he")
