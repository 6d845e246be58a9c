"""A sync: pull what changed from a connection, import it all or nothing, advance the marks.

One sync of one connection is one atomic publish of the workspace
(:func:`salesradar.workspace.writing`): under the writer lock it works on a private copy, and
for each object of the source system, masters first,

1. reads the object's high-water mark (the newest modification time the last published sync
   saw) and asks the API for records changed since that mark less the overlap window
   (``overlap_minutes``, default 60: a record saved with an older time by a slow transaction
   is caught on the next sync);
2. writes the flat records to Parquet files in a temporary folder (a part every 100,000
   rows, never splitting a document, so memory stays flat on a first sync of millions of
   lines) and imports them with the ordinary importer and the object's mapping (the shipped
   one under ``connectors/mappings``, or the connection's own), so every check of a file
   import applies, a re-sent record or document changes nothing twice, and a re-sent invoice
   replaces its lines;
3. deletes the rows of records the source reports gone (HubSpot's archived records, SAP's
   cancelled documents, a Priority invoice without lines).

The new marks and the run's report are written into the same copy, and the copy is published
only when everything succeeded. An error, a Ctrl-C or a killed process publishes nothing: the
served workspace, its data and its marks stay exactly as they were, and the next sync starts
from the same marks again.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from salesradar.connectors.base import (
    Connector,
    ConnectorError,
    Feed,
    Pulled,
    SourceObject,
    iso,
)
from salesradar.connectors.http import HttpSettings, Sleep
from salesradar.connectors.secrets import read_secret
from salesradar.connectors.store import (
    Connection,
    get_connection,
    last_run,
    list_connections,
    read_state,
    read_status,
    record_attempt,
    write_state,
)
from salesradar.errors import SalesradarError
from salesradar.io.importer import import_file
from salesradar.io.mapping import Mapping, load_mapping
from salesradar.schema import table as table_spec
from salesradar.workspace import IMPORT_LOG, Workspace, open_served, quote, writing

MAPPINGS = Path(__file__).parent / "mappings"
DEFAULT_OVERLAP_MINUTES = 60
SPOOL_ROWS = 100_000  # rows of a feed held in memory before they go to a Parquet part
Progress = Callable[[str], None]


@dataclass
class ObjectReport:
    """One object of a sync: records fetched, rows changed, the marks before and after."""

    object: str
    tables: list[str]
    since: str | None
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0
    high_water: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> int:
        return self.inserted + self.updated + self.deleted

    def to_dict(self) -> dict[str, Any]:
        return {"object": self.object, "tables": self.tables, "since": self.since,
                "fetched": self.fetched, "changed": self.changed, "inserted": self.inserted,
                "updated": self.updated, "unchanged": self.unchanged, "deleted": self.deleted,
                "skipped": self.skipped, "high_water": self.high_water,
                "warnings": self.warnings}


@dataclass
class SyncReport:
    """A sync of one connection: per object what was fetched and changed, and how it went."""

    connection: str
    system: str
    full: bool
    started_at: str
    finished_at: str | None = None
    seconds: float = 0.0
    ok: bool = False
    error: str | None = None
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    waited_s: float = 0.0
    objects: list[ObjectReport] = field(default_factory=list)

    @property
    def fetched(self) -> int:
        return sum(o.fetched for o in self.objects)

    @property
    def changed(self) -> int:
        return sum(o.changed for o in self.objects)

    def to_dict(self) -> dict[str, Any]:
        return {"connection": self.connection, "system": self.system, "full": self.full,
                "ok": self.ok, "error": self.error, "started_at": self.started_at,
                "finished_at": self.finished_at, "seconds": round(self.seconds, 3),
                "fetched": self.fetched, "changed": self.changed, "requests": self.requests,
                "retries": self.retries, "rate_limited": self.rate_limited,
                "waited_s": round(self.waited_s, 3),
                "objects": [o.to_dict() for o in self.objects]}


def make_connector(connection: Connection, secret: str, *, settings: HttpSettings | None = None,
                   sleep: Sleep | None = None) -> Connector:
    """The connector of ``connection``'s system."""
    if connection.system == "hubspot":
        from salesradar.connectors.hubspot import HubSpotConnector
        return HubSpotConnector(connection, secret, settings=settings, sleep=sleep)
    if connection.system == "priority":
        from salesradar.connectors.priority import PriorityConnector
        return PriorityConnector(connection, secret, settings=settings, sleep=sleep)
    if connection.system == "sap-b1":
        from salesradar.connectors.sap_b1 import SapB1Connector
        return SapB1Connector(connection, secret, settings=settings, sleep=sleep)
    raise ConnectorError(f"connection {connection.name!r}: unknown system {connection.system!r}")


def objects_of(system: str) -> tuple[SourceObject, ...]:
    """The objects (and their feeds) a system's connector reads."""
    from salesradar.connectors.hubspot import HubSpotConnector
    from salesradar.connectors.priority import PriorityConnector
    from salesradar.connectors.sap_b1 import SapB1Connector

    objects: dict[str, tuple[SourceObject, ...]] = {
        "hubspot": HubSpotConnector.objects, "priority": PriorityConnector.objects,
        "sap-b1": SapB1Connector.objects}
    if system not in objects:
        raise ConnectorError(f"unknown system {system!r}; the systems are: "
                             f"{', '.join(objects)}")
    return objects[system]


def feed_mapping(connection: Connection, feed: Feed) -> Mapping:
    """The connection's own mapping of ``feed`` if it has one, else the shipped one."""
    path = connection.mappings.get(feed.mapping) or connection.mappings.get(feed.table)
    return load_mapping(path or MAPPINGS / f"{feed.mapping}.yaml", feed.table)


def mapped_fields(mapping: Mapping) -> set[str]:
    """The source fields a mapping reads (to request them from the API)."""
    found: set[str] = set()
    for column in mapping.columns.values():
        if column.source:
            found.add(column.source)
        found.update(column.formula_columns)
    return found


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def sync_connection(
    workspace: Path | str,
    name: str,
    *,
    full: bool = False,
    settings: HttpSettings | None = None,
    sleep: Sleep | None = None,
    progress: Progress | None = None,
) -> SyncReport:
    """Sync the connection ``name`` into the workspace at ``workspace`` (see the module
    docstring). Raises :class:`ConnectorError` (or an import error) when nothing was written;
    the attempt, failed or not, is recorded beside the workspace for ``connect list``."""
    report = SyncReport(name, "?", full, _now())
    started = time.perf_counter()
    notify = progress or (lambda _text: None)
    try:
        with writing(workspace) as ws:
            connection = get_connection(ws, name)
            report.system = connection.system
            secret = read_secret(name, connection.credential)
            connector = make_connector(connection, secret, settings=settings, sleep=sleep)
            try:
                marks = _run(ws, connection, connector, report, full, notify)
            finally:
                client = getattr(connector, "client", None)
                connector.close()
                if client is not None:
                    report.requests, report.retries = client.requests, client.retries
                    report.rate_limited, report.waited_s = client.rate_limited, client.waited
            report.ok = True
            report.finished_at = _now()
            report.seconds = time.perf_counter() - started
            notify("publishing")
            write_state(ws, name, marks, report.to_dict())
    except (SalesradarError, KeyboardInterrupt) as exc:
        report.ok = False
        report.error = str(exc) if isinstance(exc, SalesradarError) else "interrupted"
        report.finished_at = _now()
        report.seconds = time.perf_counter() - started
        record_attempt(workspace, name, report.to_dict())
        raise
    record_attempt(workspace, name, report.to_dict())
    return report


def _run(ws: Workspace, connection: Connection, connector: Connector, report: SyncReport,
         full: bool, notify: Progress) -> dict[str, datetime | None]:
    """Pull and import every object; the new marks (published with the data)."""
    marks = {} if full else read_state(ws, connection.name)
    overlap = timedelta(minutes=float(connection.options.get("overlap_minutes",
                                                             DEFAULT_OVERLAP_MINUTES)))
    new_marks: dict[str, datetime | None] = {}
    with tempfile.TemporaryDirectory(prefix="salesradar-sync-") as folder:
        for obj in connector.objects:
            mappings = {feed.mapping: feed_mapping(connection, feed) for feed in obj.feeds}
            mark = marks.get(obj.name) if obj.incremental else None
            since = None if mark is None else mark - overlap
            item = ObjectReport(obj.name, [f.table for f in obj.feeds], iso(since))
            report.objects.append(item)
            notify(f"{obj.name}: fetching" + (f" changes since {iso(since)}" if since else ""))
            fields = set().union(*(mapped_fields(m) for m in mappings.values()))
            pulled = Pulled(folder=Path(folder) / obj.name, spool_rows=SPOOL_ROWS)
            connector.pull(obj, since, fields, pulled)
            item.fetched = pulled.fetched
            notify(f"{obj.name}: importing {pulled.fetched:,} records")
            for feed in obj.feeds:
                for part in pulled.parts(feed.mapping):
                    _import(ws, connection, obj, feed, mappings[feed.mapping], part, item)
            for table_name, keys in pulled.deleted.items():
                item.deleted += delete_keys(ws, table_name, keys)
            best = max((m for m in (pulled.high_water, mark) if m is not None), default=None)
            new_marks[obj.name] = best
            item.high_water = iso(best)
    return new_marks


def _import(ws: Workspace, connection: Connection, obj: SourceObject, feed: Feed,
            mapping: Mapping, path: Path, item: ObjectReport) -> None:
    """Import one part file of a feed with the ordinary importer; add its counts."""
    result = import_file(ws, feed.table, path, mapping)
    # the import log names the connection and object, not the temporary part file (the same
    # unpublished copy: the rename is published with the import or not at all)
    result.source = f"{connection.name}:{obj.name}"
    ws.con.execute(f"UPDATE {IMPORT_LOG} SET source = ? WHERE source = ?",  # noqa: S608
                   [result.source, str(path)])
    item.inserted += result.inserted
    item.updated += result.updated
    item.unchanged += result.unchanged
    item.deleted += result.deleted
    item.skipped += result.rows_skipped
    item.warnings += [f"{feed.table}: {issue}" for issue in result.issues
                      if issue.severity == "warning" and issue.row is None]


def delete_keys(ws: Workspace, table_name: str, keys: set[str]) -> int:
    """Delete the rows of ``table_name`` whose first key column is in ``keys``; rows deleted."""
    if not keys:
        return 0
    column = quote(table_spec(table_name).key[0])
    target = quote(table_name)
    values = sorted(keys)
    con = ws.con
    con.begin()
    try:
        row = con.execute(f"SELECT count(*) FROM {target} WHERE {column} IN "  # noqa: S608
                          "(SELECT unnest(?::VARCHAR[]))", [values]).fetchone()
        con.execute(f"DELETE FROM {target} WHERE {column} IN "  # noqa: S608
                    "(SELECT unnest(?::VARCHAR[]))", [values])
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return int(row[0]) if row else 0


def sync(
    workspace: Path | str,
    names: list[str] | None = None,
    *,
    full: bool = False,
    settings: HttpSettings | None = None,
    sleep: Sleep | None = None,
    progress: Progress | None = None,
) -> list[SyncReport]:
    """Sync the named connections (all when None), each its own atomic publish. A failed
    connection does not stop the others; their reports come back, and then the first error
    is raised again so the caller (and a schedule) sees the failure."""
    if names is None:
        with open_served(workspace) as ws:
            names = [c.name for c in list_connections(ws)]
        if not names:
            raise ConnectorError("this workspace has no connections; add one with salesradar "
                                 "connect hubspot|priority|sap-b1 NAME --url ...")
    reports: list[SyncReport] = []
    errors: list[SalesradarError] = []
    for name in names:
        try:
            reports.append(sync_connection(workspace, name, full=full, settings=settings,
                                           sleep=sleep, progress=progress))
        except SalesradarError as exc:
            errors.append(exc)
            failed = read_status(workspace).get(name)
            if failed:
                reports.append(_from_dict(failed))
    if errors and len(names) == 1:
        raise errors[0]
    if errors:
        raise SyncFailed(reports, errors)
    return reports


class SyncFailed(ConnectorError):
    """Some connections of a multi-connection sync failed; ``reports`` has every one."""

    def __init__(self, reports: list[SyncReport], errors: list[SalesradarError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.reports = reports


def _from_dict(data: dict[str, Any]) -> SyncReport:
    report = SyncReport(data["connection"], data["system"], data["full"], data["started_at"],
                        data.get("finished_at"), data.get("seconds", 0.0), data.get("ok", False),
                        data.get("error"))
    for item in data.get("objects") or []:
        obj = ObjectReport(item["object"], item["tables"], item["since"])
        for key in ("fetched", "inserted", "updated", "unchanged", "deleted", "skipped"):
            setattr(obj, key, item.get(key, 0))
        obj.high_water = item.get("high_water")
        report.objects.append(obj)
    return report


# -- what a status page needs ----------------------------------------------------------------
def connections_overview(workspace: Path | str) -> list[dict[str, Any]]:
    """Every connection with its last attempt (from the status file) and its marks: what a
    "connections" page shows. No credential is read or shown."""
    status = read_status(workspace)
    with Workspace.open(workspace, read_only=True) as ws:  # as pages read
        found = list_connections(ws)
        marks = {c.name: read_state(ws, c.name) for c in found}
        runs = {c.name: last_run(ws, c.name) for c in found}
    overview = []
    for connection in found:
        attempt = status.get(connection.name) or runs.get(connection.name)
        overview.append({
            **connection.to_dict(),
            "high_water": {k: iso(v) for k, v in marks[connection.name].items()},
            "last_sync": attempt,
            "last_success": runs.get(connection.name),
        })
    return overview


def last_sync_report(workspace: Path | str, name: str) -> dict[str, Any] | None:
    """The last attempt to sync ``name`` (failed or not), or None before the first."""
    attempt = read_status(workspace).get(name)
    if attempt is not None:
        return dict(attempt)
    with Workspace.open(workspace, read_only=True) as ws:  # as pages read
        return last_run(ws, name)


def test_connection(workspace: Path | str, name: str, *,
                    settings: HttpSettings | None = None) -> dict[str, Any]:
    """One authenticated call to the connection's system; what it answered. Raises a
    :class:`ConnectorError` naming the connection when the system cannot be reached or
    refuses the credential."""
    with Workspace.open(workspace, read_only=True) as ws:  # as pages read
        connection = get_connection(ws, name)
    secret = read_secret(name, connection.credential)
    connector = make_connector(connection, secret, settings=settings)
    started = time.perf_counter()
    try:
        answer = connector.check()
    finally:
        connector.close()
    return {"connection": name, "system": connection.system, "url": connection.url,
            "ok": True, "seconds": round(time.perf_counter() - started, 3), **answer}


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
