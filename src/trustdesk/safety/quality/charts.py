"""Rates with their 95 % intervals as inline SVG, drawn on the server like the transparency
report's charts (no script, no CDN, a <title> and <desc> for screen readers, the figures
also in a table beside). A rate drawn without its interval would read as more certain than
it is: each bar carries a whisker from the interval's low to its high, and its sample size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from trustdesk.safety.quality.metrics import Rate

ROW, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, PAD = 26, 300, 360, 150, 8
COLOURS = ("#2450a6", "#067647", "#b54708", "#7a5af8")


@dataclass(frozen=True)
class RateBar:
    label: str
    rate: Rate


def _text(bar: RateBar) -> str:
    r = bar.rate
    if r.percent is None:
        return "no data (n = 0)"
    return f"{r.percent}% [{r.low}–{r.high}], n = {r.trials}"


def _x(percent: object) -> float:
    return LABEL_WIDTH + BAR_WIDTH * float(str(percent)) / 100


def rate_chart(title: str, bars: Sequence[RateBar], *, colour: int = 0) -> Markup:
    """Horizontal bars on a 0-100 % scale, each with its interval whisker."""
    height = PAD * 2 + ROW * max(len(bars), 1)
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    desc = "; ".join(f"{b.label}: {_text(b)}" for b in bars) or "no data"
    fill = COLOURS[colour % len(COLOURS)]
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    if not bars:
        parts.append(f'<text x="{PAD}" y="{PAD + 17}" class="empty">No data in this period</text>')
    for i, bar in enumerate(bars):
        y, r = PAD + i * ROW, bar.rate
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" class="label">{escape(bar.label[:40])}</text>')
        if r.percent is not None:
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 5}" width="{_x(r.percent) - LABEL_WIDTH:.1f}" height="{ROW - 10}" rx="3" '
                f'fill="{fill}" fill-opacity="0.75"/>'
                f'<line class="ci" x1="{_x(r.low):.1f}" x2="{_x(r.high):.1f}" y1="{y + 13}" y2="{y + 13}" stroke="#1d2330" stroke-width="2"/>'
                f'<line x1="{_x(r.low):.1f}" x2="{_x(r.low):.1f}" y1="{y + 7}" y2="{y + 19}" stroke="#1d2330"/>'
                f'<line x1="{_x(r.high):.1f}" x2="{_x(r.high):.1f}" y1="{y + 7}" y2="{y + 19}" stroke="#1d2330"/>'
            )
        parts.append(f'<text x="{LABEL_WIDTH + BAR_WIDTH + 6}" y="{y + 17}" class="value">{escape(_text(bar))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
