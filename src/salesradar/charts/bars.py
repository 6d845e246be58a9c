"""Charts over categories: bars, the sales funnel and pipeline coverage against the 3× line."""

from __future__ import annotations

import itertools
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from salesradar.charts import _svg
from salesradar.charts.labels import format_value
from salesradar.charts.series import NO_DATA
from salesradar.lang import Lang


def _describe(labels: Sequence[str], values: Sequence[float | None], unit: str, lang: Lang,
              currency: str | None) -> str:
    return "; ".join(f"{lab}: {format_value(v, unit, lang=lang, currency=currency)}"
                     for lab, v in zip(labels, values, strict=True))


def bar_chart(labels: Sequence[str], values: Sequence[float | None], *, title: str,
              unit: str = "number", lang: Lang = "en", rtl: bool | None = None,
              currency: str | None = None, horizontal: bool = False,
              colors: Sequence[str] | None = None,
              width: int = 640, height: int | None = None) -> str:
    """One bar per category; negative values hang below the zero line.

    Vertical bars run in reading order (the first category at the right in RTL). Horizontal bars
    put the category names at the reading start and grow towards the reading end, which suits
    long names (reps, customers); their height grows with the number of bars unless given.
    """
    rtl = lang == "he" if rtl is None else rtl
    if len(labels) != len(values):
        raise ValueError(f"{len(labels)} labels for {len(values)} values")
    ident = _svg.chart_id("bar", title, tuple(labels), tuple(values), horizontal)
    desc = _describe(labels, values, unit, lang, currency)
    if height is None:
        height = 44 + 24 * len(labels) if horizontal else 260
    svg = _svg.root("bar", width, height, title, desc, lang=lang, rtl=rtl, ident=ident)
    _svg.heading(svg, title, width=width, rtl=rtl)
    known = [float(v) for v in values if v is not None and _svg.known(v)]
    if not known:
        return _svg.empty(svg, NO_DATA[lang], width=width, height=height)
    fills = list(colors) if colors else [_svg.PALETTE[0]] * len(labels)
    lo, hi = min(0.0, *known), max(0.0, *known)
    if horizontal:
        _horizontal(svg, labels, values, fills, _svg.nice_ticks(lo, hi), unit=unit, lang=lang,
                    currency=currency, rtl=rtl, width=width, height=height)
        return _svg.to_string(svg)
    frame = _svg.plot_frame(svg, lo, hi, unit=unit, lang=lang, currency=currency, width=width,
                            height=height, rtl=rtl)
    _vertical_bars(svg, frame, labels, values, fills, unit=unit, lang=lang, currency=currency)
    return _svg.to_string(svg)


def _vertical_bars(svg: ET.Element, frame: _svg.Frame, labels: Sequence[str],
                   values: Sequence[float | None], fills: Sequence[str], *, unit: str,
                   lang: Lang, currency: str | None, extra: Sequence[dict[str, str]] = ()) -> None:
    """Bars from the zero line, with category names under the axis (thinned when crowded)."""
    n = len(labels)
    slot = frame.inner_width / n
    bar_w = max(2.0, slot * 0.66)
    zero = frame.y(0.0)
    every = max(1, math.ceil(_svg.label_width(labels) / max(slot - 4, 1)))
    g = ET.SubElement(svg, "g", {"class": "bars"})
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        cx = frame.x((i + 0.5) / n)
        if v is not None and _svg.known(v):
            bar = _svg.rect(g, cx - bar_w / 2, zero, bar_w, frame.y(float(v)) - zero,
                            fill=fills[i % len(fills)], cls="bar",
                            label=f"{lab}: {format_value(v, unit, lang=lang, currency=currency)}")
            bar.set("data-label", lab)
            bar.set("data-value", repr(float(v)))
            for key, val in (extra[i] if i < len(extra) else {}).items():
                bar.set(key, val)
        if i % every == 0:
            _svg.text(g, cx, frame.height - frame.bottom + 16, lab, anchor="middle",
                      rtl=frame.rtl, fill=_svg.AXIS, cls="tick")
    _svg.line(g, frame.left, zero, frame.width - frame.right, zero)


def _horizontal(svg: ET.Element, labels: Sequence[str], values: Sequence[float | None],
                fills: Sequence[str], ticks: Sequence[float], *, unit: str, lang: Lang,
                currency: str | None, rtl: bool, width: int, height: int) -> None:
    """Horizontal bars: names at the reading start, values at the end of each bar."""
    name_w = min(_svg.label_width(labels) + 16, width * 0.35)
    value_labels = [format_value(v, unit, lang=lang, currency=currency) for v in values]
    value_w = _svg.label_width(value_labels) + 10
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0
    start = width - name_w if rtl else name_w  # where the plot begins, in reading order
    plot_w = width - name_w - value_w - 12
    direction = -1.0 if rtl else 1.0

    def at(v: float) -> float:
        return start + direction * (v - lo) / span * plot_w

    row_h = (height - 36) / len(labels)
    g = ET.SubElement(svg, "g", {"class": "bars"})
    for i, (lab, v) in enumerate(zip(labels, values, strict=True)):
        y = 30 + i * row_h
        mid = y + row_h / 2
        name_x = width - 8 if rtl else 8
        _svg.text(g, name_x, mid + 4, lab, anchor="right" if rtl else "left", rtl=rtl,
                  cls="category")
        if v is None or not _svg.known(v):
            continue
        x0, x1 = at(0.0), at(float(v))
        bar = _svg.rect(g, x0, y + row_h * 0.18, x1 - x0, row_h * 0.64,
                        fill=fills[i % len(fills)], cls="bar",
                        label=f"{lab}: {value_labels[i]}")
        bar.set("data-label", lab)
        bar.set("data-value", repr(float(v)))
        outward = max(x0, x1) + 4 if not rtl else min(x0, x1) - 4
        _svg.text(g, outward, mid + 4, value_labels[i], anchor="right" if rtl else "left",
                  rtl=rtl, fill=_svg.AXIS, cls="value")


_FUNNEL = {"en": "{rate} of the previous stage", "he": "{rate} מהשלב הקודם"}


def funnel_chart(stages: Sequence[str], counts: Sequence[float], *, title: str,
                 lang: Lang = "en", rtl: bool | None = None, unit: str = "count",
                 currency: str | None = None, width: int = 640, height: int | None = None) -> str:
    """Stages top to bottom as centred bars whose width is the stage's share of the first stage.

    Between two bars, the conversion from the previous stage (``count_i ÷ count_{i-1}``) is written;
    each bar carries ``data-conversion`` with that fraction.
    """
    rtl = lang == "he" if rtl is None else rtl
    if len(stages) != len(counts):
        raise ValueError(f"{len(stages)} stages for {len(counts)} counts")
    rates: list[float | None] = [None]
    rates += [(float(c) / float(p) if p else None) for p, c in itertools.pairwise(counts)]
    desc = "; ".join(
        f"{s}: {format_value(c, unit, lang=lang, currency=currency)}"
        + (f" ({_FUNNEL[lang].format(rate=format_value(r, '%', lang=lang))})"
           if r is not None else "")
        for s, c, r in zip(stages, counts, rates, strict=True))
    if height is None:
        height = 40 + 46 * len(stages)
    ident = _svg.chart_id("funnel", title, tuple(stages), tuple(counts))
    svg = _svg.root("funnel", width, height, title, desc, lang=lang, rtl=rtl, ident=ident)
    _svg.heading(svg, title, width=width, rtl=rtl)
    top = max((float(c) for c in counts), default=0.0)
    if not stages or top <= 0:
        return _svg.empty(svg, NO_DATA[lang], width=width, height=height)
    name_w = min(_svg.label_width(stages) + 16, width * 0.3)
    center = width / 2 - name_w / 2 if rtl else width / 2 + name_w / 2
    full = width - name_w - 24
    g = ET.SubElement(svg, "g", {"class": "funnel"})
    for i, (stage, count, rate) in enumerate(zip(stages, counts, rates, strict=True)):
        y = 34 + i * 46
        w = max(2.0, full * float(count) / top)
        color = _svg.PALETTE[0] if i < len(stages) - 1 else _svg.OK
        bar = _svg.rect(g, center - w / 2, y + 10, w, 26, fill=color, cls="stage",
                        label=f"{stage}: {format_value(count, unit, lang=lang, currency=currency)}")
        bar.set("data-stage", stage)
        bar.set("data-value", repr(float(count)))
        if rate is not None:
            bar.set("data-conversion", repr(rate))
            _svg.text(g, center, y + 6, _FUNNEL[lang].format(rate=format_value(rate, "%",
                                                                                 lang=lang)),
                      anchor="middle", rtl=rtl, fill=_svg.AXIS, size=10, cls="conversion")
        _svg.text(g, width - 8 if rtl else 8, y + 27, stage, anchor="right" if rtl else "left",
                  rtl=rtl, cls="category")
        _svg.text(g, center, y + 27, format_value(count, unit, lang=lang, currency=currency),
                  anchor="middle", fill="#ffffff", weight="bold", cls="value")
    return _svg.to_string(svg)


_COVERAGE = {"en": "{t}× target", "he": "פי {t} מהיעד"}


def coverage_chart(labels: Sequence[str], coverage: Sequence[float | None], *, title: str,
                   threshold: float = 3.0, lang: Lang = "en", rtl: bool | None = None,
                   width: int = 640, height: int = 260) -> str:
    """Pipeline coverage (open pipeline ÷ remaining target) per period or rep against 3×.

    Bars under ``threshold`` are red and carry ``data-below="true"``; the threshold is a dashed
    line labelled "3× target".
    """
    rtl = lang == "he" if rtl is None else rtl
    if len(labels) != len(coverage):
        raise ValueError(f"{len(labels)} labels for {len(coverage)} values")
    t_text = f"{threshold:g}"
    desc = (_describe(labels, coverage, "ratio", lang, None)
            + f" ({_COVERAGE[lang].format(t=t_text)})")
    ident = _svg.chart_id("coverage", title, tuple(labels), tuple(coverage), threshold)
    svg = _svg.root("coverage", width, height, title, desc, lang=lang, rtl=rtl, ident=ident)
    _svg.heading(svg, title, width=width, rtl=rtl)
    known = [float(v) for v in coverage if v is not None and _svg.known(v)]
    if not known:
        return _svg.empty(svg, NO_DATA[lang], width=width, height=height)
    frame = _svg.plot_frame(svg, min(0.0, *known), max(threshold, *known), unit="ratio",
                            lang=lang, currency=None, width=width, height=height, rtl=rtl)
    below = [v is not None and _svg.known(v) and float(v) < threshold for v in coverage]
    fills = [_svg.WARN if b else _svg.OK for b in below]
    _vertical_bars(svg, frame, labels, coverage, fills, unit="ratio", lang=lang, currency=None,
                   extra=[{"data-below": "true" if b else "false"} for b in below])
    ty = frame.y(threshold)
    _svg.line(svg, frame.left, ty, width - frame.right, ty, stroke=_svg.WARN, width=1.5,
              dash="6 4", cls="threshold")
    end_x = frame.left + 4 if rtl else width - frame.right - 4
    _svg.text(svg, end_x, ty - 5, _COVERAGE[lang].format(t=t_text),
              anchor="left" if rtl else "right", rtl=rtl, fill=_svg.WARN, cls="threshold-label")
    return _svg.to_string(svg)
