"""HTML from Jinja2 templates, PDF from that HTML with WeasyPrint.

The HTML is self-contained (styles inline, charts as inline SVG, no script, no link to anything
outside the file), so the same page opens in a browser, goes by email, or becomes a PDF. Hebrew
pages are ``<html lang="he" dir="rtl">``; WeasyPrint shapes Hebrew through Pango and needs a
Hebrew font (``scripts/setup-reports.sh`` installs Noto and poppler's ``pdftoppm``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

from bidi import get_display  # type: ignore[import-untyped]
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context
from markupsafe import Markup

from salesradar.charts.labels import format_day, format_value
from salesradar.errors import SalesradarError


class ReportError(SalesradarError, RuntimeError):
    """A report cannot be written (e.g. the PDF engine's system libraries are missing)."""


def _fmt(value: Any, unit: str = "number", lang: str = "en", decimals: int | None = None) -> str:
    return format_value(value, unit, lang=lang, decimals=decimals)  # type: ignore[arg-type]


_HEBREW = re.compile(r"[\u0590-\u05FF]")
_SVG = "{http://www.w3.org/2000/svg}"


def visual_svg(svg: str) -> str:
    """The SVG with Hebrew texts in visual order, for WeasyPrint.

    WeasyPrint draws SVG text letter by letter from left to right without the Unicode bidi
    algorithm, so Hebrew would come out backwards; reordering each text to its visual order
    (python-bidi, base direction from the text's ``direction``) makes it read right.
    Browsers apply bidi themselves and get the SVG as it is.
    """
    if not _HEBREW.search(svg):
        return svg
    ET.register_namespace("", _SVG[1:-1])
    root = ET.fromstring(svg)
    for el in root.iter(f"{_SVG}text"):
        if el.text and _HEBREW.search(el.text):
            el.text = get_display(el.text, base_dir="R" if el.get("direction") == "rtl" else "L")
    return ET.tostring(root, encoding="unicode")


@pass_context
def _svg(ctx: Context, svg: str) -> Markup:
    """A chart into the page: as it is for browsers, in visual order for the PDF engine."""
    return Markup(visual_svg(svg) if ctx.get("pdf") else svg)  # escaped by salesradar.charts


def _num(value: Any) -> Markup:
    """A number, amount or date kept left-to-right inside Hebrew text (a unit in Hebrew
    words, such as "45 ימים", is left to the bidi algorithm)."""
    text = str(value)
    if _HEBREW.search(text):
        return Markup.escape(text)
    return Markup('<span class="ltr">{}</span>').format(text)


@cache
def environment() -> Environment:
    """The template environment: autoescaped, strict about missing values, with the filters
    ``fmt`` (a number by unit and language) and ``day`` (dd/mm/yyyy)."""
    env = Environment(loader=PackageLoader("salesradar.reports", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["day"] = format_day
    env.filters["svg"] = _svg
    env.filters["num"] = _num
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    """One report page as HTML text."""
    return environment().get_template(template).render(**context)


def write_pdf(html: str, out: Path) -> int:
    """Render ``html`` to the PDF file ``out``; returns its page count."""
    try:
        from weasyprint import HTML  # type: ignore[import-untyped]
    except OSError as exc:  # Pango or its friends are missing
        raise ReportError(f"the PDF engine cannot start ({exc}); run scripts/setup-reports.sh "
                          "to install Pango and a Hebrew font, or write --format html") from None
    document = HTML(string=html).render()
    document.write_pdf(out)
    return len(document.pages)
