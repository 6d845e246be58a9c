"""What the web app keeps between requests: paths, the app database and a small result cache.

How ``serve`` and ``salesradar run`` share the workspace: a writer never opens the served file;
it builds a private copy and publishes it with an atomic rename
(:func:`salesradar.workspace.writing`). Each request that needs the workspace opens it read-only
(about 20 ms) and closes it when done: a request that opened it before a publish reads the old
file to its end, the next one reads the new file. Heavy results (the dashboard, scorecards, the
reps table) are cached in memory under the workspace's *version* (inode, size and modification
time of the file and its WAL): a publish changes the version, and the next request recomputes.
Should a process outside salesradar hold the file for writing, cached results answer from the
last version (the inbox never needs the file: it reads the app database) and the others answer
503 "workspace busy".
"""

from __future__ import annotations

import os
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text

from salesradar import currency
from salesradar.access import EVERYTHING, Scope, scope_for, scoped_workspace
from salesradar.app.db import AppDB
from salesradar.app.settings import CompanySettings, load_settings
from salesradar.app.users import User
from salesradar.engine import table_names
from salesradar.errors import WorkspaceError
from salesradar.insights import InsightStore
from salesradar.metrics import fiscal
from salesradar.workspace import Workspace

T = TypeVar("T")
SECRET_ENV = "SALESRADAR_SECRET_KEY"
CACHE_ENTRIES = 256


@dataclass
class AppState:
    """One served workspace: its path, app database, insight store, secret and cache."""

    workspace: Path
    db: AppDB
    secret: str = field(default_factory=lambda: os.environ.get(SECRET_ENV)
                        or secrets.token_urlsafe(32))
    secure_cookies: bool = False
    setup_token: str | None = None  # first run (no user yet): /setup?token= makes the admin
    _cache: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _computing: dict[tuple[Any, ...], threading.Lock] = field(default_factory=dict)
    # (name, scope) -> the cache key of its last result; bounded with the cache (an entry goes
    # when its key is evicted)
    _latest: dict[tuple[Any, ...], tuple[Any, ...]] = field(default_factory=dict)
    warm: threading.Event = field(default_factory=threading.Event)  # first warm-up pass done

    @property
    def store(self) -> InsightStore:
        return InsightStore(self.db)

    def company(self) -> CompanySettings:
        """The company settings, read afresh (a ``settings set`` shows on the next request)."""
        return load_settings(self.db)

    def version(self) -> tuple[int, ...]:
        """Changes whenever the workspace file (or its write-ahead log) changes, and whenever a
        writer publishes a new file in its place (a new inode)."""
        parts: list[int] = []
        for path in (self.workspace, self.workspace.with_name(self.workspace.name + ".wal")):
            try:
                st = path.stat()
                parts += [st.st_ino, st.st_size, st.st_mtime_ns]
            except FileNotFoundError:
                parts += [0, 0, 0]
        return tuple(parts)

    def insights_version(self) -> tuple[int, ...]:
        """Changes whenever an insight is added or changes status (a run that rewrites insight
        texts also rewrites the workspace's scores, which changes :meth:`version`)."""
        with self.db.engine.connect() as con:
            row = con.execute(text("SELECT (SELECT max(id) FROM insight_events), "
                                   "(SELECT max(id) FROM insights)")).one()
        return (int(row[0] or 0), int(row[1] or 0))

    def cached(self, name: str, scope: Scope, compute: Callable[[], T],
               extra: tuple[Any, ...] = ()) -> T:
        """``compute()`` once per (name, scope, workspace version, ``extra``); concurrent
        callers wait for the first instead of computing the same thing in parallel."""
        # results hold amounts and periods written in the company's currency and fiscal year
        company = (currency.code(), currency.symbol(), fiscal.start_month())
        key = (name, scope.key(), self.version() + company + tuple(extra))
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]  # type: ignore[no-any-return]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:
            with self._lock:
                if key in self._cache:
                    return self._cache[key]  # type: ignore[no-any-return]
            try:
                value = compute()
                with self._lock:
                    self._remember(key, value)
                return value
            except WorkspaceError:
                # a refresh holds the file: answer with the last result while it runs
                with self._lock:
                    last = self._latest.get(key[:2])
                    if last is not None:
                        return self._cache[last]  # type: ignore[no-any-return]
                raise
            finally:
                with self._lock:
                    if self._computing.get(key) is gate:
                        del self._computing[key]

    def _remember(self, key: tuple[Any, ...], value: Any) -> None:
        """Cache ``value`` under ``key`` as the last result of its (name, scope); evict the
        least recently used entries beyond :data:`CACHE_ENTRIES` (call with the lock held)."""
        self._cache[key] = value
        self._latest[key[:2]] = key
        while len(self._cache) > CACHE_ENTRIES:
            old, _ = self._cache.popitem(last=False)
            if self._latest.get(old[:2]) == old:
                del self._latest[old[:2]]

    @contextmanager
    def open(self, scope: Scope = EVERYTHING) -> Iterator[Workspace]:
        """The workspace, read-only, through ``scope``; closed when the block ends."""
        ws = scoped_workspace(self.workspace, scope)
        try:
            yield ws
        finally:
            ws.close()

    def reps(self) -> list[dict[str, Any]]:
        """The reps table (cached per version); empty when the workspace has none."""
        def load() -> list[dict[str, Any]]:
            with self.open() as ws:
                if "reps" not in table_names(ws.backend):
                    return []
                rows: list[dict[str, Any]] = ws.table("reps").to_pyarrow().to_pylist()
                return rows
        return self.cached("reps", EVERYTHING, load)

    def scope(self, user: User) -> Scope:
        return scope_for(user.role, user.rep_id, user.team, self.reps())
