"""How the pages read in each language, measured in the rendered page: numbers left to right in
Hebrew, shekels and dd/mm/yyyy dates, no internal codes shown to people."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser

from e2e.bidi import (
    CODE,
    DMY_DATE,
    ISO_DATE,
    MARKUP,
    SHEKELS,
    main_text,
    misordered_numbers,
    misordered_tokens,
    smallest_chart_texts,
)
from e2e.conftest import Rendered
from e2e.test_pages import PAGES

Render = Callable[[str, str], Rendered]


def test_the_check_sees_a_sign_on_the_wrong_side(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content('<html lang="he" dir="rtl"><body><main>'
                     "<p>שינוי -107% לעומת</p><p>כיסוי 2.3×</p>"
                     "<p>שינוי <bdi dir=ltr>-107%</bdi> ו-<bdi dir=ltr>2.3×</bdi></p>"
                     "<p>₪1,250 ב-30/10/2026</p></main></body></html>")
    # the bare -107% and 2.3× render as 107%- and ×2.3; isolated ones and ₪1,250 read right
    assert misordered_numbers(page) == ['-107% in "שינוי -107% לעומת"', '2.3× in "כיסוי 2.3×"']
    page.close()


def test_the_check_sees_markup_escaped_into_text() -> None:
    assert MARKUP.findall('מזמין כל ~<bdi dir="ltr">7</bdi> ימים; A &amp; B') == [
        '<bdi dir="ltr">', "</bdi>", "&amp;"]
    assert MARKUP.findall("פי 3 < 5, ₪1,250 · 30/10/2026") == []


@pytest.mark.parametrize("name", PAGES)
def test_numbers_read_left_to_right_in_hebrew(rendered: Render, name: str) -> None:
    assert misordered_numbers(rendered("admin_he", name).page) == []


def test_the_check_sees_a_token_reordered(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content('<html lang="he" dir="rtl"><body><main>'
                     # what isolating the digits alone did: "6Gilboa Jumbo Roll x", "000006L"
                     '<p>הפסיק לקנות Gilboa Jumbo Roll x<bdi dir="ltr">6</bdi></p>'
                     '<p>ליד L<bdi dir="ltr">000006</bdi> ממתין</p>'
                     '<p>תקופה <bdi dir="ltr">2026</bdi>-<bdi dir="ltr">11</bdi> '
                     'ו-HHI <bdi dir="ltr">0.017</bdi></p>'
                     '<div>קונה <bdi dir="ltr">Gilboa Jumbo Roll x6</bdi> וגם '
                     '<bdi dir="ltr">L000006</bdi></div>'
                     "</main></body></html>")
    bad = [b.split(" in ")[0] for b in misordered_tokens(page)]
    assert bad == ["Gilboa Jumbo Roll x6", "L000006", "2026-11", "HHI 0.017"]
    page.close()


@pytest.mark.parametrize("name", PAGES)
def test_ids_names_periods_and_ratios_keep_their_order_in_hebrew(rendered: Render,
                                                                  name: str) -> None:
    bad = misordered_tokens(rendered("admin_he", name).page)
    assert bad == [], "\n".join(bad)


@pytest.mark.parametrize("lang", ["en", "he"])
@pytest.mark.parametrize("name", PAGES)
def test_pages_show_words_not_codes(rendered: Render, name: str, lang: str) -> None:
    page = rendered("admin" if lang == "en" else "admin_he", name).page
    assert sorted(set(CODE.findall(main_text(page)))) == []


@pytest.mark.parametrize("lang", ["en", "he"])
@pytest.mark.parametrize("name", ["dashboard", "customer-360", "pipeline"])
def test_money_in_shekels_and_dates_as_day_month_year(rendered: Render, name: str,
                                                      lang: str) -> None:
    # both languages write ₪1,234 and 30/10/2026 (Israeli usage; salesradar.charts.labels)
    text = main_text(rendered("admin" if lang == "en" else "admin_he", name).page)
    assert SHEKELS.search(text)
    assert DMY_DATE.search(text) or name == "pipeline"  # the pipeline's dates are in its charts
    assert ISO_DATE.findall(text) == []


@pytest.mark.parametrize("lang", ["en", "he"])
@pytest.mark.parametrize("name", PAGES)
def test_no_markup_shows_as_text(rendered: Render, name: str, lang: str) -> None:
    page = rendered("admin" if lang == "en" else "admin_he", name).page
    assert MARKUP.findall(main_text(page)) == []


@pytest.mark.parametrize("lang", ["en", "he"])
@pytest.mark.parametrize("name", ["dashboard", "customer-360", "reps", "pipeline"])
def test_chart_labels_are_big_enough_to_read(rendered: Render, name: str, lang: str) -> None:
    # a text box under 10 px high holds a font under about 7.5 px, too small to read on a
    # laptop screen; the charts' tick labels (11 px fonts) have 13 px boxes
    page = rendered("admin" if lang == "en" else "admin_he", name).page
    small = [(h, t) for h, t in smallest_chart_texts(page) if h < 10]
    assert small == []
