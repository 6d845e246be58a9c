"""KPI declarations as data, and the one registry that holds them.

A KPI is declared once, in :mod:`salesradar.metrics.catalog`, as a :class:`Kpi`: its name, labels
and descriptions in English and Hebrew, its unit, whether higher is better, the tables it needs,
the dimensions and period grains it supports, and its formula. The formula is Ibis, never SQL, so
the same declaration runs on DuckDB, PostgreSQL and Spark.

Two kinds of formula exist (as in dbt metricflow, a metric is data and the grain and dimensions are
chosen per query):

* ``SIMPLE``: ``measures`` (named aggregations over one fact table) and a ``formula`` that combines
  them. These are grouped by period and dimensions by :mod:`salesradar.metrics.compute`, and several
  simple KPIs on the same fact table can be computed in one scan.
* ``DERIVED``: a ``build`` function that receives the :class:`~salesradar.metrics.frame.Query` and
  returns a table ``period, <dimension columns>, value``. Windowed KPIs (churn, new customers,
  concentration over trailing twelve months) and KPIs that combine several tables use it.

Ratios always divide by ``nullif(0)`` so that an empty denominator gives null, not zero or an error.

>>> from salesradar.metrics.registry import REGISTRY
>>> REGISTRY["gross_margin"].unit
<Unit.PERCENT: '%'>
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from salesradar.errors import UserInputError

if TYPE_CHECKING:
    from salesradar.metrics.frame import Query

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[Grain, ...] = ("day", "week", "month", "quarter", "year")
ALL_PERIODS: tuple[Grain | None, ...] = (*GRAINS, None)
ONLY_GRAINS: tuple[Grain | None, ...] = GRAINS


class Unit(StrEnum):
    """The unit a KPI value is expressed in."""

    MONEY = "money"  # in the company currency (salesradar.currency)
    PERCENT = "%"  # values are fractions: 0.25 means 25%
    DAYS = "days"
    HOURS = "hours"
    COUNT = "count"
    RATIO = "ratio"  # a multiple, such as pipeline coverage 3.2x
    INDEX = "index"  # a dimensionless index such as HHI (0..1)


class Kind(StrEnum):
    """How the formula is given (see the module docstring)."""

    SIMPLE = "simple"
    DERIVED = "derived"


Measure = Callable[[Any], Any]  # ibis Table -> ibis scalar (an aggregation)
Formula = Callable[[Any], Any]  # ibis Table of measures -> ibis column
Builder = Callable[["Query"], Any]  # Query -> ibis Table(period, dims..., value)


@dataclass(frozen=True)
class Kpi:
    """One KPI, declared once.

    Parameters
    ----------
    name
        snake_case identifier used by the CLI, the API and the marts.
    label_en, label_he, description_en, description_he
        What users see, in English and Hebrew.
    unit
        The unit of ``value``.
    higher_is_better
        ``None`` when neither direction is good in itself (e.g. weighted pipeline vs capacity).
    tables
        Canonical tables that must be loaded.
    dimensions
        Dimension names (see :data:`salesradar.metrics.frame.DIMENSIONS`) it can be split by.
    periods
        Grains it supports; ``None`` in the tuple means "the whole range, no period".
    kind, source, measures, formula, build
        The formula (see the module docstring). ``source`` names the fact table of a SIMPLE KPI.
    theme
        Catalogue section (sales, customers, profitability, pipeline, centre).
    flags
        Names of the flags (see :mod:`salesradar.metrics.flags`) computed with the value.
    sku_detail
        The formula groups invoice lines by customer and SKU; KPIs computed together with it
        then take revenue per customer from that aggregate (see :class:`~.frame.Query`).
    """

    name: str
    label_en: str
    label_he: str
    description_en: str
    description_he: str
    unit: Unit
    higher_is_better: bool | None
    tables: tuple[str, ...]
    dimensions: tuple[str, ...]
    periods: tuple[Grain | None, ...] = ALL_PERIODS
    kind: Kind = Kind.SIMPLE
    source: str | None = None
    measures: Mapping[str, Measure] = field(default_factory=dict)
    formula: Formula | None = None
    build: Builder | None = None
    theme: str = ""
    flags: tuple[str, ...] = ()
    sku_detail: bool = False

    def info(self) -> KpiInfo:
        """The declaration without its formula, for listings and the API."""
        return KpiInfo(
            name=self.name,
            label_en=self.label_en,
            label_he=self.label_he,
            description_en=self.description_en,
            description_he=self.description_he,
            unit=self.unit.value,
            higher_is_better=self.higher_is_better,
            tables=self.tables,
            dimensions=self.dimensions,
            periods=tuple(p or "none" for p in self.periods),
            kind=self.kind.value,
            theme=self.theme,
            flags=self.flags,
        )


@dataclass(frozen=True)
class KpiInfo:
    """What ``salesradar kpi --list`` shows about a KPI."""

    name: str
    label_en: str
    label_he: str
    description_en: str
    description_he: str
    unit: str
    higher_is_better: bool | None
    tables: tuple[str, ...]
    dimensions: tuple[str, ...]
    periods: tuple[str, ...]
    kind: str
    theme: str
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label_en": self.label_en,
            "label_he": self.label_he,
            "description_en": self.description_en,
            "description_he": self.description_he,
            "unit": self.unit,
            "higher_is_better": self.higher_is_better,
            "tables": list(self.tables),
            "dimensions": list(self.dimensions),
            "periods": list(self.periods),
            "kind": self.kind,
            "theme": self.theme,
            "flags": list(self.flags),
        }


@dataclass(frozen=True)
class CatalogIssue:
    """One problem in the KPI catalogue: which KPI, what is wrong."""

    kpi: str
    reason: str

    def __str__(self) -> str:
        return f"{self.kpi}: {self.reason}"


_SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
_HEBREW = re.compile(r"[\u0590-\u05FF]")


def validate_catalog(kpis: Iterable[Kpi]) -> list[CatalogIssue]:
    """Check every declaration at once and return every issue found (empty when all is well)."""
    from salesradar.metrics.flags import FLAGS
    from salesradar.metrics.frame import DIMENSIONS, SOURCES
    from salesradar.schema import TABLES

    issues: list[CatalogIssue] = []
    seen: set[str] = set()
    for kpi in kpis:
        def bad(reason: str, name: str = kpi.name) -> None:
            issues.append(CatalogIssue(name, reason))

        if kpi.name in seen:
            bad("declared twice")
        seen.add(kpi.name)
        if not _SNAKE.match(kpi.name):
            bad("name is not snake_case")
        for text_name in ("label_en", "label_he", "description_en", "description_he"):
            if not getattr(kpi, text_name).strip():
                bad(f"{text_name} is empty")
        for text_name in ("label_he", "description_he"):
            if not _HEBREW.search(getattr(kpi, text_name)):
                bad(f"{text_name} has no Hebrew text")
        for table_name in kpi.tables:
            if table_name not in TABLES:
                bad(f"needs unknown table {table_name!r}")
        for dim in kpi.dimensions:
            if dim not in DIMENSIONS:
                bad(f"unknown dimension {dim!r}")
        for flag in kpi.flags:
            if flag not in FLAGS:
                bad(f"unknown flag {flag!r}")
        if not kpi.periods:
            bad("supports no period")
        if kpi.kind is Kind.SIMPLE:
            if not kpi.measures or kpi.formula is None:
                bad("a simple KPI needs measures and a formula")
            if kpi.source not in SOURCES:
                bad(f"a simple KPI needs a known source, got {kpi.source!r}")
            else:
                keys = SOURCES[kpi.source].keys
                for dim in kpi.dimensions:
                    if dim in DIMENSIONS and DIMENSIONS[dim].key not in keys:
                        bad(f"dimension {dim!r} is not reachable from {kpi.source}")
            if kpi.build is not None:
                bad("a simple KPI must not have a build function")
        elif kpi.build is None:
            bad("a derived KPI needs a build function")
    return issues


class Registry(Mapping[str, Kpi]):
    """All declared KPIs by name; validated as a whole when built."""

    def __init__(self, kpis: Iterable[Kpi]) -> None:
        items = list(kpis)
        issues = validate_catalog(items)
        if issues:
            raise ValueError("invalid KPI catalogue:\n" + "\n".join(map(str, issues)))
        self._kpis = {k.name: k for k in items}

    def __getitem__(self, name: str) -> Kpi:
        try:
            return self._kpis[name]
        except KeyError:
            raise UserInputError(
                f"unknown KPI {name!r}; `salesradar kpi --list` shows the {len(self)} KPIs: "
                + ", ".join(sorted(self._kpis))
            ) from None

    def __iter__(self) -> Any:
        return iter(self._kpis)

    def __len__(self) -> int:
        return len(self._kpis)


def _load() -> Registry:
    from salesradar.metrics.catalog import ALL_KPIS

    return Registry(ALL_KPIS)


class _LazyRegistry(Mapping[str, Kpi]):
    """The registry, built on first use (the catalogue imports this module)."""

    _registry: Registry | None = None

    def _get(self) -> Registry:
        if self._registry is None:
            self._registry = _load()
        return self._registry

    def __getitem__(self, name: str) -> Kpi:
        return self._get()[name]

    def __iter__(self) -> Any:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


REGISTRY: Mapping[str, Kpi] = _LazyRegistry()
