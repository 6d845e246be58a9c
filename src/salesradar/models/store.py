"""Fitted models saved beside the workspace, keyed by the data they were fitted on.

``salesradar score`` fits the churn model and saves it (with its last scores, which
:meth:`~salesradar.models.churn.ChurnModel.explain` reads) in a folder next to the workspace
file: ``company.duckdb`` -> ``company.duckdb.models/churn-<as of>-h<horizon>-<version>.pkl``,
plus ``latest.json`` naming the file of the last run. ``salesradar customer ID`` (and the web
customer page) load it instead of refitting, as long as the invoice lines have not changed
since: the *data version* is a fingerprint of the invoice lines (row count, first and last
date, total in cents) and of the imports that changed data, so such an import makes the saved
model stale and the next ``score`` refits; a re-import of the same file does not.
The cross-sell blend is saved the same way (``cross_sell-<as of>-h0-<version>.pkl``, keyed by
:data:`CROSS_SELL_HORIZON`), on the same refit schedule.

The files are pickles (the standard library's C pickler, uncompressed: a 50,000-customer model
saves in a fraction of a second, where joblib's Python pickler took 6 s): load only folders you
wrote yourself, like the workspace. In-memory workspaces save nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import pickle
import threading
from pathlib import Path
from typing import Any

from salesradar import __version__
from salesradar.engine import table_names
from salesradar.models.refresh_scope import once_per_refresh
from salesradar.workspace import change_stamp

__all__ = [
    "CROSS_SELL_HORIZON", "REFIT_DAYS", "REFIT_DRIFT", "data_version", "fitted_record",
    "invoice_line_count", "load_latest",
    "load_model", "load_recent", "model_folder", "refit_due", "save_model", "still_fresh",
]

# The refit schedule: a model fitted (or a gate decided) on the data up to day D serves the runs
# judged on D to D + 6, as long as the invoice lines have not grown or shrunk by more than 5%
# since; then, or with --full, it is fitted again. A day of new lines is scored with the model
# of the week instead of a new one.
REFIT_DAYS = 7
REFIT_DRIFT = 0.05
# the cross-sell model looks ahead no horizon: the one its saved files are keyed by
CROSS_SELL_HORIZON = 0

# bump when a saved model could no longer be used by this code (features, reasons, ...)
FORMAT = 3


def data_version(ws: Any) -> str:
    """Fingerprint of the invoice lines, the imports that changed data
    (:func:`~salesradar.workspace.change_stamp`) and this code's version (16 hex digits).

    Exact, not sampled: the total is summed in integer cents, so it is the same on every run.
    Computed once per refresh (:func:`~salesradar.models.refresh_scope.once_per_refresh`).
    """
    return once_per_refresh(ws, "data_version", lambda: _data_version(ws))


def _data_version(ws: Any) -> str:
    lines = ws.con.execute(
        "SELECT count(*), min(invoice_date)::VARCHAR, max(invoice_date)::VARCHAR, "
        "sum(round(net_revenue * 100)::HUGEINT)::VARCHAR FROM invoice_lines"
    ).fetchone()
    log = change_stamp(ws.con)
    text = json.dumps([FORMAT, __version__, list(lines or []), list(log)], default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


SCORED_KEY_TABLE = "_salesradar_scores_key"  # what the score tables were computed from
SCORE_TABLES = {
    "churn": "score_churn",
    "stopped_items": "score_stopped_items",
    "cross_sell": "score_cross_sell",
    "tiers": "score_tiers",
    "health": "score_health",
}


#: bump when the score tables hold something else (a column added, a text worded anew): the
#: tables an older version wrote are then scored anew, even on unchanged data
#: (2: ``score_cross_sell.anchor_name``; 3: the churn reasons' season named by its dates, "no
#: orders" and "no items" for zero; 4: ``score_churn.longest_gap_days``; 5: stopped items only
#: past the pair's longest pause, ``score_stopped_items.longest_gap``)
SCORES_FORMAT = 5


def scores_key(ws: Any, version: str, day: dt.date, horizon_days: int) -> str:
    """What the score tables depend on: their format (:data:`SCORES_FORMAT`), the data
    (``version``, :func:`data_version`), the company's corrections of the non-product codes,
    the day, the horizon, and the currency their reasons are written in."""
    from salesradar import currency
    from salesradar.models.product_corrections import override_decisions

    overrides = override_decisions(ws)
    return json.dumps([SCORES_FORMAT, version, day.isoformat(), horizon_days, currency.code(),
                       currency.symbol(), overrides])


def stored_scores_key(ws: Any) -> str | None:
    """The key the score tables were last written under, if they all exist."""
    present = table_names(ws)
    if SCORED_KEY_TABLE not in present or not set(SCORE_TABLES.values()) <= present:
        return None
    row = ws.con.execute(f"SELECT key FROM {SCORED_KEY_TABLE}").fetchone()  # noqa: S608
    return None if row is None else str(row[0])


def scores_current(ws: Any, version: str, day: dt.date, horizon_days: int) -> bool:
    """Whether the score tables were written for this data (``version``), day and horizon.

    Kept here, beside the data's fingerprint, so that a refresh which finds nothing changed
    never imports the models (:func:`salesradar.pipeline.run`)."""
    return stored_scores_key(ws) == scores_key(ws, version, day, horizon_days)


def invoice_line_count(ws: Any) -> int:
    """How many invoice lines the workspace holds (what the refit schedule's drift compares)."""
    row = ws.con.execute("SELECT count(*) FROM invoice_lines").fetchone()
    return int(row[0]) if row else 0


def still_fresh(fitted_on: dt.date, fitted_lines: int | None, day: dt.date, lines: int) -> bool:
    """Whether a model fitted on the data to ``fitted_on`` (then ``fitted_lines`` invoice lines)
    may still serve a run judged on ``day`` with ``lines`` lines (:data:`REFIT_DAYS`,
    :data:`REFIT_DRIFT`).

    >>> d = dt.date(2026, 12, 1)
    >>> still_fresh(d, 1000, d + dt.timedelta(days=6), 1040), still_fresh(d, 1000, d, 1060)
    (True, False)
    >>> still_fresh(d, 1000, d + dt.timedelta(days=7), 1000), still_fresh(d, None, d, 1000)
    (False, False)
    """
    if not fitted_lines:
        return False
    return (0 <= (day - fitted_on).days < REFIT_DAYS
            and abs(lines - fitted_lines) <= REFIT_DRIFT * fitted_lines)


def model_folder(ws: Any) -> Path | None:
    """The folder beside the workspace file (None for an in-memory workspace)."""
    path = str(getattr(ws, "path", "") or "")
    if not path or path == ":memory:" or path.startswith(":"):
        return None
    return Path(path + ".models")


def _name(kind: str, as_of: dt.date, horizon_days: int, version: str) -> str:
    return f"{kind}-{as_of.isoformat()}-h{horizon_days}-{version}.pkl"


def write_atomically(target: Path, data: bytes | str) -> None:
    """Write ``target`` whole or not at all: a failure or a crash leaves the file it replaces
    (and no ``.partial`` beside it)."""
    partial = target.with_name(target.name + ".partial")
    try:
        if isinstance(data, str):
            partial.write_text(data)
        else:
            partial.write_bytes(data)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _load(path: Path) -> Any:
    with path.open("rb") as saved:
        return pickle.load(saved)


_LATEST_LOCK = threading.Lock()


def save_model(
    ws: Any, kind: str, model: Any, as_of: dt.date, horizon_days: int, *,
    version: str | None = None, fitted_on: dt.date | None = None,
    fitted_lines: int | None = None,
) -> Path | None:
    """Save ``model`` for this workspace's current data; record it as the latest ``kind``.

    Older files of the same kind are removed. Returns the file (None in memory or when the
    folder cannot be written, e.g. a read-only workspace on a read-only disk). ``version`` is
    :func:`data_version`, when the caller has it already (it scans every invoice line).
    ``fitted_on`` and ``fitted_lines``: the day and line count the model was fitted on, when
    it serves a later day (:data:`REFIT_DAYS`); default ``as_of`` and the current count.
    """
    folder = model_folder(ws)
    if folder is None:
        return None
    version = version or data_version(ws)
    target = folder / _name(kind, as_of, horizon_days, version)
    try:
        folder.mkdir(exist_ok=True)
        # first: a failed save leaves the model it would replace
        write_atomically(target, pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))
        latest = folder / "latest.json"
        lines = invoice_line_count(ws) if fitted_lines is None else fitted_lines
        with _LATEST_LOCK:  # models saved by two threads of a refresh: neither record lost
            record = json.loads(latest.read_text()) if latest.exists() else {}
            record[kind] = {"file": target.name, "as_of": as_of.isoformat(),
                            "horizon_days": horizon_days, "data_version": version,
                            "fitted_on": (fitted_on or as_of).isoformat(),
                            "fitted_lines": lines}
            write_atomically(latest, json.dumps(record, indent=2))
        for stale in [*folder.glob(f"{kind}-*.pkl"), *folder.glob(f"{kind}-*.joblib")]:
            if stale != target:  # older models, and those of the joblib format
                stale.unlink(missing_ok=True)
    except OSError:
        return None
    return target


def load_model(
    ws: Any, kind: str, as_of: dt.date, horizon_days: int, *, version: str | None = None
) -> Any | None:
    """The saved ``kind`` model fitted at ``as_of`` for ``horizon_days`` on the current data,
    or None when there is none (never saved, or the data changed since). ``version`` is
    :func:`data_version`, when the caller has it already."""
    folder = model_folder(ws)
    if folder is None:
        return None
    path = folder / _name(kind, as_of, horizon_days, version or data_version(ws))
    if not path.exists():
        return None
    try:
        return _load(path)
    except Exception:  # written by other code (a class since changed): refit instead
        return None


def _latest_entry(ws: Any, kind: str) -> dict[str, Any] | None:
    """``latest.json``'s record of the last saved ``kind`` model (None: none, or unreadable)."""
    folder = model_folder(ws)
    try:
        entry = json.loads((folder / "latest.json").read_text()).get(kind) if folder else None
    except (OSError, ValueError):
        return None
    return dict(entry) if entry else None


def fitted_record(ws: Any, kind: str) -> dict[str, Any] | None:
    """What ``latest.json`` records of the last saved ``kind`` model: the day it scored, the
    day and invoice-line count it was fitted on (``salesradar status`` shows it)."""
    entry = _latest_entry(ws, kind)
    if entry is None:
        return None
    return {k: entry.get(k) for k in ("as_of", "horizon_days", "fitted_on", "fitted_lines")}


def load_recent(
    ws: Any, kind: str, day: dt.date, horizon_days: int, lines: int
) -> tuple[Any, dt.date, int] | None:
    """The last saved ``kind`` model when the refit schedule lets it serve ``day`` (same
    horizon, :func:`still_fresh`), with the day and line count it was fitted on; else None."""
    serving = _serving_entry(ws, kind, day, horizon_days, lines)
    folder = model_folder(ws)
    if serving is None or folder is None:
        return None
    entry, fitted_on, fitted_lines = serving
    try:
        return _load(folder / entry["file"]), fitted_on, fitted_lines
    except Exception:  # a missing file, another class: fit anew
        return None


def refit_due(ws: Any, kind: str, day: dt.date, horizon_days: int) -> bool:
    """Whether scoring ``day`` fits ``kind`` anew: no saved model the refit schedule lets serve
    it (:func:`load_recent`; the file itself is not read)."""
    if model_folder(ws) is None:
        return True
    return _serving_entry(ws, kind, day, horizon_days, invoice_line_count(ws)) is None


def _serving_entry(ws: Any, kind: str, day: dt.date, horizon_days: int, lines: int,
                   ) -> tuple[dict[str, Any], dt.date, int] | None:
    """``latest.json``'s record of the last saved ``kind`` model, with the day and line count
    it was fitted on, when the refit schedule lets it serve ``day`` (same horizon,
    :func:`still_fresh`); else None."""
    entry = _latest_entry(ws, kind)
    if entry is None:
        return None
    try:
        fitted_on = dt.date.fromisoformat(entry["fitted_on"])
        fitted_lines = int(entry["fitted_lines"])
        if (int(entry["horizon_days"]) != horizon_days
                or not still_fresh(fitted_on, fitted_lines, day, lines)):
            return None
    except Exception:  # an older record: fit anew
        return None
    return entry, fitted_on, fitted_lines


def load_latest(ws: Any, kind: str) -> Any | None:
    """The model of the last ``salesradar score`` run, if the data have not changed since."""
    entry = _latest_entry(ws, kind)
    if entry is None:
        return None
    return load_model(ws, kind, dt.date.fromisoformat(entry["as_of"]), int(entry["horizon_days"]))
