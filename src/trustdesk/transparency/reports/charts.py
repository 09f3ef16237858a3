"""Charts as inline SVG, drawn on the server: the report is one self-contained file that
reads the same offline, in an archive and in ten years, with no script and no CDN. A
horizontal bar chart is all the reports need; each chart carries a <title> and <desc> for
screen readers and the figures are always also in a table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

ROW, LABEL_WIDTH, BAR_WIDTH, VALUE_WIDTH, PAD = 26, 320, 360, 80, 8
COLOURS = ("#2450a6", "#067647", "#b54708", "#7a5af8", "#b42318", "#0e7090")


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal | int | float
    note: str = ""  # shown after the value, e.g. '%' or 'h'


def _fmt(value: Decimal | int | float, note: str) -> str:
    return f"{value:,}{note}" if isinstance(value, int) else f"{value}{note}"


def bar_chart(title: str, bars: Sequence[Bar], *, maximum: float | None = None, colour: int = 0) -> Markup:
    """Bars scaled to `maximum` (the largest value when not given; 100 for shares)."""
    top = maximum if maximum is not None else max((float(b.value) for b in bars), default=0.0)
    height = PAD * 2 + ROW * max(len(bars), 1)
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    desc = "; ".join(f"{b.label}: {_fmt(b.value, b.note)}" for b in bars) or "no data"
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title><desc>{escape(desc)}</desc>",
    ]
    if not bars:
        parts.append(f'<text x="{PAD}" y="{PAD + 17}" class="empty">No data in this period</text>')
    for i, bar in enumerate(bars):
        y = PAD + i * ROW
        length = 0.0 if top <= 0 else BAR_WIDTH * float(bar.value) / top
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 17}" text-anchor="end" class="label">{escape(_shorten(bar.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length:.1f}" height="{ROW - 8}" rx="3" fill="{COLOURS[colour % len(COLOURS)]}"/>'
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{y + 17}" class="value">{escape(_fmt(bar.value, bar.note))}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _shorten(label: str, limit: int = 42) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
