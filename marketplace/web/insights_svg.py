"""The /insights charts as SVG strings drawn here (no chart library, no script): vertical grouped bars over months
and horizontal bars over categories, each with its axis labels, a <title> and a <desc> (aria-labelledby), and a
<title> on every bar saying its value. Every text is escaped; values come formatted in the reader's language."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 720
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7")  # Okabe-Ito: told apart with colour-blindness too
AXIS = "#5b6470"
GRID = "#e3e6ea"


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def nice_ticks(low: int, high: int, count: int = 4) -> list[int]:
    """Round tick values covering [min(0, low), max(0, high)]: a step of 1, 2 or 5 times a power of ten, at most
    `count` steps above zero (and as many below as needed); at least [0, 1]."""
    low, high = min(0, low), max(0, high)
    if low == high:
        high = 1
    span = high - low
    raw = max(1, -(-span // count))
    power = 1
    while power * 10 <= raw:
        power *= 10
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = (low // step) * step
    ticks = []
    value = start
    while True:
        ticks.append(value)
        if value >= high:
            break
        value += step
    return ticks


def _open(chart_id: str, title: str, desc: str, height: float) -> list[str]:
    return [(f'<svg class="insight-svg" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" '
             f'width="{WIDTH}" height="{_num(height)}" role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'),
            f'<title id="{chart_id}-title">{escape(title)}</title>', f'<desc id="{chart_id}-desc">{escape(desc)}</desc>']


def _legend(series: Sequence[Series], top: float, left: float) -> list[str]:
    out, x = ['<g class="insight-legend" font-size="12">'], left
    for i, s in enumerate(series):
        out.append(f'<rect x="{_num(x)}" y="{_num(top)}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>'
                   f'<text x="{_num(x + 17)}" y="{_num(top + 10.5)}">{escape(s.name)}</text>')
        x += 17 + 7.2 * len(s.name) + 22
    out.append("</g>")
    return out


def bars(chart_id: str, *, title: str, desc: str, categories: Sequence[str], series: Sequence[Series],
         fmt: Callable[[int], str], axis_label: str) -> str:
    """Vertical bars: one group per category (months, left to right), one bar per series, a y axis of `fmt`
    values with grid lines, the categories under the bars."""
    height, top, bottom, left, right = 300.0, 40.0, 44.0, 96.0, 16.0
    every = [v for s in series for v in s.values]
    ticks = nice_ticks(min(every, default=0), max(every, default=0))
    lo, hi = ticks[0], ticks[-1]
    plot_h, plot_w = height - top - bottom, WIDTH - left - right

    def y(value: int) -> float:
        return top + plot_h * (hi - value) / (hi - lo)

    out = _open(chart_id, title, desc, height)
    if len(series) > 1:
        out += _legend(series, 8, left)
    out.append(f'<g class="insight-axis" font-size="12" fill="{AXIS}">')
    for tick in ticks:
        out.append(f'<line x1="{_num(left)}" x2="{_num(WIDTH - right)}" y1="{_num(y(tick))}" y2="{_num(y(tick))}" '
                   f'stroke="{GRID if tick else AXIS}"/>'
                   f'<text x="{_num(left - 6)}" y="{_num(y(tick) + 4)}" text-anchor="end">{escape(fmt(tick))}</text>')
    out.append(f'<text x="14" y="{_num(top + plot_h / 2)}" text-anchor="middle" '
               f'transform="rotate(-90 14 {_num(top + plot_h / 2)})">{escape(axis_label)}</text></g>')
    group_w = plot_w / max(1, len(categories))
    bar_w = min(48.0, group_w * 0.8 / max(1, len(series)))
    label_every = max(1, -(-len(categories) * 60 // int(plot_w)))  # keep ~60 px between the category labels
    out.append('<g class="insight-bars">')
    for c, category in enumerate(categories):
        x0 = left + group_w * c + (group_w - bar_w * len(series)) / 2
        for i, s in enumerate(series):
            value = s.values[c]
            y1, y2 = sorted((y(value), y(0)))
            out.append(f'<rect x="{_num(x0 + i * bar_w)}" y="{_num(y1)}" width="{_num(bar_w - 2)}" '
                       f'height="{_num(max(y2 - y1, 0.5 if value else 0))}" fill="{PALETTE[i % len(PALETTE)]}">'
                       f'<title>{escape(f"{category}, {s.name}: {fmt(value)}")}</title></rect>')
        if c % label_every == 0:
            out.append(f'<text x="{_num(left + group_w * (c + 0.5))}" y="{_num(height - bottom + 18)}" '
                       f'text-anchor="middle" font-size="12" fill="{AXIS}">{escape(category)}</text>')
    out.append("</g></svg>")
    return "\n".join(out)


def hbars(chart_id: str, *, title: str, desc: str, labels: Sequence[str], values: Sequence[int],
          fmt: Callable[[int], str], axis_label: str, maximum: int | None = None) -> str:
    """Horizontal bars: one row per label (top to bottom), its value written at the bar's end, an x axis of `fmt`
    values under them (up to `maximum` when given: 100 % for shares)."""
    row, top, right = 28.0, 12.0, 110.0
    left = min(280.0, 12 + 7.4 * max((len(label) for label in labels), default=0))  # room for the longest label
    height = top + row * len(labels) + 48
    ticks = nice_ticks(0, maximum if maximum is not None else max(values, default=0))
    hi = ticks[-1]
    plot_w = WIDTH - left - right

    def x(value: int) -> float:
        return left + plot_w * max(0, value) / hi

    out = _open(chart_id, title, desc, height)
    bottom = top + row * len(labels)
    out.append(f'<g class="insight-axis" font-size="12" fill="{AXIS}">')
    for tick in ticks:
        out.append(f'<line x1="{_num(x(tick))}" x2="{_num(x(tick))}" y1="{_num(top)}" y2="{_num(bottom)}" '
                   f'stroke="{GRID if tick else AXIS}"/>'
                   f'<text x="{_num(x(tick))}" y="{_num(bottom + 16)}" text-anchor="middle">{escape(fmt(tick))}</text>')
    out.append(f'<text x="{_num(left + plot_w / 2)}" y="{_num(bottom + 38)}" text-anchor="middle">'
               f'{escape(axis_label)}</text></g><g class="insight-bars" font-size="13">')
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y0 = top + row * i
        out.append(f'<text x="{_num(left - 8)}" y="{_num(y0 + row / 2 + 4.5)}" text-anchor="end">{escape(label)}'
                   '</text>'
                   f'<rect x="{_num(left)}" y="{_num(y0 + 5)}" width="{_num(x(value) - left)}" height="{_num(row - 10)}" '
                   f'fill="{PALETTE[0]}"><title>{escape(f"{label}: {fmt(value)}")}</title></rect>'
                   f'<text x="{_num(x(value) + 6)}" y="{_num(y0 + row / 2 + 4.5)}">{escape(fmt(value))}</text>')
    out.append("</g></svg>")
    return "\n".join(out)
