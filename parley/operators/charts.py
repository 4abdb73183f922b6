"""Charts as inline SVG rendered on the server: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

PALETTE = ["#17663a", "#a4161a", "#7a5200", "#5b6672", "#0b5cad", "#6f42c1", "#b35900"]
W, H, PAD_L, PAD_B, PAD_T = 720, 220, 44, 28, 10


SVG_ATTRS = (
    'viewBox="0 0 {w} {h}" width="100%" preserveAspectRatio="xMidYMid meet"'
    ' xmlns="http://www.w3.org/2000/svg" font-family="system-ui,sans-serif"'
)


def _open(chart_id: str, title: str) -> list[str]:
    cid = escape(chart_id)
    return [
        f'<svg id="{cid}" role="img" aria-labelledby="{cid}-t" {SVG_ATTRS.format(w=W, h=H)}>',
        f'<title id="{cid}-t">{escape(title)}</title>',
    ]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000):
        if value <= step * 4:
            return step * 4 if value > step * 2 else step * 2 if value > step else step
    return value


def _axes(days: Sequence[dt.date], top: float, fmt: str = "{:g}") -> list[str]:
    out = []
    plot_h = H - PAD_B - PAD_T
    for i in range(5):
        v = top * i / 4
        y = PAD_T + plot_h - plot_h * i / 4
        out.append(f'<line x1="{PAD_L}" x2="{W}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d8dde3"/>')
        label = escape(fmt.format(v))
        out.append(f'<text x="{PAD_L - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis">{label}</text>')
    n = max(len(days), 1)
    bw = (W - PAD_L) / n
    for i, d in enumerate(days):
        if i % max(1, n // 6) == 0 or i == n - 1:
            x = PAD_L + bw * i + bw / 2
            anchor = "end" if i == n - 1 else "middle"
            out.append(f'<text x="{x:.1f}" y="{H - 8}" text-anchor="{anchor}" class="axis">{d:%m-%d}</text>')
    return out


def _caption(title: str) -> str:
    return f'<figcaption class="chart-title">{escape(title)}</figcaption>'


def _legend(names: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        format_html(
            '<li><span class="swatch swatch-{}" aria-hidden="true"></span> {}</li>',
            PALETTE.index(color),
            label,
        )
        for label, color in names
    )
    return f'<ul class="legend">{items}</ul>'


def stacked_bars(
    *, title: str, days: Sequence[dt.date], series: Sequence[tuple[str, Sequence[int]]], chart_id: str
) -> SafeString:
    """One bar per day, stacked by series; each bar has a <title> with the numbers for screen readers."""
    totals = [sum(s[1][i] for s in series) for i in range(len(days))]
    # Counts: at least 4 so the gridlines fall on whole numbers.
    top = max(4.0, _nice_max(max(totals, default=0)))
    plot_h = H - PAD_B - PAD_T
    bw = (W - PAD_L) / max(len(days), 1)
    parts = [
        *_open(chart_id, title),
        *_axes(days, top),
    ]
    for i, d in enumerate(days):
        y = float(PAD_T + plot_h)
        label = ", ".join(f"{name} {values[i]}" for name, values in series)
        parts.append(f"<g><title>{d:%Y-%m-%d}: {escape(label)}</title>")
        for j, (_name, values) in enumerate(series):
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            y -= h
            x, width, color = PAD_L + bw * i + 1, max(bw - 2, 1), PALETTE[j % len(PALETTE)]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{color}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    legend = _legend([(name, PALETTE[j % len(PALETTE)]) for j, (name, _v) in enumerate(series)])
    return mark_safe(_caption(title) + "".join(parts) + legend)  # noqa: S308 - dynamic values are escaped


def line(
    *,
    title: str,
    days: Sequence[dt.date],
    series: Sequence[tuple[str, Sequence[float | None]]],
    chart_id: str,
    unit: str = "",
) -> SafeString:
    """Lines over days; None values leave a gap."""
    values = [v for _n, vs in series for v in vs if v is not None]
    top = _nice_max(max(values, default=0))
    plot_h = H - PAD_B - PAD_T
    bw = (W - PAD_L) / max(len(days), 1)
    parts = [
        *_open(chart_id, title),
        *_axes(days, top, "{:g}" + unit),
    ]
    for j, (name, vs) in enumerate(series):
        color = PALETTE[j % len(PALETTE)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(vs):
            if v is None:
                if segment:
                    segments.append(segment)
                segment = []
                continue
            x = PAD_L + bw * i + bw / 2
            y = PAD_T + plot_h - plot_h * v / top
            segment.append(f"{x:.1f},{y:.1f}")
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{days[i]:%Y-%m-%d}: '
                f"{escape(name)} {v:.1f}{escape(unit)}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{" ".join(seg)}"/>'
            )
    parts.append("</svg>")
    legend = _legend([(name, PALETTE[j % len(PALETTE)]) for j, (name, _v) in enumerate(series)])
    return mark_safe(_caption(title) + "".join(parts) + legend)  # noqa: S308 - dynamic values are escaped
