"""The overview's charts as SVG drawn by pygal (a maintained Python charting library).

Charts are drawn on the server so the page needs no script: each SVG is embedded as a
``data:`` image, which the console's Content-Security-Policy allows (``img-src 'self'
data:``), and an SVG shown as an image runs no script and keeps its own styles. pygal's
interactive script is switched off (``js=[]``): it would come from a CDN. Every chart
stands beside a table of the same figures, which is what a screen reader and a printout
use.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

import pygal  # type: ignore[import-untyped]
from pygal.style import Style  # type: ignore[import-untyped]

# The console's palette (console.css): women and men in two colours a colour-blind
# reader tells apart, movement in four.
_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#9aa5b1",
    colors=("#b44c8c", "#2f6f9f", "#7b8794", "#d98e04"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
)
_COMMON = {
    "style": _STYLE,
    "js": [],
    "disable_xml_declaration": True,
    "show_legend": True,
    "legend_at_bottom": True,
    "print_values": False,
    # Labels whole: pygal cuts long ones ("Oc…") by default.
    "truncate_label": -1,
}


def data_uri(svg: str | bytes) -> str:
    svg = svg.encode() if isinstance(svg, str) else svg
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def pyramid(
    bands: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    number: Callable[[int], str],
) -> str:
    """A population pyramid: one bar per age band, one side per sex."""
    chart = pygal.Pyramid(
        width=420, height=260, human_readable=False, value_formatter=number, **_COMMON
    )
    chart.x_labels = list(bands)
    for title, values in series:
        chart.add(title, list(values))
    return data_uri(chart.render())


def daily_movement(
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    number: Callable[[int], str],
    *,
    right_to_left: bool,
) -> str:
    """Movement per day, one line per kind; a right-to-left reader reads time leftwards."""
    chart = pygal.Line(
        width=900,
        height=300,
        x_label_rotation=0,
        show_minor_x_labels=False,
        value_formatter=number,
        dots_size=2,
        inverse_y_axis=False,
        **_COMMON,
    )
    labels = list(reversed(days)) if right_to_left else list(days)
    chart.x_labels = labels
    chart.x_labels_major = labels[:: max(1, len(labels) // 6)]
    for title, values in series:
        chart.add(title, list(reversed(values)) if right_to_left else list(values))
    return data_uri(chart.render())
