"""What every connector shares: the error type, the objects of a system, what a pull returns.

A connector turns one API object (Priority's ``AINVOICES``, HubSpot's ``deals``) into flat records
whose keys are the API's own field names (``IVNUM``, ``dealstage``), plus a few values the
connector derives where the API spreads one fact over several calls (a deal's primary company
from the associations API, a stage's label from the pipelines API). A shipped mapping file
(``connectors/mappings/<system>_<feed>.yaml``) then maps those fields onto a canonical table
through the ordinary importer, so a company adjusts a field the way it adjusts a file import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

from salesradar.errors import SalesradarError

SYSTEMS = ("hubspot", "priority", "sap-b1")


class ConnectorError(SalesradarError, ConnectionError):
    """A connection cannot be used or a sync failed; nothing was written. The message names the
    connection, the object and the reason, never a credential."""


class ConnectorAuthError(ConnectorError):
    """The system refused the credentials (HTTP 401/403, a failed login)."""


@dataclass(frozen=True)
class Feed:
    """One canonical table an API object feeds, through the mapping file ``mapping``."""

    table: str
    mapping: str  # file name in connectors/mappings, without .yaml


@dataclass(frozen=True)
class SourceObject:
    """An object of the source system and the tables it feeds (the first is its main table)."""

    name: str
    feeds: tuple[Feed, ...]
    incremental: bool = True  # False: small lists read whole on every sync (owners, agents)


class Spool(list[dict[str, Any]]):
    """The flat rows of one feed, written to a Parquet part file in ``folder`` whenever
    ``limit`` rows are pending, so a first sync of millions of lines never holds them all.

    A part is cut only after an ``append`` or ``extend`` call: a connector adds a document's
    lines with one ``extend``, so a document is never split between two parts (each part is
    imported on its own, and a re-sent document replaces all of its stored lines).
    """

    def __init__(self, name: str, folder: Path | None, limit: int) -> None:
        super().__init__()
        self.name = name
        self.folder = folder
        self.limit = limit
        self.parts: list[Path] = []
        self.total = 0

    def append(self, row: dict[str, Any]) -> None:
        super().append(row)
        self._check()

    def extend(self, rows: Iterable[dict[str, Any]]) -> None:
        super().extend(rows)
        self._check()

    def _check(self) -> None:
        if self.folder is not None and len(self) >= self.limit:
            self.spill()

    def spill(self) -> None:
        """Write the pending rows to the next part file (nothing when none are pending)."""
        if not self:
            return
        if self.folder is None:
            raise RuntimeError("a spool without a folder keeps its rows in memory")
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{self.name}.{len(self.parts):04d}.parquet"
        write_rows(self, path)
        self.parts.append(path)
        self.total += len(self)
        self.clear()


@dataclass
class Pulled:
    """What one object's pull brings: flat rows per feed (spooled to Parquet parts in
    ``folder``), how many API records were read, the newest modification time seen (the next
    high-water mark) and the keys the source says are gone (archived records, cancelled
    documents), per canonical table."""

    folder: Path | None = None
    spool_rows: int = 100_000
    rows: dict[str, Spool] = field(default_factory=dict)
    fetched: int = 0
    high_water: datetime | None = None
    deleted: dict[str, set[str]] = field(default_factory=dict)

    def feed(self, name: str) -> Spool:
        """The rows of feed ``name`` (a mapping's name)."""
        if name not in self.rows:
            self.rows[name] = Spool(name, self.folder, self.spool_rows)
        return self.rows[name]

    def seen(self, modified: datetime | None) -> None:
        """Advance the high-water mark to ``modified`` when it is newer."""
        if modified is not None and (self.high_water is None or modified > self.high_water):
            self.high_water = modified

    def parts(self, name: str) -> list[Path]:
        """Every part file of feed ``name``, the pending rows written last."""
        spool = self.rows.get(name)
        if spool is None:
            return []
        spool.spill()
        return list(spool.parts)


def write_rows(rows: list[dict[str, Any]], path: Path) -> None:
    """Flat records as a Parquet file of text columns (the importer converts them, with the
    same rules and messages as a CSV): one column per key of any record, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    arrays = {name: pa.array([text(row.get(name)) for row in rows], pa.string())
              for name in columns}
    pq.write_table(pa.table(arrays), path)


class Connector(Protocol):
    """A source system: its objects, a connection check, and a pull per object."""

    system: str
    objects: tuple[SourceObject, ...]

    def check(self) -> dict[str, Any]:
        """One cheap authenticated call; what it learned (e.g. the number of owners)."""

    def pull(self, obj: SourceObject, since: datetime | None, fields: set[str],
             pulled: Pulled) -> None:
        """Records of ``obj`` changed since ``since`` (all when None), into ``pulled``.
        ``fields`` are extra source fields a company's mapping names, to request besides the
        defaults."""

    def close(self) -> None:
        """Release the HTTP client (and log out where the system keeps a session)."""


_OFFSET = re.compile(r"(Z|[+-]\d\d:?\d\d)$")


def wall_time(value: Any) -> datetime | None:
    """An API date-time as the source's wall-clock time, its offset dropped.

    Priority writes ``2024-03-01T00:00:00+02:00`` for an invoice dated 1 March in Israel;
    converting it to UTC would move the invoice to 29 February, so the offset is dropped, not
    applied. HubSpot's ``...Z`` times stay UTC. None and empty text stay None.
    """
    if value is None or value == "":
        return None
    text = _OFFSET.sub("", str(value).strip())
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def iso(value: datetime | None) -> str | None:
    """A wall-clock time as ISO text for the importer (seconds, no offset)."""
    return None if value is None else value.isoformat(sep=" ", timespec="seconds")


def chunks(items: list[str], size: int) -> Iterable[list[str]]:
    """``items`` in lists of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def text(value: Any) -> str | None:
    """A record value as text for the staging file: numbers without a float's noise, booleans
    as true/false, empty as None."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: Any) -> float | None:
    """A numeric field as a float; None when empty or not a number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def field_value(value: Any) -> Any:
    """A field as the staging file keeps it: OData date-times as wall-clock ISO text (their
    offset dropped, see :func:`wall_time`), everything else as it came."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        moment = wall_time(value)
        if moment is not None:
            return moment.isoformat(sep=" ")
    return value
