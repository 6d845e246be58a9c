"""What one refresh computes once and shares: the state behind
:func:`~salesradar.models.features.sharing_customer_days`, in a module of its own so that
asking for a shared value (:func:`once_per_refresh`) imports nothing heavy: a run that finds
nothing changed asks for the data's fingerprint without loading Ibis."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

__all__ = ["SHARED_DATABASE", "SHARING", "Sharing", "once_per_refresh", "shared_value"]

# the in-memory database attached for a refresh (sharing_customer_days): every connection to
# the workspace's DuckDB sees it, so the threads of a refresh read the same shared tables
SHARED_DATABASE = "salesradar_shared"

T = TypeVar("T")


@dataclass
class Sharing:
    """The Ibis backends whose ``invoice_lines`` the shared tables are: the workspace's, and
    those of its views for other threads (:func:`~salesradar.models.features.shared_view`);
    the values of :func:`once_per_refresh` computed so far, and those the refresh shares
    (:func:`shared_value`: the customers' stamps and changed lines of
    :mod:`~salesradar.models.customer_changes`)."""

    backends: list[Any]
    values: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


SHARING: ContextVar[Sharing | None] = ContextVar("sharing_customer_days", default=None)


def once_per_refresh(ws: Any, name: str, compute: Callable[[], T]) -> T:
    """``compute()``, once per refresh of ``ws``
    (:func:`~salesradar.models.features.sharing_customer_days`, whose invoice lines do not
    change), for a value that depends on nothing else than those lines: e.g. the data's
    fingerprint, which scans every line; every call outside the block computes it."""
    sharing = SHARING.get()
    if sharing is None or not any(ws.backend is b for b in sharing.backends):
        return compute()
    with sharing.lock:  # the other thread waits for it rather than scanning the lines too
        if name not in sharing.values:
            sharing.values[name] = compute()
        value: T = sharing.values[name]
    return value


def shared_value(ws: Any, name: str) -> Any:
    """The value stored as ``name`` for the refresh of ``ws`` (by
    :func:`~salesradar.models.features.sharing_customer_days`), None when ``ws`` is not being
    refreshed or nothing was stored."""
    sharing = SHARING.get()
    if sharing is None or not any(ws.backend is b for b in sharing.backends):
        return None
    with sharing.lock:
        return sharing.values.get(name)


# threads importing libraries ahead of a fit (salesradar.pipeline.import_ahead), still running
_IMPORTS_AHEAD: list[threading.Thread] = []


def importing_ahead(thread: threading.Thread) -> None:
    """Record ``thread``, which imports libraries ahead of a fit, for
    :func:`wait_for_imports_ahead`."""
    _IMPORTS_AHEAD.append(thread)


def wait_for_imports_ahead() -> None:
    """Wait until the threads importing libraries ahead (:func:`importing_ahead`) are done.

    Called before the scoring steps start: two threads importing scikit-learn's submodules at
    once can each find a module the other has only half initialized ("cannot import name ...
    from partially initialized module", seen on small companies whose fit starts within a
    second). On a large company the imports are long done by then."""
    while _IMPORTS_AHEAD:
        _IMPORTS_AHEAD.pop().join()
