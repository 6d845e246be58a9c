"""Company settings in one place: currency, fiscal year, insight thresholds, holdout, outcomes.

A company changes what it chooses with ``salesradar settings set KEY VALUE`` (or the web's
settings page); only the values changed from their default are stored, in the app database's
``company_settings`` table, and every layer reads them from here:

- **currency** (ISO 4217, ``ILS``) and **currency_symbol** (its usual sign unless set): every
  amount in the CLI, the pages, the reports, the insight texts and the messages is written with
  it (:mod:`salesradar.currency`); nothing prints ₪ unless the currency is ILS;
- **fiscal_year_start** (month 1-12, January): quarters and years of KPIs, targets and pacing
  start there;
- **holdout_share**: the share of new insights kept back to measure their effect (10%);
- **outcome_window_days**: how long after an insight its outcome is judged; unset, from the
  customer's own rhythm (1.5 rhythms, 30 to 120 days; 30 days without a rhythm);
- every insight rule threshold of :class:`salesradar.insights.rules.RuleSettings` under its own
  name (``churn_min_value``, ``concentration_threshold``, ``lead_sla_hours_centre`` ...), with the
  default and the description written there.

Non-product codes (postage, fees) follow the data, so they stay in the workspace
(``salesradar products non-product``); ``settings get`` lists them beside the rest.

>>> from salesradar.app import AppDB
>>> db = AppDB.open("sqlite://")
>>> load_settings(db).currency, load_settings(db)["churn_min_value"]
('ILS', 1000.0)
>>> _ = set_setting(db, "currency", "usd")
>>> s = load_settings(db)
>>> s.currency, s.currency_symbol, sorted(s.changed)
('USD', '$', ['currency'])
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import re
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesradar import currency as currency_module
from salesradar.app.models import CompanySetting
from salesradar.errors import UserInputError

if TYPE_CHECKING:
    from salesradar.app.db import AppDB
    from salesradar.insights.thresholds import RuleSettings

__all__ = [
    "SETTINGS", "CompanySettings", "Setting", "activate", "company_settings_of",
    "describe_settings", "load_settings", "reset_setting", "set_setting", "setting_of",
]

#: outcome windows taken from a customer's rhythm are clamped to these days
RHYTHM_WINDOW_DAYS = (30, 120)
RHYTHM_WINDOW_FACTOR = 1.5


@dataclass(frozen=True)
class Setting:
    """One key: its default, what it means and how a typed value is read and checked."""

    key: str
    default: Any
    description: str
    parse: Callable[[str], Any]
    group: str


def _number(low: float | None = None, high: float | None = None, *,
            integer: bool = False, optional: bool = False) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        if optional and text.strip().lower() in ("", "none", "null", "off", "auto", "rhythm"):
            return None
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            kind = "a whole number" if integer else "a number"
            raise UserInputError(f"must be {kind}, not {text!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise UserInputError(f"must be a finite number, not {text!r}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise UserInputError(f"must be between {low:g} and {high:g}, not {text}"
                                 if low is not None and high is not None
                                 else f"must be at least {low:g}, not {text}")
        return value
    return parse


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise UserInputError("must be a comma-separated list of names")
    return names


def _symbol(text: str) -> str | None:
    value = text.strip()
    if value.lower() in ("", "none", "auto"):
        return None
    if len(value) > 5:
        raise UserInputError(f"must be a short sign such as $ or CHF, not {text!r}")
    return value


def _attribute_docs(cls: type) -> dict[str, str]:
    """``name -> description`` from a numpy-style "Attributes" section of ``cls``'s docstring."""
    docs: dict[str, str] = {}
    names: list[str] = []
    for line in (cls.__doc__ or "").splitlines():
        if re.fullmatch(r"    [a-z_][a-z0-9_, ]*", line):
            names = [n.strip() for n in line.split(",")]
        elif line.startswith("        ") and names:
            for name in names:
                docs[name] = (docs.get(name, "") + " " + line.strip()).strip()
    return {name: text.replace("``", "").replace(":func:", "") for name, text in docs.items()}


def _rule_settings() -> list[Setting]:
    """Every scalar threshold of :class:`RuleSettings`, under its own name and default."""
    from salesradar.insights.thresholds import RuleSettings

    docs = _attribute_docs(RuleSettings)
    found: list[Setting] = []
    hints = typing.get_type_hints(RuleSettings)
    for f in dataclasses.fields(RuleSettings):
        hint = hints[f.name]
        optional = isinstance(hint, types.UnionType) and type(None) in typing.get_args(hint)
        base = next((a for a in typing.get_args(hint) if a is not type(None)), hint) \
            if optional else hint
        high = 1.0 if re.search(r"probability|threshold|_drop$|tolerance", f.name) else None
        parse: Callable[[str], Any]
        if base is float:
            parse = _number(0.0, high, optional=optional)
        elif base is int:
            parse = _number(0, None, integer=True, optional=optional)
        elif base == tuple[str, ...]:
            parse = _names
        else:  # pairs such as forecast_weights stay in code
            continue
        found.append(Setting(f.name, f.default, docs.get(f.name, "insight rule threshold"),
                             parse, "insight rules"))
    return found


def _company_settings() -> list[Setting]:
    from salesradar.insights.holdout import DEFAULT_FRACTION

    return [
        Setting("currency", currency_module.DEFAULT_CURRENCY,
                "ISO 4217 code of the company's money (ILS, USD, EUR, GBP ...); every amount "
                "is written with its sign", currency_module.check_code, "company"),
        Setting("currency_symbol", None, "the sign written before amounts (default: the "
                "currency's usual sign, e.g. $ for USD)", _symbol, "company"),
        Setting("fiscal_year_start", 1, "month the fiscal year starts (1 = January): quarters "
                "and years of KPIs, targets and pacing start there",
                _number(1, 12, integer=True), "company"),
        Setting("holdout_share", DEFAULT_FRACTION, "share of new insights kept back (not "
                "delivered) to measure their effect against", _number(0.0, 0.5), "measurement"),
        Setting("outcome_window_days", None, "days after an insight its outcome is judged; "
                "unset: 1.5 times the customer's own rhythm, 30 to 120 days (30 without a "
                "rhythm)", _number(7, 365, integer=True, optional=True), "measurement"),
    ]


def _all_settings() -> dict[str, Setting]:
    return {s.key: s for s in (*_company_settings(), *_rule_settings())}


class _Registry(Mapping[str, Setting]):
    """:data:`SETTINGS`, built on first use (the rule thresholds live in ``insights``)."""

    _built: dict[str, Setting] | None = None

    def _all(self) -> dict[str, Setting]:
        if self._built is None:
            type(self)._built = _all_settings()
        assert self._built is not None
        return self._built

    def __getitem__(self, key: str) -> Setting:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


#: every setting a company may change, by key
SETTINGS: Mapping[str, Setting] = _Registry()


@dataclass(frozen=True)
class CompanySettings:
    """The effective value of every setting (stored, else default) and which were changed."""

    values: Mapping[str, Any]
    changed: frozenset[str] = field(default_factory=frozenset)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def currency(self) -> str:
        return str(self.values["currency"])

    @property
    def currency_symbol(self) -> str:
        sign = self.values["currency_symbol"]
        return str(sign) if sign else currency_module.symbol_of(self.currency)

    @property
    def fiscal_year_start(self) -> int:
        return int(self.values["fiscal_year_start"])

    @property
    def holdout_share(self) -> float:
        return float(self.values["holdout_share"])

    @property
    def outcome_window_days(self) -> int | None:
        days = self.values["outcome_window_days"]
        return None if days is None else int(days)

    def rules(self) -> RuleSettings:
        """The insight rule thresholds with the company's values."""
        from salesradar.insights.thresholds import RuleSettings

        names = {f.name for f in dataclasses.fields(RuleSettings)}
        return RuleSettings(**{k: v for k, v in self.values.items() if k in names})

    @contextmanager
    def active(self) -> Iterator[CompanySettings]:
        """The company's currency and fiscal year are current inside the block."""
        from salesradar.metrics.fiscal import use_fiscal_year

        with currency_module.use_currency(self.currency, self.currency_symbol), \
                use_fiscal_year(self.fiscal_year_start):
            yield self


def defaults() -> CompanySettings:
    """Every setting at its default."""
    return CompanySettings({k: s.default for k, s in SETTINGS.items()})


def _stored(value: str, setting: Setting) -> Any:
    loaded = json.loads(value)
    return tuple(loaded) if isinstance(setting.default, tuple) and loaded is not None else loaded


def load_settings(db: AppDB) -> CompanySettings:
    """The company's settings: what was set, else the default. A stored key this version does
    not know (set by a newer one) is ignored."""
    from sqlalchemy import select

    with db.session() as s:
        rows = {r.key: r.value for r in s.scalars(select(CompanySetting))}
    values = {k: s.default for k, s in SETTINGS.items()}
    changed = set()
    for key, value in rows.items():
        if key in SETTINGS:
            values[key] = _stored(value, SETTINGS[key])
            changed.add(key)
    return CompanySettings(values, frozenset(changed))


def setting_of(key: str) -> Setting:
    """The setting named ``key``, or an error naming the key and the ones it resembles."""
    if key not in SETTINGS:
        near = difflib.get_close_matches(key.replace("-", "_"), list(SETTINGS), n=3, cutoff=0.6)
        hint = f" (did you mean {', '.join(near[:3])}?)" if near else ""
        raise UserInputError(f"unknown setting {key!r}{hint}; `salesradar settings get` lists "
                             "them all")
    return SETTINGS[key]


def set_setting(db: AppDB, key: str, text: str, *, by: str | None = None) -> Any:
    """Check ``text`` as the value of ``key`` and store it; returns the value as read."""
    setting = setting_of(key)
    try:
        value = setting.parse(text)
    except UserInputError as exc:
        raise UserInputError(f"setting {key}: {exc}") from None
    before = load_settings(db).currency_symbol
    with db.session() as s:
        s.merge(CompanySetting(key=key, value=json.dumps(value), updated_at=datetime.now(UTC),
                               updated_by=by))
    _after_change(db, key, before)
    from salesradar.app.audit import record

    record(db, by or "unknown", "settings.set", key, {"value": value})
    return value


def _after_change(db: AppDB, key: str, sign_before: str) -> None:
    """The stored insight texts state amounts: a new currency rewrites them at once."""
    now = load_settings(db)
    if key in ("currency", "currency_symbol") and now.currency_symbol != sign_before:
        from salesradar.insights.store import InsightStore

        with now.active():
            InsightStore(db).rewrite_texts(old_sign=sign_before)


def reset_setting(db: AppDB, key: str, *, by: str | None = None) -> None:
    """Back to the default: the stored value is removed."""
    setting_of(key)
    before = load_settings(db).currency_symbol
    with db.session() as s:
        row = s.get(CompanySetting, key)
        if row is not None:
            s.delete(row)
    _after_change(db, key, before)
    from salesradar.app.audit import record

    record(db, by or "unknown", "settings.reset", key)


def describe_settings(db: AppDB) -> list[dict[str, Any]]:
    """Every setting with its value, default, whether it was changed, group and meaning."""
    current = load_settings(db)
    return [{"key": k, "value": current[k], "default": s.default, "changed": k in current.changed,
             "group": s.group, "description": s.description} for k, s in SETTINGS.items()]


def company_settings_of(workspace: str | Path) -> CompanySettings:
    """The settings of the workspace's company: its app store is read when one exists (or
    ``$SALESRADAR_APP_DB`` names one); a workspace without a store has the defaults."""
    import os

    from salesradar.app.db import APP_DB_ENV, AppDB, default_store_path

    if not os.environ.get(APP_DB_ENV) and not default_store_path(workspace).exists():
        return defaults()
    with AppDB.open(workspace=workspace) as db:
        return load_settings(db)


def activate(settings: CompanySettings) -> CompanySettings:
    """Make the company's currency and fiscal year current for the rest of this context (a CLI
    command, a request); :meth:`CompanySettings.active` does the same for one block."""
    from salesradar.metrics.fiscal import set_fiscal_year

    currency_module.activate(settings.currency, settings.currency_symbol)
    set_fiscal_year(settings.fiscal_year_start)
    return settings


def outcome_window(settings: CompanySettings, rhythm_days: float | None) -> int:
    """Days after an insight its outcome is judged: the company's window, else 1.5 times the
    customer's rhythm clamped to 30-120 days, else 30.

    >>> outcome_window(defaults(), 40.0), outcome_window(defaults(), None)
    (60, 30)
    """
    if settings.outcome_window_days is not None:
        return settings.outcome_window_days
    low, high = RHYTHM_WINDOW_DAYS
    if rhythm_days is None or rhythm_days != rhythm_days:
        return low
    return int(min(high, max(low, round(RHYTHM_WINDOW_FACTOR * rhythm_days))))
