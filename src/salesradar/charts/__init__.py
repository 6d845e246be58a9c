"""SVG charts in pure Python (no JavaScript, no CDN) for the web pages and the PDF reports.

Every function returns one ``<svg>`` string: ``role="img"`` with a ``<title>`` and a ``<desc>``
that states the numbers for screen readers, text escaped, labels formatted per language (``₪`` with
thousands separators, ``dd/mm/yyyy`` dates) and, for Hebrew (``lang="he"``, or ``rtl=True``), the
horizontal direction mirrored so that the first period or category sits at the right.

>>> svg = bar_chart(["R1", "R2"], [1200.0, 800.0], title="Revenue", unit="money")
>>> svg.startswith("<svg")
True
"""

from __future__ import annotations

from salesradar.charts.bars import bar_chart, coverage_chart, funnel_chart
from salesradar.charts.labels import format_date, format_day, format_value
from salesradar.charts.series import line_chart, sparkline, whale_curve_chart

__all__ = [
    "bar_chart",
    "coverage_chart",
    "format_date",
    "format_day",
    "format_value",
    "funnel_chart",
    "line_chart",
    "sparkline",
    "whale_curve_chart",
]
