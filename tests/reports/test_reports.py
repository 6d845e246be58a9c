"""The reports render as PDF in both languages (pages read back with pypdf) and as HTML."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from salesradar.charts import bar_chart
from salesradar.errors import UserInputError
from salesradar.reports import build_html, last_full_quarter, write_report
from salesradar.reports.render import visual_svg

TITLES = {
    ("ceo", "en"): ["CEO dashboard", "Key numbers", "Top risks by revenue at stake"],
    ("ceo", "he"): ["לוח בקרה למנכ״ל", "המספרים המרכזיים", "השוואה מהירה"],
    ("account-review", "en"): ["Quarterly account review", "Totals", "strategic"],
    ("account-review", "he"): ["סקירת לקוחות רבעונית", "סיכום", "אסטרטגי"],
    ("commitment", "en"): ["Vendor commitment status", "Terms", "Fee due"],
    ("commitment", "he"): ["מצב התחייבות הספק", "תנאים", "תשלום לספק"],
    ("diagnostic", "en"): ["Vendor diagnostic", "Funnel conversion by stage", "CRM data quality"],
    ("diagnostic", "he"): ["אבחון לפני התקשרות עם ספק", "המרה בין שלבי המשפך", "תמחור והנחות"],
}


@pytest.mark.parametrize(("kind", "lang"), sorted(TITLES))
def test_pdf_renders(demo: tuple[Path, int], tmp_path: Path, kind: str, lang: str) -> None:
    ws, ident = demo
    out = tmp_path / f"{kind}-{lang}.pdf"
    result = write_report(kind, out, fmt="pdf", lang=lang,  # type: ignore[arg-type]
                          workspace=ws, ident=ident if kind == "commitment" else None)
    reader = PdfReader(out)
    assert result["pages"] == len(reader.pages) >= 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    for words in TITLES[(kind, lang)]:
        assert words in text, f"{words!r} not in the {kind} {lang} PDF"
    if lang == "he":
        assert "עמוד" in text  # the page footer is in Hebrew too


def test_html_is_self_contained_and_rtl(demo: tuple[Path, int]) -> None:
    ws, ident = demo
    html = build_html("commitment", lang="he", workspace=ws, ident=ident)
    assert '<html lang="he" dir="rtl">' in html
    assert "<script" not in html and "<link" not in html
    # the only URL is the SVG namespace
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}
    assert html.count('role="img"') >= 2  # the progress and baseline charts
    assert "מצב התחייבות הספק" in html


def test_visual_order_for_the_pdf_engine() -> None:
    svg = bar_chart(["לקוח א"], [5.0], title="הכנסות", lang="he")
    visual = visual_svg(svg)
    # the same chart, with each Hebrew text reversed into the order it is drawn in
    assert ">תוסנכה<" in visual and ">הכנסות<" in svg
    assert ">א חוקל<" in visual
    assert visual_svg("<svg/>") == "<svg/>"  # nothing Hebrew, nothing to do


@pytest.mark.parametrize(("day", "quarter"), [
    (date(2026, 10, 30), "2026Q3"),   # Q4 is not over yet
    (date(2026, 9, 30), "2026Q3"),    # the last day of Q3
    (date(2026, 1, 15), "2025Q4"),
])
def test_last_full_quarter(day: date, quarter: str) -> None:
    assert last_full_quarter(day) == quarter


def test_mistakes(demo: tuple[Path, int], tmp_path: Path) -> None:
    ws, _ = demo
    with pytest.raises(UserInputError, match="needs the commitment ID"):
        build_html("commitment", lang="en", workspace=ws)
    with pytest.raises(UserInputError, match="report must be one of"):
        build_html("weekly", lang="en", workspace=ws)
    with pytest.raises(UserInputError, match="format must be pdf or html"):
        write_report("ceo", tmp_path / "x.doc", fmt="doc", workspace=ws)
