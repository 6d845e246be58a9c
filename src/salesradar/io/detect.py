"""Propose a mapping for a file nobody wrote one for: data in without YAML.

:func:`detect_mapping` reads the header and the first rows of a file (:mod:`salesradar.io.sample`,
never the whole file) and answers, for one canonical table:

1. **A shipped export?** When the headers hold every source column of a shipped mapping
   (Priority, SAP Business One, Hashavshevet, HubSpot; ``io/mappings/*.yaml``), that mapping is
   the proposal, with its date format checked against the sample.
2. **Otherwise, column by column.** Each header is compared with the Hebrew and English names of
   each canonical column (:mod:`salesradar.io.synonyms`), and each column's values are profiled
   (:mod:`salesradar.io.profile`): a header that names an amount but holds dates is not taken, a
   required date nobody named is found by its values, a missing net revenue is computed as
   quantity × unit price. Two equally good candidates are reported as ambiguous, not chosen
   silently.
3. **Formats** come from the values: encoding and delimiter, the day/month order (a first field
   above 12 is a day), the decimal comma, currency signs, trailing-minus and parenthesis negatives.

The result, a :class:`MappingProposal`, names per canonical column the source, a confidence and
the reason; lists the required columns it could not find; and turns into the importer's own
:class:`~salesradar.io.mapping.Mapping` (``proposal.mapping``) or YAML (``proposal.to_yaml()``)
that ``--mapping FILE`` reads back unchanged::

    proposal = detect_mapping("invoice_lines", "export.csv")
    proposal.require_complete()            # a clear error naming file and missing columns
    import_file(ws, "invoice_lines", "export.csv", proposal.mapping)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from salesradar.errors import UserInputError
from salesradar.io.mapping import ColumnMapping, Mapping, load_mapping, normalize_header
from salesradar.io.mapping_file import mapping_data, mapping_to_yaml, preview_rows
from salesradar.io.profile import Profile, number_format, profile
from salesradar.io.sample import SAMPLE_ROWS, Sample, read_sample
from salesradar.io.synonyms import PROFIT, UNIT_COST, UNIT_PRICE, header_key, header_score, synonyms
from salesradar.schema import Column, ColumnType, Table, table

SHIPPED_MAPPINGS = Path(__file__).parent / "mappings"
LINE_AMOUNTS = ("net_revenue", "cost", "amount")
UNIT_WORDS = ("unit", "each", "per", "ליחידה", "יחידה")
NAME_WORDS = ("name", "description", "desc", "שם", "תאור", "תיאור")
DATE_TYPES = (ColumnType.DATE, ColumnType.TIMESTAMP)
NUMBER_TYPES = (ColumnType.MONEY, ColumnType.NUMBER, ColumnType.INTEGER)
MIN_SCORE = 0.3


@dataclass(frozen=True)
class ColumnProposal:
    """Where one canonical column would come from, how sure the detector is, and why."""

    target: str
    source: str | None = None  # the file's header
    confidence: float = 0.0  # 0..1
    reason: str = ""  # shipped export, canonical name, header synonym, value pattern, formula...
    formula: str | None = None
    constant: str | None = None
    alternatives: tuple[str, ...] = ()  # other headers as likely: the choice is ambiguous

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"target": self.target, "source": self.source,
                                "confidence": round(self.confidence, 2), "reason": self.reason}
        if self.formula is not None:
            data["formula"] = self.formula
        if self.constant is not None:
            data["constant"] = self.constant
        if self.alternatives:
            data["alternatives"] = list(self.alternatives)
        return data


@dataclass(frozen=True)
class DetectedFormats:
    """The formats read off the sample."""

    encoding: str | None = None
    delimiter: str | None = None
    date_formats: tuple[str, ...] = ()
    date_order: str | None = None  # day-first, month-first, iso, undecided
    decimal: str = "."
    thousands: str = ","
    negatives: tuple[str, ...] = ()  # trailing minus, parentheses, leading minus
    currencies: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"encoding": self.encoding, "delimiter": self.delimiter,
                "date_format": list(self.date_formats), "date_order": self.date_order,
                "decimal": self.decimal, "thousands": self.thousands,
                "negatives": list(self.negatives), "currencies": list(self.currencies)}


@dataclass(frozen=True)
class MappingProposal:
    """A proposed mapping of one file onto one canonical table, with the evidence for it."""

    table: str
    file: str
    columns: dict[str, ColumnProposal]  # canonical column -> proposal, in table order
    missing: tuple[str, ...]  # required columns no header was found for
    formats: DetectedFormats
    mapping: Mapping  # what the importer runs with
    shipped: str | None = None  # name of the shipped mapping the headers match
    saved: str | None = None  # name of the saved mapping (detect_mapping's saved=) they match
    notes: tuple[str, ...] = ()
    sample: Sample | None = field(default=None, repr=False, compare=False)

    @property
    def complete(self) -> bool:
        return not self.missing

    def require_complete(self) -> None:
        """Raise a :class:`UserInputError` naming the file and every required column missing."""
        if not self.missing:
            return
        headers = ", ".join(self.sample.headers) if self.sample else "?"
        lines = [f"  - {self.file}: no column found for {name} (required in {self.table})"
                 + self._candidates(name) for name in self.missing]
        raise UserInputError(
            f"{self.file}: cannot map {len(self.missing)} required column(s) of {self.table}:\n"
            + "\n".join(lines)
            + f"\nthe file's columns: {headers}\nwrite the mapping with `salesradar mapping "
            f"suggest {self.table} {self.file} --out mapping.yaml`, name the header of each "
            "missing column under `columns:`, and import with --mapping mapping.yaml"
        )

    def _candidates(self, name: str) -> str:
        found = [n for n in self.notes if n.startswith(f"{name}:")]
        return f" ({found[0].split(':', 1)[1].strip()})" if found else ""

    def with_sources(self, changes: dict[str, str | None]) -> MappingProposal:
        """The proposal with some columns set by hand (a header, or None to leave one out):
        what an upload form's corrections give."""
        spec = table(self.table)
        headers = self.sample.headers if self.sample else ()
        columns = dict(self.columns)
        for target, source in changes.items():
            if target not in spec.column_names:
                raise UserInputError(f"{spec.name} has no column {target!r}")
            if source is None or source == "":
                columns.pop(target, None)
                continue
            if headers and source not in headers:
                raise UserInputError(f"{self.file} has no column {source!r}; its columns: "
                                     + ", ".join(headers))
            columns[target] = ColumnProposal(target, source, 1.0, "chosen by hand")
        ordered = {c: columns[c] for c in spec.column_names if c in columns}
        missing = tuple(c for c in spec.required_columns
                        if c not in ordered and c != spec.generated_key)
        mapping = dataclasses.replace(
            self.mapping, columns={c: _column_mapping(p, self.mapping.columns.get(c))
                                   for c, p in ordered.items()})
        return dataclasses.replace(self, columns=ordered, missing=missing, mapping=mapping)

    def preview(self, rows: int = 20) -> list[dict[str, str | None]]:
        """The first sample rows as canonical columns (source text; formulas computed), for a
        page that shows the proposal beside the data."""
        if self.sample is None:
            return []
        return preview_rows(self.sample, self.mapping, rows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.file,
            "shipped": self.shipped,
            "saved": self.saved,
            "columns": [p.to_dict() for p in self.columns.values()],
            "missing": list(self.missing),
            "formats": self.formats.to_dict(),
            "notes": list(self.notes),
            "mapping_file": mapping_data(self.mapping),
        }

    def to_yaml(self) -> str:
        """The proposal as a mapping file ``--mapping`` reads, each column commented with its
        reason and confidence, the notes and missing columns at the top."""
        head = [f"# proposed by salesradar for {self.file}; review before use"]
        head += [f"# note: {n}" for n in self.notes]
        head += [f"# MISSING required column {m}: name its header under columns:"
                 for m in self.missing]
        comments = {c: f"{p.reason}, confidence {p.confidence:.2f}"
                    + (f"; also possible: {', '.join(p.alternatives)}" if p.alternatives else "")
                    for c, p in self.columns.items()}
        return "\n".join(head) + "\n" + mapping_to_yaml(self.mapping, comments)


def _column_mapping(proposal: ColumnProposal, previous: ColumnMapping | None) -> ColumnMapping:
    if previous is not None and previous.source == proposal.source and proposal.source:
        return previous  # keeps a shipped column's values translation and format
    return ColumnMapping(proposal.target, source=proposal.source, constant=proposal.constant,
                         formula=proposal.formula)


# -- detection -------------------------------------------------------------------------------


def shipped_mappings() -> dict[str, Mapping]:
    """The shipped mappings by name (``priority_invoice_lines``, ...)."""
    return {path.stem: load_mapping(path) for path in sorted(SHIPPED_MAPPINGS.glob("*.yaml"))}


def _sources(mapping: Mapping) -> set[str]:
    found: set[str] = set()
    for column in mapping.columns.values():
        if column.source:
            found.add(normalize_header(column.source))
        found.update(normalize_header(c) for c in column.formula_columns)
    return found


def match_shipped(headers: tuple[str, ...], table_name: str | None = None,
                  mappings: dict[str, Mapping] | None = None) -> tuple[str, Mapping] | None:
    """The shipped mapping (or one of ``mappings``) whose every source column is among
    ``headers`` (of ``table_name`` when given; the one naming most columns if several fit)."""
    have = {normalize_header(h) for h in headers}
    candidates = shipped_mappings() if mappings is None else mappings
    fits = [(len(_sources(m)), name, m) for name, m in candidates.items()
            if (table_name is None or m.table == table_name) and _sources(m) <= have]
    if not fits:
        return None
    _, name, mapping = max(fits, key=lambda f: f[0])
    return name, mapping


def detect_mapping(table_name: str, path: Path | str, *, rows: int = SAMPLE_ROWS,
                   sheet: str | int | None = None,
                   saved: dict[str, Mapping] | None = None) -> MappingProposal:
    """Propose a mapping of the file at ``path`` onto ``table_name`` from its first ``rows``
    rows: a ``saved`` mapping (name -> mapping, e.g. the ones kept from earlier uploads) or a
    shipped one whose source columns the headers hold, else one built from header names and
    values.

    Never raises for a column it cannot find: see :attr:`MappingProposal.missing` and
    :meth:`MappingProposal.require_complete`.
    """
    spec = table(table_name)
    sample = read_sample(path, rows, sheet=sheet)
    profiles = {h: profile([r[i] if i < len(r) else None for r in sample.rows])
                for i, h in enumerate(sample.headers)}
    decimal, thousands = number_format(profiles.values())
    known = match_shipped(sample.headers, spec.name, saved) if saved else None
    if known is not None:
        return _shipped_proposal(spec, sample, profiles, *known, label="saved mapping")
    shipped = match_shipped(sample.headers, spec.name)
    if shipped is not None:
        return _shipped_proposal(spec, sample, profiles, *shipped)
    notes: list[str] = []
    other = match_shipped(sample.headers)
    if other is not None:
        notes.append(f"the headers are those of the shipped export {other[0]} "
                     f"(table {other[1].table}), not of {spec.name}")
    columns = _choose_columns(spec, sample, profiles, notes)
    columns.update(_formulas(spec, sample, profiles, columns))
    ordered = {c: columns[c] for c in spec.column_names if c in columns}
    date_columns = [profiles[p.source] for c, p in ordered.items() if p.source
                    and spec.column(c).type in (*DATE_TYPES, ColumnType.PERIOD)]
    formats = _formats(sample, date_columns, profiles, decimal, thousands, notes)
    generated = spec.generated_key is not None and spec.generated_key not in ordered
    if generated:
        notes.append(f"{spec.generated_key}: the file has none; lines are numbered per "
                     f"{', '.join(spec.generated_key_group)} in file order, and a document "
                     "sent again replaces all of its lines (replace_documents)")
    missing = tuple(c for c in spec.required_columns
                    if c not in ordered and c != spec.generated_key)
    skip = _skip_if_empty(spec, ordered, profiles, len(sample.rows), notes)
    if sample.skip_rows:
        notes.append(f"the header is line {sample.skip_rows + 1}: the {sample.skip_rows} "
                     "line(s) above it (a report's title) are skipped (skip_rows)")
    mapping = Mapping(
        table=spec.name,
        columns={c: _column_mapping(p, None) for c, p in ordered.items()},
        encoding=sample.encoding,
        delimiter=sample.delimiter,
        date_formats=formats.date_formats,
        decimal=decimal,
        thousands=thousands,
        sheet=sample.sheet if sample.kind == "excel" and sheet is not None else None,
        skip_rows=sample.skip_rows,
        skip_if_empty=skip,
        replace_documents=generated,
    )
    return MappingProposal(spec.name, sample.file, ordered, missing, formats, mapping,
                           notes=tuple(notes), sample=sample)


def _skip_if_empty(spec: Table, columns: dict[str, ColumnProposal],
                   profiles: dict[str, Profile], rows: int, notes: list[str]
                   ) -> tuple[str, ...]:
    """Required ids and dates that some sample rows leave empty (anonymous sales, deals not yet
    engaged): such rows are skipped and counted, and the proposal says so."""
    skip: list[str] = []
    for name, proposal in columns.items():
        column = spec.column(name)
        prof = profiles.get(proposal.source or "")
        if (prof is None or not column.required or not prof.empty or not prof.count
                or column.type not in (ColumnType.ID, *DATE_TYPES)):
            continue
        skip.append(name)
        notes.append(f"{name}: {prof.empty} of the first {rows} rows have none; such rows are "
                     "skipped and counted (skip_if_empty); remove it from skip_if_empty to "
                     "have them reported as errors instead")
    return tuple(skip)


def _shipped_proposal(spec: Table, sample: Sample, profiles: dict[str, Profile], name: str,
                      mapping: Mapping, label: str = "shipped export") -> MappingProposal:
    """The shipped mapping as the proposal; its date format replaced when the sample's dates
    do not read with it but do with the order they prove."""
    by_norm = {normalize_header(h): h for h in sample.headers}
    notes: list[str] = []
    columns = {
        c: ColumnProposal(c, by_norm.get(normalize_header(m.source)) if m.source else None, 1.0,
                          f"{label} {name}", formula=m.formula, constant=m.constant)
        for c, m in mapping.columns.items()
    }
    date_profiles = [profiles[by_norm[normalize_header(m.source)]]
                     for c, m in mapping.columns.items()
                     if m.source and spec.column(c).type in DATE_TYPES]
    shown = [f for p in date_profiles for f in p.date_formats]
    order = _file_order(date_profiles)
    if (mapping.date_formats and shown and order in ("day-first", "month-first")
            and not set(shown) & set(mapping.date_formats)):
        notes.append(f"the {label.split()[0]} mapping reads dates as "
                     f"{', '.join(mapping.date_formats)}; "
                     f"this file writes {', '.join(dict.fromkeys(shown))}, which is used")
        mapping = dataclasses.replace(mapping, date_formats=tuple(dict.fromkeys(shown)))
    if sample.skip_rows != mapping.skip_rows:
        notes.append(f"the header is line {sample.skip_rows + 1}, not "
                     f"{mapping.skip_rows + 1} as in the {label.split()[0]} mapping "
                     "(skip_rows)")
        mapping = dataclasses.replace(mapping, skip_rows=sample.skip_rows)
    ordered = {c: columns[c] for c in spec.column_names if c in columns}
    formats = DetectedFormats(
        encoding=mapping.encoding or sample.encoding, delimiter=sample.delimiter,
        date_formats=mapping.date_formats, date_order=order, decimal=mapping.decimal,
        thousands=mapping.thousands,
        negatives=tuple(sorted({n for p in profiles.values() for n in p.negatives})),
        currencies=tuple(sorted({c for p in profiles.values() for c in p.currencies})))
    missing = tuple(c for c in spec.required_columns
                    if c not in ordered and c != spec.generated_key)
    shipped, saved = (name, None) if label == "shipped export" else (None, name)
    return MappingProposal(spec.name, sample.file, ordered, missing, formats, mapping,
                           shipped=shipped, saved=saved, notes=tuple(notes), sample=sample)


def _compatibility(column: Column, prof: Profile, typed: str | None) -> float:
    """How well a column's values fit a canonical type: 1 fits, 0 cannot be."""
    if prof.count == 0:
        return 0.5  # an empty column: the header decides
    kind = column.type
    if typed is not None and kind in DATE_TYPES and typed.startswith(("date", "timestamp")):
        return 1.0
    if kind in DATE_TYPES:
        return 1.0 if prof.is_date and prof.order != "mixed" else 0.0
    if kind is ColumnType.PERIOD:
        return 1.0
    if kind in NUMBER_TYPES:
        if not prof.is_number:
            return 0.0
        return 0.8 if kind is ColumnType.INTEGER and prof.fractions > 0 else 1.0
    if kind is ColumnType.ID:
        if prof.is_date:
            return 0.2
        return 0.4 if prof.looks_like_amount else 1.0
    if kind is ColumnType.ENUM:
        return 1.0 if _enum_share(column, prof) >= 0.9 else 0.4
    if kind is ColumnType.BOOLEAN:
        return 1.0 if prof.booleans >= 0.9 else 0.2
    if prof.is_number and any(w in column.name for w in ("name", "description")):
        return 0.5
    return 1.0


def _enum_share(column: Column, prof: Profile) -> float:
    """Share of a column's distinct sample values that the importer accepts for an enum."""
    if not prof.values:
        return 0.0
    allowed = set(column.values) | {k.replace(" ", "_").replace("-", "_")
                                    for k in column.synonyms}
    fits = sum(1 for v in prof.values
               if v.lower().replace(" ", "_").replace("-", "_") in allowed)
    return fits / len(prof.values)


def _header_score(spec: Table, column: Column, header: str) -> tuple[float, str]:
    key = header_key(header)
    if normalize_header(header) == column.name or key == header_key(column.name):
        return 1.0, "canonical name"
    score = header_score(key, synonyms(spec.name, column.name))
    if column.name in LINE_AMOUNTS and any(w in key.split() for w in UNIT_WORDS):
        return 0.0, ""  # a unit price or cost is not a line's amount (see _formulas)
    if score and column.type is ColumnType.ID and score < 1 and \
            any(w in key.split() for w in NAME_WORDS):
        score = 0.3  # "Customer Name" is not the customer's id
    if score >= 1:
        return 0.9, "header synonym"
    return score, "header contains a synonym" if score else ""


def _choose_columns(spec: Table, sample: Sample, profiles: dict[str, Profile],
                    notes: list[str]) -> dict[str, ColumnProposal]:
    """Headers to canonical columns: the best-scoring pairs first, one header per column."""
    pairs: list[tuple[float, int, str, str, str]] = []
    for order, column in enumerate(spec.columns):
        for header in sample.headers:
            score, reason = _header_score(spec, column, header)
            if not score:
                continue
            fit = _compatibility(column, profiles[header], sample.typed.get(header))
            if score * fit >= MIN_SCORE:
                pairs.append((score * fit, order, column.name, header, reason))
    pairs.sort(key=lambda p: (-p[0], not spec.column(p[2]).required, p[1]))
    chosen: dict[str, ColumnProposal] = {}
    taken: set[str] = set()
    for score, _, target, header, reason in pairs:
        if target in chosen or header in taken:
            continue
        rivals = tuple(h for s, _, t, h, _ in pairs
                       if t == target and h != header and h not in taken and s == score)
        if rivals:
            notes.append(f"{target}: {header!r} or {', '.join(map(repr, rivals))} fit equally "
                         f"well; {header!r} was taken")
        chosen[target] = ColumnProposal(target, header, score * (0.6 if rivals else 1.0),
                                        reason, alternatives=rivals)
        taken.add(header)
    _by_values(spec, sample, profiles, chosen, taken, notes)
    return chosen


def _by_values(spec: Table, sample: Sample, profiles: dict[str, Profile],
               chosen: dict[str, ColumnProposal], taken: set[str], notes: list[str]) -> None:
    """Required columns no header named, found by their values where only one column fits."""
    for column in spec.columns:
        if column.name in chosen or column.name == spec.generated_key:
            continue
        if column.type is ColumnType.ENUM and column.required:
            fits = [h for h in sample.headers if _enum_share(column, profiles[h]) >= 0.9]
        elif column.type in DATE_TYPES and column.required:
            fits = [h for h in sample.headers if h not in taken and profiles[h].is_date]
        else:
            continue
        if len(fits) == 1:
            chosen[column.name] = ColumnProposal(column.name, fits[0], 0.5, "value pattern")
            taken.add(fits[0])
        elif fits:
            notes.append(f"{column.name}: the values of {', '.join(map(repr, fits))} all fit; "
                         "name the right one")


def _find(sample: Sample, names: tuple[str, ...], profiles: dict[str, Profile]) -> str | None:
    keys = {header_key(n) for n in names}
    return next((h for h in sample.headers
                 if header_key(h) in keys and profiles[h].is_number), None)


def _formulas(spec: Table, sample: Sample, profiles: dict[str, Profile],
              chosen: dict[str, ColumnProposal]) -> dict[str, ColumnProposal]:
    """Invoice-line amounts computed from the columns an export has instead: revenue as
    quantity × unit price, cost as quantity × unit cost or as revenue − profit."""
    if spec.name != "invoice_lines" or "quantity" not in chosen:
        return {}
    quantity = chosen["quantity"].source
    price = _find(sample, UNIT_PRICE, profiles)
    unit_cost = _find(sample, UNIT_COST, profiles)
    profit = _find(sample, PROFIT, profiles)
    found: dict[str, ColumnProposal] = {}
    if "net_revenue" not in chosen and price and quantity:
        found["net_revenue"] = ColumnProposal(
            "net_revenue", None, 0.7, "formula: quantity × unit price",
            formula=f"{{{quantity}}} * {{{price}}}")
    revenue = chosen.get("net_revenue")
    if "cost" not in chosen and unit_cost and quantity:
        found["cost"] = ColumnProposal("cost", None, 0.7, "formula: quantity × unit cost",
                                       formula=f"{{{quantity}}} * {{{unit_cost}}}")
    elif "cost" not in chosen and profit and revenue and revenue.source:
        found["cost"] = ColumnProposal("cost", None, 0.6, "formula: revenue − profit",
                                       formula=f"{{{revenue.source}}} - {{{profit}}}")
    return found


def _file_order(date_profiles: list[Profile]) -> str | None:
    orders = {p.order for p in date_profiles if p.order}
    for decided in ("day-first", "month-first"):
        if decided in orders:
            return decided
    if "undecided" in orders:
        return "undecided"
    return "iso" if orders else None


def _formats(sample: Sample, date_profiles: list[Profile], profiles: dict[str, Profile],
             decimal: str, thousands: str, notes: list[str]) -> DetectedFormats:
    """The file's formats: the dates' order and notation, numbers' separators and signs."""
    order = _file_order(date_profiles)
    orders = {p.order for p in date_profiles} - {None, "iso", "undecided"}
    date_formats: tuple[str, ...] = ()
    if len(orders) > 1:
        notes.append("date columns disagree on the day/month order; set a `format:` per column")
    elif order in ("day-first", "month-first"):
        swap = order == "month-first"
        shown: dict[str, None] = {}
        for p in date_profiles:
            for f in p.date_formats:
                f = f.replace("%d", "%D").replace("%m", "%d").replace("%D", "%m") \
                    if (p.order == "undecided" and swap) else f
                shown[f] = None
        date_formats = tuple(shown)
    elif order == "undecided":
        notes.append(f"day/month order: every day in the first {len(sample.rows)} rows is at "
                     "most 12; the import decides over the whole file (day-first on a tie)")
    serial = [h for h, p in profiles.items() if p.serials >= 0.9 and not p.is_date
              and any(w in header_key(h).split() for w in ("date", "תאריך"))]
    if serial:
        notes.append(f"{', '.join(serial)}: numbers like Excel day numbers (45000 = "
                     "15/03/2023); export the dates as text (dd/mm/yyyy) to import them")
    return DetectedFormats(
        encoding=sample.encoding, delimiter=sample.delimiter, date_formats=date_formats,
        date_order=order, decimal=decimal, thousands=thousands,
        negatives=tuple(sorted({n for p in profiles.values() for n in p.negatives})),
        currencies=tuple(sorted({c for p in profiles.values() for c in p.currencies})),
    )
