"""Bar charts drawn on the server as SVG geometry for the admin templates (no JavaScript, no library)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar
    value_label: str  # above the bar
    title: str  # tooltip


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    baseline_y: float
    ticks: list[tuple[float, str]]  # y, label of horizontal grid lines
    left: float
    right: float
    x_title: str
    y_title: str


def _nice_top(value: float) -> float:
    for step in (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000):
        if value <= step * 5:
            return step * 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    return float(-(-value // magnitude) * magnitude)


def bar_chart(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    value_format: str = "{:.0f}",
    titles: Sequence[str] | None = None,
    x_title: str = "",
    y_title: str = "",
    width: int = 640,
    height: int = 260,
) -> Chart:
    left, right, top, bottom = 56.0, width - 12.0, 16.0, height - 40.0
    highest = _nice_top(max(values, default=0.0) or 1.0)
    slot = (right - left) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = (bottom - top) * value / highest
        bars.append(
            Bar(
                x=left + i * slot + slot * 0.15,
                y=bottom - bar_height,
                width=slot * 0.7,
                height=bar_height,
                label=label,
                value_label=value_format.format(value),
                title=titles[i] if titles else value_format.format(value),
            )
        )
    ticks = [(bottom - (bottom - top) * f / 4, value_format.format(highest * f / 4)) for f in range(5)]
    return Chart(width, height, bars, bottom, ticks, left, right, x_title, y_title)
