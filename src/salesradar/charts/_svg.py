"""The drawing kit every chart shares: the root element, scales, ticks, axes, legend, text.

Charts are built as :mod:`xml.etree.ElementTree` elements, so every text and attribute is escaped
by the serializer and the output is always well-formed XML. Right-to-left charts mirror the
horizontal direction: the first category or period sits at the right and the value axis on the
right edge. Texts in the reader's language carry ``direction="rtl"`` (so that Hebrew mixed with
numbers reads in order); numbers and dates stay left-to-right. Anchors are given in absolute terms.
"""

from __future__ import annotations

import hashlib
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from salesradar.charts.labels import format_tick
from salesradar.lang import Lang

SVG_NS = "http://www.w3.org/2000/svg"
FONT = "'Noto Sans', 'Noto Sans Hebrew', 'DejaVu Sans', Arial, sans-serif"
PALETTE = ("#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b")
GRID = "#e5e7eb"
AXIS = "#6b7280"
INK = "#111827"
WARN = "#dc2626"
OK = "#16a34a"

Anchor = Literal["left", "right", "middle"]


def known(v: float | None) -> bool:
    """A value to draw: present and finite (not None, NaN or infinite)."""
    return v is not None and math.isfinite(float(v))


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering ``[lo, hi]``: steps of 1, 2, 2.5 or 5 times a power of ten.

    >>> [float(t) for t in nice_ticks(0, 930)]
    [0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
    """
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw * (1 - 1e-9))
    first = math.floor(lo / step + 1e-9) * step
    last = math.ceil(hi / step - 1e-9) * step
    n = round((last - first) / step)
    return [round(first + i * step, 10) for i in range(n + 1)]


@dataclass(frozen=True)
class Frame:
    """The plot area inside the SVG and the mapping of data onto it.

    ``x(t)`` takes a position ``t`` in 0..1 along the reading direction (0 = first period) and
    returns the SVG x; in RTL, 0 is the right edge. ``y(v)`` maps a value between ``lo`` and ``hi``.
    """

    width: float
    height: float
    left: float
    right: float
    top: float
    bottom: float
    lo: float
    hi: float
    rtl: bool

    @property
    def inner_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> float:
        return self.height - self.top - self.bottom

    def x(self, t: float) -> float:
        if self.rtl:
            t = 1.0 - t
        return round(self.left + t * self.inner_width, 2)

    def y(self, v: float) -> float:
        span = (self.hi - self.lo) or 1.0
        return round(self.top + (self.hi - v) / span * self.inner_height, 2)

    @property
    def axis_x(self) -> float:
        """Where the value axis stands: the left edge, or the right edge in RTL."""
        return self.width - self.right if self.rtl else self.left


def chart_id(kind: str, *parts: object) -> str:
    """A stable id for the chart's title and description (same input, same id)."""
    digest = hashlib.sha1(repr((kind, parts)).encode()).hexdigest()[:10]
    return f"{kind}-{digest}"


def root(kind: str, width: int, height: int, title: str, desc: str, *, lang: str, rtl: bool,
         ident: str) -> ET.Element:
    """The ``<svg>`` element with role="img", a ``<title>`` and a ``<desc>`` for screen readers."""
    svg = ET.Element("svg", {
        "xmlns": SVG_NS, "width": str(width), "height": str(height),
        "viewBox": f"0 0 {width} {height}", "role": "img", "lang": lang,
        "class": f"chart chart-{kind}", "aria-labelledby": f"{ident}-title {ident}-desc",
        "font-family": FONT, "font-size": "11",
        # an RTL page must not flip the anchors: texts in the reader's language set their own
        "direction": "ltr",
    })
    ET.SubElement(svg, "title", {"id": f"{ident}-title"}).text = title
    ET.SubElement(svg, "desc", {"id": f"{ident}-desc"}).text = desc
    return svg


def text(parent: ET.Element, x: float, y: float, content: str, *, anchor: Anchor = "left",
         rtl: bool = False, size: float | None = None, weight: str | None = None,
         fill: str = INK, cls: str | None = None) -> ET.Element:
    """A text whose ``anchor`` is absolute: "left" puts its left edge at x in any direction.

    In a right-to-left chart, a text without a Hebrew letter (a value such as "2.3×" or "-12%",
    an id, a period) keeps its own left-to-right direction, so it never reads "×2.3"."""
    rtl = rtl and any("\u0590" <= ch <= "\u05ff" for ch in content)
    if anchor == "middle":
        svg_anchor = "middle"
    elif rtl:  # in an RTL text "start" is the right edge
        svg_anchor = "end" if anchor == "left" else "start"
    else:
        svg_anchor = "start" if anchor == "left" else "end"
    attrs = {"x": num(x), "y": num(y), "text-anchor": svg_anchor, "fill": fill}
    if rtl:
        attrs["direction"] = "rtl"
    if size is not None:
        attrs["font-size"] = num(size)
    if weight is not None:
        attrs["font-weight"] = weight
    if cls is not None:
        attrs["class"] = cls
    el = ET.SubElement(parent, "text", attrs)
    el.text = content
    return el


def line(parent: ET.Element, x1: float, y1: float, x2: float, y2: float, *, stroke: str = AXIS,
         width: float = 1.0, dash: str | None = None, cls: str | None = None) -> ET.Element:
    attrs = {"x1": num(x1), "y1": num(y1), "x2": num(x2), "y2": num(y2), "stroke": stroke,
             "stroke-width": num(width)}
    if dash:
        attrs["stroke-dasharray"] = dash
    if cls:
        attrs["class"] = cls
    return ET.SubElement(parent, "line", attrs)


def rect(parent: ET.Element, x: float, y: float, w: float, h: float, *, fill: str,
         cls: str | None = None, label: str | None = None) -> ET.Element:
    """A rectangle (negative sizes are normalised); ``label`` becomes a hover ``<title>``."""
    if w < 0:
        x, w = x + w, -w
    if h < 0:
        y, h = y + h, -h
    attrs = {"x": num(x), "y": num(y), "width": num(w), "height": num(h), "fill": fill}
    if cls:
        attrs["class"] = cls
    el = ET.SubElement(parent, "rect", attrs)
    if label:
        ET.SubElement(el, "title").text = label
    return el


def polyline(parent: ET.Element, points: Sequence[tuple[float, float]], *, stroke: str,
             width: float = 2.0, cls: str | None = None, dash: str | None = None) -> ET.Element:
    attrs = {"points": " ".join(f"{num(x)},{num(y)}" for x, y in points), "fill": "none",
             "stroke": stroke, "stroke-width": num(width), "stroke-linejoin": "round",
             "stroke-linecap": "round"}
    if cls:
        attrs["class"] = cls
    if dash:
        attrs["stroke-dasharray"] = dash
    return ET.SubElement(parent, "polyline", attrs)


def value_axis(parent: ET.Element, frame: Frame, ticks: Sequence[float],
               labels: Sequence[str]) -> None:
    """Horizontal grid lines with their labels beside the value axis."""
    g = ET.SubElement(parent, "g", {"class": "y-axis"})
    for tick, label in zip(ticks, labels, strict=True):
        y = frame.y(tick)
        line(g, frame.left, y, frame.width - frame.right, y, stroke=GRID)
        if frame.rtl:
            text(g, frame.axis_x + 6, y + 4, label, anchor="left", fill=AXIS, cls="tick")
        else:
            text(g, frame.axis_x - 6, y + 4, label, anchor="right", fill=AXIS, cls="tick")


def plot_frame(svg: ET.Element, lo: float, hi: float, *, unit: str, lang: Lang,
               currency: str | None,
               width: float, height: float, rtl: bool, far: float = 12, top: float = 30,
               bottom: float = 30) -> Frame:
    """The plot area for values from ``lo`` to ``hi`` with round ticks, its value axis drawn.

    The value axis takes the room its widest tick label needs on the reading start side; ``far``
    is the margin on the other side.
    """
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    labels = [format_tick(t, unit, lang=lang, currency=currency, step=step) for t in ticks]
    side = label_width(labels) + 14
    frame = Frame(width, height, left=far if rtl else side, right=side if rtl else far, top=top,
                  bottom=bottom, lo=ticks[0], hi=ticks[-1], rtl=rtl)
    value_axis(svg, frame, ticks, labels)
    return frame


def legend(parent: ET.Element, names: Sequence[str], colors: Sequence[str], *, y: float,
           width: float, rtl: bool, dashed: Sequence[bool] = ()) -> None:
    """Swatch and name per series, from the reading start edge."""
    g = ET.SubElement(parent, "g", {"class": "legend"})
    pos = 12.0
    for i, (name, color) in enumerate(zip(names, colors, strict=True)):
        sw = 18.0
        x0 = width - pos - sw if rtl else pos
        line(g, x0, y - 4, x0 + sw, y - 4, stroke=color, width=3,
             dash="5 3" if i < len(dashed) and dashed[i] else None)
        tx = x0 - 5 if rtl else x0 + sw + 5
        text(g, tx, y, name, anchor="right" if rtl else "left", rtl=rtl, cls="legend-label")
        pos += sw + 15 + 6.5 * len(name)


def heading(parent: ET.Element, title: str, *, width: float, rtl: bool) -> None:
    """The visible title at the reading start of the top line."""
    if rtl:
        text(parent, width - 12, 18, title, anchor="right", rtl=True, size=13, weight="bold",
             cls="chart-title")
    else:
        text(parent, 12, 18, title, anchor="left", size=13, weight="bold", cls="chart-title")


def label_width(labels: Sequence[str], char: float = 6.4) -> float:
    """A rough width of the longest label at 11px (no font metrics without a renderer)."""
    return max((len(s) for s in labels), default=0) * char


def to_string(svg: ET.Element) -> str:
    """The SVG as text, without an XML declaration, ready to inline in HTML."""
    return ET.tostring(svg, encoding="unicode")


def empty(svg: ET.Element, message: str, *, width: float, height: float) -> str:
    """A chart with nothing to draw says so instead of drawing an empty frame."""
    text(svg, width / 2, height / 2, message, anchor="middle", fill=AXIS, cls="no-data")
    return to_string(svg)


def num(v: float) -> str:
    """Coordinates with at most two decimals and no trailing zeros."""
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s == "-0" else s
