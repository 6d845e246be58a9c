"""Charts over an ordered axis: the line chart, the sparkline and the whale curve."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from datetime import date

from salesradar.charts import _svg
from salesradar.charts.labels import format_date, format_value
from salesradar.lang import Lang

NO_DATA = {"en": "No data", "he": "אין נתונים"}
_FROM_TO = {"en": "{name}: from {first} to {last}", "he": "{name}: מ־{first} עד {last}"}


def _segments(xs: Sequence[float], ys: Sequence[float | None],
              frame: _svg.Frame) -> list[list[tuple[float, float]]]:
    """Runs of consecutive known values (a missing value breaks the line)."""
    runs: list[list[tuple[float, float]]] = [[]]
    for t, v in zip(xs, ys, strict=True):
        if v is None or not _svg.known(v):
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((frame.x(t), frame.y(float(v))))
    return [r for r in runs if r]


def line_chart(x: Sequence[date | str], series: Mapping[str, Sequence[float | None]], *,
               title: str, unit: str = "number", lang: Lang = "en", rtl: bool | None = None,
               currency: str | None = None, width: int = 640, height: int = 260,
               dashed: Sequence[str] = (), reference: float | None = None,
               reference_label: str | None = None, include_zero: bool = True) -> str:
    """One line per series over ordered periods ``x`` (dates read dd/mm/yyyy).

    ``series`` maps a name (shown in the legend) to one value per period, ``None`` where unknown.
    ``dashed`` names series drawn dashed (a target path beside the actual). ``reference`` draws a
    horizontal line (a target) labelled ``reference_label``. Points are spaced evenly by period.
    """
    rtl = lang == "he" if rtl is None else rtl
    names = list(series)
    ident = _svg.chart_id("line", title, tuple(map(str, x)),
                          tuple(tuple(v) for v in series.values()))
    values = [float(v) for vs in series.values() for v in vs if v is not None and _svg.known(v)]
    desc = "; ".join(
        _FROM_TO[lang].format(name=n, first=format_value(_first(vs), unit, lang=lang,
                                                         currency=currency),
                              last=format_value(_first(list(reversed(vs))), unit, lang=lang,
                                                currency=currency))
        for n, vs in series.items())
    svg = _svg.root("line", width, height, title, desc, lang=lang, rtl=rtl, ident=ident)
    _svg.heading(svg, title, width=width, rtl=rtl)
    if not values or not x:
        return _svg.empty(svg, NO_DATA[lang], width=width, height=height)
    for name, vs in series.items():
        if len(vs) != len(x):
            raise ValueError(f"series {name!r} has {len(vs)} values for {len(x)} periods")
    lo, hi = min(values), max(values)
    if reference is not None:
        lo, hi = min(lo, reference), max(hi, reference)
    if include_zero:
        lo, hi = min(lo, 0.0), max(hi, 0.0)
    top = 44 if len(names) > 1 or reference is not None else 30
    frame = _svg.plot_frame(svg, lo, hi, unit=unit, lang=lang, currency=currency, width=width,
                            height=height, rtl=rtl, far=34, top=top)
    colors = [_svg.PALETTE[i % len(_svg.PALETTE)] for i in range(len(names))]
    if len(names) > 1:
        _svg.legend(svg, names, colors, y=36, width=width, rtl=rtl,
                    dashed=[n in dashed for n in names])
    n = len(x)
    ts = [i / (n - 1) if n > 1 else 0.5 for i in range(n)]
    _time_axis(svg, frame, x, ts)
    if reference is not None:
        ry = frame.y(reference)
        _svg.line(svg, frame.left, ry, width - frame.right, ry, stroke=_svg.WARN, dash="6 4",
                  cls="reference")
        if reference_label:
            end_x = frame.left + 4 if rtl else width - frame.right - 4
            _svg.text(svg, end_x, ry - 5, reference_label, anchor="left" if rtl else "right",
                      rtl=rtl, fill=_svg.WARN, cls="reference-label")
    for name, color in zip(names, colors, strict=True):
        g = ET.SubElement(svg, "g", {"class": "series", "data-series": name})
        for run in _segments(ts, series[name], frame):
            if len(run) < 2:  # an isolated value is its dot
                if n > 36:
                    ET.SubElement(g, "circle", {"cx": _svg.num(run[0][0]),
                                                "cy": _svg.num(run[0][1]), "r": "2",
                                                "fill": color})
                continue
            _svg.polyline(g, run, stroke=color, dash="6 4" if name in dashed else None)
        if n <= 36:
            for t, v, period in zip(ts, series[name], x, strict=True):
                if v is None or not _svg.known(v):
                    continue
                dot = ET.SubElement(g, "circle", {"cx": _svg.num(frame.x(t)),
                                                  "cy": _svg.num(frame.y(float(v))), "r": "2.5",
                                                  "fill": color})
                ET.SubElement(dot, "title").text = (
                    f"{name} · {format_date(period)}: "
                    f"{format_value(v, unit, lang=lang, currency=currency)}")
    return _svg.to_string(svg)


def _first(values: Sequence[float | None]) -> float | None:
    return next((float(v) for v in values if v is not None and _svg.known(v)), None)


def _time_axis(svg: ET.Element, frame: _svg.Frame, x: Sequence[date | str],
               ts: Sequence[float]) -> None:
    """Period labels under the plot, thinned so that they do not overlap."""
    g = ET.SubElement(svg, "g", {"class": "x-axis"})
    labels = [format_date(v) for v in x]
    fits = max(2, int(frame.inner_width // (_svg.label_width(labels) + 16)))
    every = max(1, math.ceil(len(labels) / fits))
    base = frame.height - frame.bottom
    _svg.line(g, frame.left, base, frame.width - frame.right, base)
    for i in range(0, len(labels), every):
        _svg.text(g, frame.x(ts[i]), base + 16, labels[i], anchor="middle", fill=_svg.AXIS,
                  cls="tick")


def sparkline(values: Sequence[float | None], *, title: str, lang: Lang = "en",
              rtl: bool | None = None, unit: str = "number", currency: str | None = None,
              width: int = 120, height: int = 32, color: str = _svg.PALETTE[0]) -> str:
    """A small trend line without axes (the last point marked), for KPI tiles and tables."""
    rtl = lang == "he" if rtl is None else rtl
    known = [float(v) for v in values if v is not None and _svg.known(v)]
    last = _first(list(reversed(values)))
    desc = _FROM_TO[lang].format(name=title,
                                 first=format_value(_first(values), unit, lang=lang,
                                                    currency=currency),
                                 last=format_value(last, unit, lang=lang, currency=currency))
    ident = _svg.chart_id("spark", title, tuple(values))
    svg = _svg.root("sparkline", width, height, title, desc, lang=lang, rtl=rtl, ident=ident)
    if not known:
        return _svg.to_string(svg)
    lo, hi = min(known), max(known)
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    frame = _svg.Frame(width, height, left=3, right=3, top=3, bottom=3, lo=lo, hi=hi, rtl=rtl)
    n = len(values)
    ts = [i / (n - 1) if n > 1 else 0.5 for i in range(n)]
    for run in _segments(ts, values, frame):
        _svg.polyline(svg, run, stroke=color, width=1.5)
    i_last = max(i for i, v in enumerate(values) if v is not None and _svg.known(v))
    ET.SubElement(svg, "circle", {"cx": _svg.num(frame.x(ts[i_last])),
                                  "cy": _svg.num(frame.y(known[-1])), "r": "2", "fill": color})
    return _svg.to_string(svg)


_WHALE = {
    "en": {"x": "share of customers, most profitable first", "peak":
           "peak: {c} of customers make {p} of profit", "total": "100% of profit"},
    "he": {"x": "שיעור הלקוחות, הרווחיים ביותר תחילה", "peak":
           "שיא: {c} מהלקוחות מייצרים {p} מהרווח", "total": "100% מהרווח"},
}


def whale_curve_chart(customer_share: Sequence[float], cumulative_profit_share: Sequence[float],
                      *, title: str, lang: Lang = "en", rtl: bool | None = None,
                      width: int = 640, height: int = 280, max_points: int = 300) -> str:
    """Cumulative profit (share of the total) against customers ranked by profitability.

    The inputs are the ``customer_share`` and ``cumulative_profit_share`` columns of
    :func:`salesradar.metrics.analyses.whale_curve`. The curve starts at (0, 0), the 100% line is
    dashed and the peak is marked with its reading ("20% of customers make 130% of profit").
    Long curves are thinned to ``max_points`` (the peak and the last point are always kept).
    """
    rtl = lang == "he" if rtl is None else rtl
    words = _WHALE[lang]
    pairs = [(float(c), float(p)) for c, p in zip(customer_share, cumulative_profit_share,
                                                  strict=True) if p is not None and _svg.known(p)]
    peak = max(range(len(pairs)), key=lambda i: pairs[i][1]) if pairs else -1
    peak_text = (words["peak"].format(c=format_value(pairs[peak][0], "%", lang=lang),
                                      p=format_value(pairs[peak][1], "%", lang=lang))
                 if pairs else NO_DATA[lang])
    ident = _svg.chart_id("whale", title, tuple(pairs))
    svg = _svg.root("whale", width, height, title, peak_text, lang=lang, rtl=rtl, ident=ident)
    _svg.heading(svg, title, width=width, rtl=rtl)
    if not pairs:
        return _svg.empty(svg, NO_DATA[lang], width=width, height=height)
    keep = sorted({*_thin(len(pairs), max_points), peak, len(pairs) - 1})
    pts = [(0.0, 0.0), *(pairs[i] for i in keep)]
    ys = [p for _, p in pts]
    frame = _svg.plot_frame(svg, min(0.0, *ys), max(1.0, *ys), unit="%", lang=lang,
                            currency=None, width=width, height=height, rtl=rtl, far=16,
                            bottom=34)
    base = height - frame.bottom
    _svg.line(svg, frame.left, base, width - frame.right, base)
    for share in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        _svg.text(svg, frame.x(share), base + 14, format_value(share, "%", lang=lang),
                  anchor="middle", fill=_svg.AXIS, cls="tick")
    _svg.text(svg, width / 2, height - 4, words["x"], anchor="middle", rtl=rtl, fill=_svg.AXIS,
              cls="axis-title")
    _svg.line(svg, frame.left, frame.y(1.0), width - frame.right, frame.y(1.0),
              stroke=_svg.AXIS, dash="5 4", cls="reference")
    _svg.polyline(svg, [(frame.x(c), frame.y(p)) for c, p in pts], stroke=_svg.PALETTE[0],
                  cls="curve")
    px, py = frame.x(pairs[peak][0]), frame.y(pairs[peak][1])
    ET.SubElement(svg, "circle", {"cx": _svg.num(px), "cy": _svg.num(py), "r": "4",
                                  "fill": _svg.WARN, "class": "peak"})
    on_right = px > width / 2
    _svg.text(svg, px + (-8 if on_right else 8), py - 8, peak_text,
              anchor="right" if on_right else "left", rtl=rtl, cls="peak-label")
    return _svg.to_string(svg)


def _thin(n: int, limit: int) -> list[int]:
    """At most ``limit`` evenly spread indices of ``n``."""
    if n <= limit:
        return list(range(n))
    return sorted({round(i * (n - 1) / (limit - 1)) for i in range(limit)})
