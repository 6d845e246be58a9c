"""Connections and sync state, kept in the workspace's own internal tables.

``_salesradar_connections``: one row per connection (system, URL, company, where its credential
is read from, mapping overrides, options). Never the credential.

``_salesradar_sync_state``: the high-water mark per connection and object, written by a sync in
the same workspace copy as its data (:func:`salesradar.workspace.writing`), so it advances only
when the data are published with it; a sync that fails or is killed leaves both as they were.

``_salesradar_sync_runs``: the report of every successful sync. A failed sync cannot write the
workspace (nothing of it is published), so its report goes to ``<workspace>.sync-status.json``
beside the workspace, which also keeps the last report of each connection for a status page.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from salesradar.connectors.base import SYSTEMS, ConnectorError
from salesradar.connectors.secrets import CredentialSource
from salesradar.workspace import Workspace

CONNECTIONS = "_salesradar_connections"
STATE = "_salesradar_sync_state"
RUNS = "_salesradar_sync_runs"
STATUS_SUFFIX = ".sync-status.json"
DDL = (
    f"CREATE TABLE IF NOT EXISTS {CONNECTIONS} (name VARCHAR, system VARCHAR, url VARCHAR, "
    "company VARCHAR, credential VARCHAR, mappings VARCHAR, options VARCHAR, "
    "created_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {STATE} (connection VARCHAR, object VARCHAR, "
    "high_water TIMESTAMP, synced_at TIMESTAMP)",
    f"CREATE TABLE IF NOT EXISTS {RUNS} (connection VARCHAR, started_at TIMESTAMP, "
    "finished_at TIMESTAMP, report VARCHAR)",
)


@dataclass(frozen=True)
class Connection:
    """A stored connection: everything a sync needs except the credential's value."""

    name: str
    system: str
    url: str
    credential: CredentialSource
    company: str | None = None
    mappings: dict[str, str] = field(default_factory=dict)  # feed -> mapping file path
    options: dict[str, Any] = field(default_factory=dict)  # page_size, overlap_minutes

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "system": self.system, "url": self.url,
                "company": self.company, "credential": str(self.credential),
                "mappings": dict(self.mappings), "options": dict(self.options)}


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    for statement in DDL:
        con.execute(statement)


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    row = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                      [CONNECTIONS]).fetchone()
    return bool(row and row[0])


def save_connection(ws: Workspace, connection: Connection) -> bool:
    """Store ``connection`` (replacing one of the same name); True when it replaced one."""
    if connection.system not in SYSTEMS:
        raise ConnectorError(f"unknown system {connection.system!r}; the systems are: "
                             f"{', '.join(SYSTEMS)}")
    ensure_tables(ws.con)
    row = ws.con.execute(f"SELECT count(*) FROM {CONNECTIONS} WHERE name = ?",  # noqa: S608 (constant table name, bound values)
                         [connection.name]).fetchone()
    replaced = bool(row and row[0])
    ws.con.begin()
    try:
        ws.con.execute(f"DELETE FROM {CONNECTIONS} WHERE name = ?", [connection.name])  # noqa: S608 (constant table name, bound values)
        ws.con.execute(
            f"INSERT INTO {CONNECTIONS} VALUES (?, ?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",  # noqa: S608 (constant table name, bound values)
            [connection.name, connection.system, connection.url, connection.company,
             str(connection.credential), json.dumps(connection.mappings),
             json.dumps(connection.options)])
        ws.con.commit()
    except BaseException:
        ws.con.rollback()
        raise
    return replaced


def list_connections(ws: Workspace) -> list[Connection]:
    """Every stored connection, by name."""
    if not _has_tables(ws.con):
        return []
    rows = ws.con.execute(f"SELECT name, system, url, company, credential, mappings, options "  # noqa: S608 (constant table name, bound values)
                          f"FROM {CONNECTIONS} ORDER BY name").fetchall()
    return [Connection(name=r[0], system=r[1], url=r[2], company=r[3],
                       credential=CredentialSource.parse(r[4]), mappings=json.loads(r[5]),
                       options=json.loads(r[6])) for r in rows]


def get_connection(ws: Workspace, name: str) -> Connection:
    """The connection called ``name``, or an error listing the ones there are."""
    found = list_connections(ws)
    for connection in found:
        if connection.name == name:
            return connection
    known = ", ".join(c.name for c in found) or "none yet"
    raise ConnectorError(f"no connection named {name!r} in this workspace (connections: "
                         f"{known}); add one with salesradar connect hubspot|priority|sap-b1")


def read_state(ws: Workspace, connection: str) -> dict[str, datetime]:
    """The high-water mark per object of ``connection`` (empty before its first sync)."""
    if not _has_tables(ws.con):
        return {}
    rows = ws.con.execute(f"SELECT object, high_water FROM {STATE} WHERE connection = ? "  # noqa: S608 (constant table name, bound values)
                          "AND high_water IS NOT NULL", [connection]).fetchall()
    return {str(obj): hw for obj, hw in rows}


def write_state(ws: Workspace, connection: str, marks: dict[str, datetime | None],
                report: dict[str, Any]) -> None:
    """Advance the marks and log the run, in the workspace copy the sync writes (published
    with the data, or not at all)."""
    ensure_tables(ws.con)
    ws.con.begin()
    try:
        for obj, mark in marks.items():
            if mark is None:
                continue
            ws.con.execute(f"DELETE FROM {STATE} WHERE connection = ? AND object = ?",  # noqa: S608 (constant table name, bound values)
                           [connection, obj])
            ws.con.execute(f"INSERT INTO {STATE} VALUES (?, ?, ?, now()::TIMESTAMP)",  # noqa: S608 (constant table name, bound values)
                           [connection, obj, mark])
        ws.con.execute(f"INSERT INTO {RUNS} VALUES (?, ?, ?, ?)",  # noqa: S608 (constant table name, bound values)
                       [connection, report["started_at"], report["finished_at"],
                        json.dumps(report, ensure_ascii=False, default=str)])
        ws.con.commit()
    except BaseException:
        ws.con.rollback()
        raise


def last_run(ws: Workspace, connection: str) -> dict[str, Any] | None:
    """The report of the last successful sync of ``connection`` stored in the workspace."""
    if not _has_tables(ws.con):
        return None
    row = ws.con.execute(f"SELECT report FROM {RUNS} WHERE connection = ? "  # noqa: S608 (constant table name, bound values)
                         "ORDER BY finished_at DESC LIMIT 1", [connection]).fetchone()
    return json.loads(row[0]) if row else None


def status_path(workspace: Path | str) -> Path:
    return Path(str(workspace) + STATUS_SUFFIX)


def read_status(workspace: Path | str) -> dict[str, Any]:
    """The last attempt of each connection (successful or not), from the status file."""
    path = status_path(workspace)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_attempt(workspace: Path | str, connection: str, report: dict[str, Any]) -> None:
    """Remember the last attempt of ``connection`` beside the workspace (atomic replace)."""
    if str(workspace) == ":memory:":
        return
    path = status_path(workspace)
    lock = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two syncs ending at once both keep their entry
        data = read_status(workspace)
        data[connection] = report
        fd, tmp = tempfile.mkstemp(prefix=path.name, dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False, indent=2, default=str)
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    finally:
        os.close(lock)
