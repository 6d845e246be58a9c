"""The SVG charts, parsed back with ElementTree and checked against hand-computed positions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from salesradar.charts import (
    bar_chart,
    coverage_chart,
    format_date,
    format_day,
    format_value,
    funnel_chart,
    line_chart,
    sparkline,
    whale_curve_chart,
)
from salesradar.charts._svg import nice_ticks

NS = {"s": "http://www.w3.org/2000/svg"}
MONTHS = [date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby", "").split()
    assert root.find(f"s:title[@id='{title_id}']", NS) is not None
    assert root.find(f"s:desc[@id='{desc_id}']", NS) is not None
    return root


def texts(root: ET.Element, cls: str | None = None) -> list[str]:
    return [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")
            if cls is None or t.get("class") == cls]


def test_nice_ticks() -> None:
    # 930 / 5 = 186 -> the next round step is 200; 0..1000 covers 930
    assert nice_ticks(0, 930) == [0, 200, 400, 600, 800, 1000]
    # 2.6 / 5 = 0.52 -> steps 0.1, 0.2, 0.25, 0.5 are too small, 1 fits
    assert nice_ticks(0, 2.6) == [0, 1, 2, 3]
    # -300..1200: 1500 / 5 = 300 -> 500
    assert nice_ticks(-300, 1200) == [-500, 0, 500, 1000, 1500]
    assert nice_ticks(5, 5) == [5, 6, 7, 8, 9, 10]  # a flat range is widened by |lo|


@pytest.mark.parametrize(("value", "unit", "lang", "expected"), [
    (1_250_000, "money", "en", "₪1,250,000"),
    (-300, "money", "he", "-₪300"),
    (0.125, "%", "en", "12.5%"),
    (0.4, "percent", "he", "40%"),
    (3.24, "ratio", "en", "3.2×"),
    (14, "days", "he", "14 ימים"),
    (14, "days", "en", "14 days"),
    (1204, "count", "en", "1,204"),
    (None, "money", "en", "–"),
])
def test_format_value(value: float | None, unit: str, lang: str, expected: str) -> None:
    assert format_value(value, unit, lang=lang) == expected  # type: ignore[arg-type]


def test_format_date_is_day_month_year() -> None:
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    assert format_date("2026-Q3") == "2026-Q3"


def test_format_day_reads_dates_and_iso_strings() -> None:
    assert format_day(date(2026, 3, 5)) == "05/03/2026"
    assert format_day("2026-03-05") == "05/03/2026"
    assert format_day("2026-03-05T14:30:00") == "05/03/2026"
    assert format_day("2026-Q3") == "2026-Q3"
    assert format_day(None) == "–"


def test_line_chart_points_ltr_and_rtl() -> None:
    svg = line_chart(MONTHS, {"Deals": [0, 50, 100]}, title="Deals", unit="count")
    root = parse(svg)
    # ticks 0..100 step 20; the widest label "100" is 3 × 6.4 = 19.2 px, plus 14 -> left 33.2;
    # right margin 34 -> plot width 640 - 33.2 - 34 = 572.8; top 30, bottom 30 -> height 200.
    # x: 33.2, 33.2 + 286.4 = 319.6, 606; y: 30 + 200 = 230, 130, 30
    (poly,) = root.iter("{http://www.w3.org/2000/svg}polyline")
    assert poly.get("points") == "33.2,230 319.6,130 606,30"
    assert texts(root, "tick")[:6] == ["0", "20", "40", "60", "80", "100"]
    assert "01/02/2026" in texts(root, "tick")
    # Hebrew mirrors: left margin 34, value axis on the right -> x = 34 + (1 - t) × 572.8
    root_he = parse(line_chart(MONTHS, {"עסקאות": [0, 50, 100]}, title="עסקאות", unit="count",
                               lang="he"))
    (poly_he,) = root_he.iter("{http://www.w3.org/2000/svg}polyline")
    assert poly_he.get("points") == "606.8,230 320.4,130 34,30"
    assert root_he.get("lang") == "he"
    # inside a dir="rtl" page the chart keeps its own (absolute) anchors
    assert root_he.get("direction") == "ltr"
    title = next(t for t in root_he.iter("{http://www.w3.org/2000/svg}text")
                 if t.get("class") == "chart-title")
    assert title.get("direction") == "rtl" and float(title.get("x", 0)) > 320


def test_line_chart_gap_legend_reference_and_money_ticks() -> None:
    svg = line_chart(MONTHS, {"Actual": [100_000, None, 250_000], "Path": [100_000, 175_000,
                                                                          250_000]},
                     title="Revenue", unit="money", dashed=["Path"], reference=300_000,
                     reference_label="Target")
    root = parse(svg)
    actual, path = root.findall("s:g[@class='series']", NS)
    # the unknown February splits Actual into two one-point runs: no line, only the dots
    assert actual.findall("s:polyline", NS) == [] and len(actual.findall("s:circle", NS)) == 2
    assert path.find("s:polyline", NS).get("stroke-dasharray") == "6 4"  # type: ignore[union-attr]
    # 0..300k: 300k / 5 = 60k -> the next round step is 100k
    assert texts(root, "tick")[:4] == ["₪0", "₪100,000", "₪200,000", "₪300,000"]
    assert texts(root, "legend-label") == ["Actual", "Path"]
    assert texts(root, "reference-label") == ["Target"]


def test_text_is_escaped_and_mismatched_series_rejected() -> None:
    root = parse(bar_chart(["<R&D>"], [5.0], title='a "<b>" & c'))
    assert root.find("s:title", NS).text == 'a "<b>" & c'  # type: ignore[union-attr]
    assert "<R&D>" in texts(root)
    with pytest.raises(ValueError, match="2 values for 3 periods"):
        line_chart(MONTHS, {"x": [1.0, 2.0]}, title="x")


def test_bar_chart_negative_values_hang_below_zero() -> None:
    root = parse(bar_chart(["Jan", "Feb"], [1200.0, -300.0], title="Revenue", unit="money"))
    bars = root.findall(".//s:rect[@class='bar']", NS)
    assert [b.get("data-value") for b in bars] == ["1200.0", "-300.0"]
    # ticks -500..1500 (step 500): height 260 - 60 = 200 px for 2000 -> 0.1 px per shekel;
    # zero at 30 + 1500 × 0.1 = 180; Jan rises 120 px (y 60), Feb hangs 30 px (y 180..210)
    jan, feb = bars
    assert (jan.get("y"), jan.get("height")) == ("60", "120")
    assert (feb.get("y"), feb.get("height")) == ("180", "30")
    assert "-₪500" in texts(root, "tick") and "₪1,500" in texts(root, "tick")


def test_horizontal_bars_grow_towards_the_reading_end() -> None:
    ltr = parse(bar_chart(["A", "B"], [100.0, 50.0], title="t", horizontal=True))
    rtl = parse(bar_chart(["A", "B"], [100.0, 50.0], title="t", horizontal=True, lang="he"))
    a_ltr = ltr.find(".//s:rect[@data-label='A']", NS)
    a_rtl = rtl.find(".//s:rect[@data-label='A']", NS)
    assert a_ltr is not None and a_rtl is not None
    # LTR: the bar starts right after the names (left); RTL: it ends right before them (right)
    assert float(a_ltr.get("x", 0)) < 40
    assert float(a_rtl.get("x", 0)) + float(a_rtl.get("width", 0)) > 600
    names = [t for t in rtl.iter("{http://www.w3.org/2000/svg}text")
             if t.get("class") == "category"]
    assert all(float(t.get("x", 0)) == 632 for t in names)  # 640 - 8, at the right edge


def test_funnel_conversions() -> None:
    root = parse(funnel_chart(["Leads", "Meetings", "Deals", "Won"], [200, 80, 40, 10],
                              title="Funnel"))
    stages = root.findall(".//s:rect[@class='stage']", NS)
    # 80/200 = 0.4, 40/80 = 0.5, 10/40 = 0.25
    assert [s.get("data-conversion") for s in stages] == [None, "0.4", "0.5", "0.25"]
    assert texts(root, "conversion") == ["40% of the previous stage", "50% of the previous stage",
                                         "25% of the previous stage"]
    # widths: proportional to the first stage: 10/200 of the full width
    widths = [float(s.get("width", 0)) for s in stages]
    assert widths[3] == pytest.approx(widths[0] * 10 / 200, abs=0.02)
    he = parse(funnel_chart(["לידים", "זכיות"], [200, 50], title="משפך", lang="he"))
    assert texts(he, "conversion") == ["25% מהשלב הקודם"]


def test_coverage_marks_bars_under_three_times() -> None:
    root = parse(coverage_chart(["Q1", "Q2", "Q3"], [2.1, 3.5, None], title="Coverage"))
    bars = root.findall(".//s:rect[@class='bar']", NS)
    assert [(b.get("data-label"), b.get("data-below")) for b in bars] == [("Q1", "true"),
                                                                        ("Q2", "false")]
    # ticks 0..4 (3.5 / 5 = 0.7 -> 1); plot 30..230 -> 3× at 230 - 3 × 50 = 80
    (threshold,) = root.findall("s:line[@class='threshold']", NS)
    assert threshold.get("y1") == "80"
    assert texts(root, "threshold-label") == ["3× target"]
    assert "Q3: –" in (root.find("s:desc", NS).text or "")  # type: ignore[union-attr]


def test_whale_curve_peak() -> None:
    root = parse(whale_curve_chart([0.2, 0.4, 0.6, 0.8, 1.0], [0.8, 1.2, 1.3, 1.1, 1.0],
                                   title="Whale", lang="en"))
    desc = root.find("s:desc", NS).text  # type: ignore[union-attr]
    assert desc == "peak: 60% of customers make 130% of profit"
    (curve,) = root.findall("s:polyline[@class='curve']", NS)
    assert len(curve.get("points", "").split()) == 6  # (0, 0) and the five customers
    # thinning keeps the peak: 1,000 customers, peak at 137 -> at most 300 + peak + last points
    n = 1000
    shares = [(i + 1) / n for i in range(n)]
    cum = [min(i, 137) / 100 for i in range(n)]
    root = parse(whale_curve_chart(shares, cum, title="Whale", max_points=50))
    (curve,) = root.findall("s:polyline[@class='curve']", NS)
    assert 50 <= len(curve.get("points", "").split()) <= 53
    desc = root.find("s:desc", NS).text  # type: ignore[union-attr]
    assert desc == "peak: 13.8% of customers make 137% of profit"


def test_sparkline_and_empty_charts() -> None:
    root = parse(sparkline([1.0, 3.0, None, 5.0], title="Revenue trend"))
    polys = root.findall("s:polyline", NS)
    assert [len(p.get("points", "").split()) for p in polys] == [2, 1]
    empty = parse(line_chart(MONTHS, {"x": [None, None, None]}, title="x", lang="he"))
    assert texts(empty, "no-data") == ["אין נתונים"]
    assert texts(parse(bar_chart([], [], title="x")), "no-data") == ["No data"]
