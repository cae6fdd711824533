"""Bar charts drawn on the server as inline SVG (no script: the CSP allows none inline).

Geometry only: ``bar_chart`` turns counts into rectangles and axis labels, and the
template ``home/_chart.html`` writes them out as SVG with a table beside them for
screen readers and for reading exact numbers. Styles come from app.css classes
(the CSP forbids inline styles, and the chart libraries we looked at write them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

WIDTH = 720
HEIGHT = 170
TOP = 22  # room for the peak's label
BOTTOM = 26  # room for the x labels
LEFT = 24  # room for half of the first x label
GAP = 0.18  # of each slot, between bars


@dataclass(frozen=True)
class Bar:
    """One bar: its rectangle, what it counts and when."""

    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True)
class Tick:
    """An x-axis label under a bar."""

    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    """A bar chart ready for the template: bars, x labels, the peak, a one-line summary."""

    id: str
    title: str
    unit: str
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    peak: int
    total: int
    summary: str


def bar_chart(chart_id: str, title: str, unit: str, points: Sequence[tuple[str, int]], *,
              label_every: int = 1) -> Chart:
    """Bars for ``points`` (label, count), scaled to the largest count; every
    ``label_every``-th bar, from the first, gets its label on the x axis."""
    baseline = HEIGHT - BOTTOM
    slot = (WIDTH - 2 * LEFT) / max(1, len(points))
    peak = max((value for _label, value in points), default=0)
    scale = (baseline - TOP) / peak if peak else 0.0
    bars = []
    ticks = []
    for i, (label, value) in enumerate(points):
        height = value * scale
        x = LEFT + i * slot
        bars.append(Bar(x=round(x + slot * GAP / 2, 2), y=round(baseline - height, 2),
                        width=round(slot * (1 - GAP), 2), height=round(height, 2),
                        label=label, value=value))
        if i % label_every == 0:
            ticks.append(Tick(x=round(x + slot / 2, 2), label=label))
    total = sum(value for _label, value in points)
    busiest = max(points, key=lambda p: p[1])[0] if peak else ""
    summary = (f"{title}: {total} {unit} in all" +
               (f", most ({peak}) at {busiest}" if peak else ", none"))
    return Chart(id=chart_id, title=title, unit=unit, width=WIDTH, height=HEIGHT,
                 baseline=baseline, bars=tuple(bars), ticks=tuple(ticks), peak=peak,
                 total=total, summary=summary)
