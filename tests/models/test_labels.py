"""The models' short texts in English and Hebrew."""

from __future__ import annotations

import re

import pytest

from salesradar.errors import UserInputError
from salesradar.models.labels import (
    HANDLING,
    HEALTH_FACTORS,
    REASONS_HE,
    TIER_NAMES,
    health_factor,
    reason_labels,
    tier_handling,
    tier_name,
)
from salesradar.models.tiers import HEALTH_WEIGHTS

HEBREW = re.compile(r"[\u05d0-\u05ea]")


def test_every_tier_and_factor_has_both_languages() -> None:
    for texts in (TIER_NAMES, HANDLING):
        assert set(texts["en"]) == set(texts["he"]) == set("ABCD")
        assert all(HEBREW.search(t) for t in texts["he"].values())
    assert set(HEALTH_FACTORS["en"]) == set(HEALTH_FACTORS["he"]) == set(HEALTH_WEIGHTS)
    assert all(HEBREW.search(t) for t in HEALTH_FACTORS["he"].values())
    assert (tier_name("B", "he"), tier_name(None, "he")) == ("מתפתח", None)
    assert tier_handling("D", "en") == HANDLING["en"]["D"]
    assert (health_factor("payment", "he"), health_factor("new_factor")) == ("תשלומים",
                                                                             "new factor")
    with pytest.raises(UserInputError, match="language"):
        tier_name("A", "fr")


def test_stored_reason_labels_of_older_scores_read_in_hebrew() -> None:
    assert all(HEBREW.search(t) for t in REASONS_HE.values())
    assert reason_labels(["late payments", "something new"], "he") == ["תשלומים באיחור",
                                                                      "something new"]
    assert reason_labels(["late payments"], "en") == ["late payments"]


def test_parse_lang_names_what_was_asked_and_the_bad_value() -> None:
    from salesradar.lang import parse_lang

    assert parse_lang("he") == "he" and parse_lang("en") == "en"
    with pytest.raises(UserInputError, match=r"--lang must be en or he, not 'HE'"):
        parse_lang("HE", "--lang")
    with pytest.raises(UserInputError, match=r"language must be en or he, not 'fr'"):
        tier_name("A", "fr")
