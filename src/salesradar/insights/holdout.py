"""Deterministic holdout: which insights are withheld so that uplift can be measured.

The group of an insight is a pure function of its dedup key and a salt, so every rerun, on every
machine, agrees; the store also records the assignment the first time a key is seen, so changing
the fraction later does not move insights already assigned.

>>> in_holdout("churn_risk:customer:C-17", salt="s", fraction=0.0)
False
"""

from __future__ import annotations

import hashlib
import os

from salesradar.errors import UserInputError

HOLDOUT_SALT_ENV = "SALESRADAR_HOLDOUT_SALT"
DEFAULT_SALT = "salesradar-holdout-v1"
DEFAULT_FRACTION = 0.10


def holdout_salt(explicit: str | None = None) -> str:
    """The salt: explicit, else ``$SALESRADAR_HOLDOUT_SALT``, else a fixed default."""
    return explicit or os.environ.get(HOLDOUT_SALT_ENV) or DEFAULT_SALT


def in_holdout(dedup_key: str, *, salt: str, fraction: float) -> bool:
    """True when ``dedup_key`` falls in the holdout: SHA-256(salt, key) as a uniform in [0, 1)."""
    if not 0.0 <= fraction <= 1.0:
        raise UserInputError(f"holdout fraction must be between 0 and 1, got {fraction}")
    digest = hashlib.sha256(f"{salt}\x00{dedup_key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < fraction
