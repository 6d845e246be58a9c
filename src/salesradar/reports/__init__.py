"""Reports as HTML and PDF, in Hebrew and English: CEO dashboard, quarterly account review,
vendor commitment status and the vendor diagnostic.

>>> KINDS
('ceo', 'account-review', 'commitment', 'diagnostic')
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from salesradar.errors import UserInputError
from salesradar.lang import Lang, parse_lang
from salesradar.metrics.fiscal import period_name
from salesradar.metrics.frame import last_whole
from salesradar.reports.contexts import ceo_context, commitment_context, review_context
from salesradar.reports.render import ReportError, render_html, write_pdf
from salesradar.reports.texts import TEXTS
from salesradar.workspace import data_day

if TYPE_CHECKING:
    from salesradar.app.db import AppDB

KINDS = ("ceo", "account-review", "commitment", "diagnostic")
TEMPLATES = {"ceo": "ceo.html.j2", "account-review": "account_review.html.j2",
             "commitment": "commitment.html.j2", "diagnostic": "diagnostic.html.j2"}

__all__ = ["KINDS", "ReportError", "build_html", "last_full_quarter", "write_report"]


def last_full_quarter(data_end: date) -> str:
    """The last (fiscal) quarter the data cover entirely (the current one when it ends on
    ``data_end``)."""
    start = last_whole(data_end, "quarter")
    return period_name(start, "quarter").replace("-", "")


def build_html(kind: str, *, lang: Lang, workspace: Path, app_db: str | None = None,
               db: AppDB | None = None, dashboard: dict[str, Any] | None = None,
               ident: int | None = None, quarter: str | None = None,
               as_of: date | None = None, pdf: bool = False, ws: Any = None) -> str:
    """The report ``kind`` as self-contained HTML, from the workspace and the app database
    (``pdf``: prepared for the PDF engine, see :func:`~salesradar.reports.render.visual_svg`).

    ``db``: an open app database (the web app's), used as is and left open; without it the
    database at ``app_db`` (the default next to the workspace) is opened for the report.
    ``dashboard``: the CEO dashboard already computed for the whole company (the web app's
    cached one), so the CEO report does not compute it again.
    ``ws``: an open workspace to read instead of the file (the web app's, seen through the
    caller's scope: a manager's report covers the team), used as is and left open.
    """
    from salesradar.app.db import AppDB
    from salesradar.app.settings import load_settings

    if kind not in KINDS:
        raise UserInputError(f"report must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "commitment" and ident is None:
        raise UserInputError("a commitment report needs the commitment ID: salesradar report "
                             "commitment ID (salesradar commitment list shows them)")
    if not workspace.exists():
        raise UserInputError(f"no workspace at {workspace}: run salesradar demo or import data")
    if db is not None or (kind == "ceo" and dashboard is not None):  # the caller's settings
        return _build(kind, lang, workspace, db, dashboard, ident, quarter, as_of, pdf, ws)
    app = AppDB.open(app_db, workspace=workspace)
    try:
        with load_settings(app).active():  # the company's currency and fiscal year
            return _build(kind, lang, workspace, app, dashboard, ident, quarter, as_of, pdf, ws)
    finally:
        app.engine.dispose()


def _build(kind: str, lang: Lang, workspace: Path, app: AppDB | None,
           dashboard: dict[str, Any] | None, ident: int | None, quarter: str | None,
           as_of: date | None, pdf: bool, ws: Any) -> str:
    from salesradar.workspace import Workspace

    if kind == "ceo" and dashboard is not None:
        context = ceo_context(dashboard, lang)
    else:
        assert app is not None
        if ws is not None:
            context = _context(kind, ws, app, lang, ident, quarter, as_of)
        else:
            with Workspace.open(workspace, read_only=True) as opened_ws:
                context = _context(kind, opened_ws, app, lang, ident, quarter, as_of)
    return render_html(TEMPLATES[kind], {**context, "lang": lang, "t": TEXTS[lang],
                                         "generated": date.today(), "pdf": pdf})


def _context(kind: str, ws: Any, db: Any, lang: Lang, ident: int | None, quarter: str | None,
             as_of: date | None) -> dict[str, Any]:
    if kind == "ceo":
        from salesradar.dashboard import ceo_dashboard

        return ceo_context(ceo_dashboard(ws, as_of=as_of), lang)
    if kind == "account-review":
        from salesradar.accounts.review import quarterly_review

        q = quarter or last_full_quarter(as_of or data_day(ws))
        return review_context(quarterly_review(ws, quarter=q, lang=lang, db=db), lang)
    if kind == "diagnostic":
        from salesradar.commitments.diagnostic import run_diagnostic
        from salesradar.metrics.periods import data_last_day
        from salesradar.reports.diagnostic import diagnostic_context

        day = as_of or data_last_day(ws.backend)  # the data's last day, never today's date
        return diagnostic_context(run_diagnostic(ws.backend, as_of=day), lang)
    from salesradar.commitments.status import commitment_status
    from salesradar.commitments.store import get_commitment

    assert ident is not None
    return commitment_context(commitment_status(ws.backend, get_commitment(db, ident),
                                                as_of=as_of), lang)


def write_report(kind: str, out: Path, *, fmt: str = "pdf", lang: Lang = "en",
                 workspace: Path, app_db: str | None = None, ident: int | None = None,
                 quarter: str | None = None, as_of: date | None = None) -> dict[str, Any]:
    """Write the report to ``out`` as ``fmt`` (pdf or html); returns what was written."""
    if fmt not in ("pdf", "html"):
        raise UserInputError(f"format must be pdf or html, not {fmt!r}")
    parse_lang(lang, "lang")
    html = build_html(kind, lang=lang, workspace=workspace, app_db=app_db, ident=ident,
                      quarter=quarter, as_of=as_of, pdf=fmt == "pdf")
    out.parent.mkdir(parents=True, exist_ok=True)
    pages = None
    if fmt == "html":
        out.write_text(html, encoding="utf-8")
    else:
        pages = write_pdf(html, out)
    return {"kind": kind, "format": fmt, "lang": lang, "out": str(out),
            "bytes": out.stat().st_size, "pages": pages}
