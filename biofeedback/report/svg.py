"""Small, dependency-free SVG time charts drawn from NumPy arrays, for the session report.

The report must open offline and print on A4, so its plots are inline SVG written here rather
than by a plotting library: a chart is a handful of polylines, shaded stretches and a band,
which takes less code than adapting a library's output to a self-contained file would.

Every chart shares one time axis convention (session seconds, ticks in m:ss or h:mm), breaks
its lines at ``nan`` (a gap is drawn as a gap, never bridged), and keeps files small on long
sessions by min/max decimation per pixel column (the visible envelope is kept exactly).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["Band", "Mark", "Series", "Span", "decimate", "nice_ticks", "time_chart", "time_ticks"]

FloatArray = NDArray[np.float64]

#: Drawing width in SVG user units; the element scales to the page (``width: 100%``).
WIDTH = 720
_LEFT, _RIGHT, _TOP, _BOTTOM = 52, 12, 22, 26
_FONT = 11
_CLIP_IDS = itertools.count(1)


@dataclass(frozen=True)
class Series:
    """One line: ``y`` against ``t_s`` (session seconds); ``nan`` breaks the line."""

    t_s: ArrayLike
    y: ArrayLike
    label: str
    color: str
    dash: str | None = None
    width: float = 1.4


@dataclass(frozen=True)
class Band:
    """A shaded band between ``lo`` and ``hi`` (e.g. the chance band); ``nan`` leaves a hole."""

    t_s: ArrayLike
    lo: ArrayLike
    hi: ArrayLike
    label: str
    color: str


@dataclass(frozen=True)
class Span:
    """A shaded stretch of time: ``kind`` is ``"paced"``, ``"gap"`` or ``"baseline"``."""

    start_s: float
    end_s: float
    kind: str


@dataclass(frozen=True)
class Mark:
    """A vertical marker line at ``t_s`` with a short ``label`` (e.g. ``"1"``)."""

    t_s: float
    label: str


_SPAN_STYLE = {
    "paced": ("#56B4E9", 0.16, "pacer on"),
    "baseline": ("#009E73", 0.14, "resting baseline"),
    "gap": ("#555555", 0.22, "no data (strap gap)"),
}


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (1, 2 or 5 times a power of ten) covering ``[lo, hi]``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else []
    raw = (hi - lo) / max(1, n)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1.0, 2.0, 2.5, 5.0, 10.0) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks = []
    v = first
    while v <= hi + 1e-9 * step:
        ticks.append(round(v, 10))
        v += step
    return ticks


def _fmt_clock(t_s: float, long: bool) -> str:
    t = round(t_s)
    if long:
        return f"{t // 3600}:{(t % 3600) // 60:02d}"
    return f"{t // 60}:{t % 60:02d}"


def time_ticks(t0: float, t1: float, n: int = 8) -> tuple[list[float], list[str], str]:
    """Tick times (s), their labels and the unit words for a session-time axis."""
    span = max(t1 - t0, 1.0)
    steps = (10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)
    step = next((s for s in steps if span / s <= n), 14400)
    first = math.ceil(t0 / step) * step
    ticks = [float(v) for v in np.arange(first, t1 + 1e-9, step)]
    long = t1 >= 3600
    return ticks, [_fmt_clock(v, long) for v in ticks], "h:mm" if long else "min:s"


def decimate(
    t: FloatArray, y: FloatArray, t0: float, t1: float, columns: int
) -> tuple[FloatArray, ...]:
    """Min/max per pixel column when there are more points than ``2 * columns``.

    Keeps each column's smallest and largest value in time order, so spikes stay visible; a
    column holding a ``nan`` keeps one ``nan`` so the line still breaks there.
    """
    if t.size <= 2 * columns:
        return t, y
    col = np.clip(((t - t0) / max(t1 - t0, 1e-9) * columns).astype(np.intp), 0, columns - 1)
    out_t: list[float] = []
    out_y: list[float] = []
    bounds = np.flatnonzero(np.diff(col)) + 1
    for seg_t, seg_y in zip(np.split(t, bounds), np.split(y, bounds), strict=True):
        finite = np.isfinite(seg_y)
        keep: set[int] = set()
        if not finite.all():
            keep.add(int(np.flatnonzero(~finite)[0]))
        if finite.any():
            idx = np.flatnonzero(finite)
            keep.add(int(idx[np.argmin(seg_y[idx])]))
            keep.add(int(idx[np.argmax(seg_y[idx])]))
        for k in sorted(keep):  # time order, so a nan breaks the line where it is
            out_t.append(float(seg_t[k]))
            out_y.append(float(seg_y[k]))
    return np.array(out_t), np.array(out_y)


class _Axes:
    def __init__(self, t0: float, t1: float, y0: float, y1: float, height: int, top: int) -> None:
        self.t0, self.t1, self.y0, self.y1 = t0, t1, y0, y1
        self.x_lo, self.x_hi = _LEFT, WIDTH - _RIGHT
        self.y_top, self.y_bot = top, height - _BOTTOM

    def x(self, t: ArrayLike) -> FloatArray:
        return self.x_lo + (np.asarray(t, dtype=np.float64) - self.t0) / (self.t1 - self.t0) * (
            self.x_hi - self.x_lo
        )

    def y(self, v: ArrayLike) -> FloatArray:
        frac = (np.asarray(v, dtype=np.float64) - self.y0) / (self.y1 - self.y0)
        return np.asarray(self.y_bot - frac * (self.y_bot - self.y_top))


def _path(xs: FloatArray, ys: FloatArray) -> str:
    """SVG path data; a non-finite value starts a new sub-path."""
    parts: list[str] = []
    pen_down = False
    for x, y in zip(xs.tolist(), ys.tolist(), strict=True):
        if not (math.isfinite(x) and math.isfinite(y)):
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{x:.1f},{y:.1f}")
        pen_down = True
    return "".join(parts)


def _band_paths(ax: _Axes, t: FloatArray, lo: FloatArray, hi: FloatArray) -> list[str]:
    ok = np.isfinite(t) & np.isfinite(lo) & np.isfinite(hi)
    out: list[str] = []
    runs = np.split(np.arange(t.size), np.flatnonzero(np.diff(ok.astype(np.int8))) + 1)
    for run in runs:
        if run.size < 2 or not ok[run[0]]:
            continue
        xs = ax.x(t[run])
        top = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ax.y(hi[run]), strict=True))
        bot = " ".join(
            f"{x:.1f},{y:.1f}" for x, y in zip(xs[::-1], ax.y(lo[run])[::-1], strict=True)
        )
        out.append(f"M{top} L{bot} Z")
    return out


def _y_range(
    series: Sequence[Series], bands: Sequence[Band], hlines: Sequence[float]
) -> tuple[float, float]:
    vals = [np.asarray(s.y, dtype=np.float64) for s in series]
    vals += [np.asarray(b.lo, dtype=np.float64) for b in bands]
    vals += [np.asarray(b.hi, dtype=np.float64) for b in bands]
    vals.append(np.asarray(hlines, dtype=np.float64))
    allv = np.concatenate([v.ravel() for v in vals]) if vals else np.empty(0)
    allv = allv[np.isfinite(allv)]
    if allv.size == 0:
        return 0.0, 1.0
    lo, hi = float(np.min(allv)), float(np.max(allv))
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
    return lo - pad, hi + pad


def time_chart(
    series: Sequence[Series],
    *,
    t_range: tuple[float, float],
    y_label: str,
    title: str,
    bands: Sequence[Band] = (),
    spans: Sequence[Span] = (),
    marks: Sequence[Mark] = (),
    hlines: Sequence[float] = (),
    y_range: tuple[float, float] | None = None,
    height: int = 190,
) -> str:
    """One chart against session time as an inline ``<svg>`` element.

    Parameters
    ----------
    series : sequence of Series
        Lines; ``nan`` values break them (gaps are never bridged).
    t_range : (float, float)
        Session-time span of the x axis, seconds.
    y_label, title : str
        Axis words (with unit) and the accessible title (``<title>``, ``aria-label``).
    bands, spans, marks, hlines :
        Shaded bands, shaded stretches (pacer, baseline, gap), marker lines, horizontal
        reference lines (drawn dotted, e.g. 0).
    y_range : (float, float), optional
        Fixed y limits; default: the data's range plus a margin.
    height : int
        Height in SVG units (width is :data:`WIDTH`).

    Returns
    -------
    str
        The ``<svg>`` markup, with a legend for the lines, bands and the kinds of stretches shown.
        With no finite data at all the chart still draws its axes.
    """
    t0, t1 = float(t_range[0]), float(t_range[1])
    if not t1 > t0:
        t1 = t0 + 1.0
    y0, y1 = y_range if y_range is not None else _y_range(series, bands, hlines)
    kinds_shown: list[str] = []
    for sp in spans:
        if (
            sp.kind in _SPAN_STYLE
            and sp.kind not in kinds_shown
            and sp.end_s > t0
            and sp.start_s < t1
        ):
            kinds_shown.append(sp.kind)
    legend, rows = _legend(series, bands, kinds_shown, bool(marks), 16 + 6.2 * len(y_label))
    height += 14 * (rows - 1)
    ax = _Axes(t0, t1, y0, y1, height, _TOP + 14 * (rows - 1))
    cols = int(ax.x_hi - ax.x_lo)
    out: list[str] = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}" '
        f'font-family="sans-serif" font-size="{_FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{ax.x_lo}" y="{ax.y_top}" width="{ax.x_hi - ax.x_lo}" '
        f'height="{ax.y_bot - ax.y_top}" fill="#ffffff" stroke="#999999" stroke-width="0.6"/>',
    ]
    # Shaded stretches first, so lines draw over them.
    for sp in spans:
        a, b = max(sp.start_s, t0), min(sp.end_s, t1)
        if b <= a or sp.kind not in _SPAN_STYLE:
            continue
        color, alpha, _ = _SPAN_STYLE[sp.kind]
        xa, xb = float(ax.x(a)), float(ax.x(b))
        out.append(
            f'<rect x="{xa:.1f}" y="{ax.y_top}" width="{max(xb - xa, 0.8):.1f}" '
            f'height="{ax.y_bot - ax.y_top}" fill="{color}" fill-opacity="{alpha}"/>'
        )
    # Grid and y ticks.
    for v in nice_ticks(y0, y1, 4):
        yy = float(ax.y(v))
        if not ax.y_top - 0.5 <= yy <= ax.y_bot + 0.5:
            continue
        out.append(
            f'<line x1="{ax.x_lo}" x2="{ax.x_hi}" y1="{yy:.1f}" y2="{yy:.1f}" '
            'stroke="#e3e3e3" stroke-width="0.6"/>'
        )
        out.append(
            f'<text x="{ax.x_lo - 4}" y="{yy + 3.5:.1f}" text-anchor="end" fill="#333">{v:g}</text>'
        )
    ticks, labels, unit = time_ticks(t0, t1)
    for v, lab in zip(ticks, labels, strict=True):
        xx = float(ax.x(v))
        out.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{ax.y_bot}" y2="{ax.y_bot + 3}" stroke="#666"/>'
        )
        out.append(
            f'<text x="{xx:.1f}" y="{ax.y_bot + 14}" text-anchor="middle" fill="#333">{lab}</text>'
        )
    out.append(
        f'<text x="{ax.x_hi}" y="{height - 2}" text-anchor="end" fill="#555">'
        f"session time ({unit})</text>"
    )
    out.append(f'<text x="4" y="14" fill="#333">{escape(y_label)}</text>')
    for v in hlines:
        if y0 <= v <= y1:
            yy = float(ax.y(v))
            out.append(
                f'<line x1="{ax.x_lo}" x2="{ax.x_hi}" y1="{yy:.1f}" y2="{yy:.1f}" '
                'stroke="#777" stroke-dasharray="2,3" stroke-width="0.8"/>'
            )
    clip = f"clip{next(_CLIP_IDS)}"
    out.append(
        f'<clipPath id="{clip}"><rect x="{ax.x_lo}" y="{ax.y_top}" '
        f'width="{ax.x_hi - ax.x_lo}" height="{ax.y_bot - ax.y_top}"/></clipPath>'
    )
    out.append(f'<g clip-path="url(#{clip})">')
    for band in bands:
        bt = np.asarray(band.t_s, dtype=np.float64)
        lo = np.asarray(band.lo, dtype=np.float64)
        hi = np.asarray(band.hi, dtype=np.float64)
        for d in _band_paths(ax, bt, lo, hi):
            out.append(f'<path d="{d}" fill="{band.color}" fill-opacity="0.35" stroke="none"/>')
    for s in series:
        t = np.asarray(s.t_s, dtype=np.float64)
        y = np.asarray(s.y, dtype=np.float64)
        t, y = decimate(t, y, t0, t1, cols)
        d = _path(np.asarray(ax.x(t)), np.asarray(ax.y(y)))
        if not d:
            continue
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        out.append(
            f'<path d="{d}" fill="none" stroke="{s.color}" stroke-width="{s.width}"'
            f' stroke-linejoin="round"{dash}/>'
        )
    out.append("</g>")
    for m in marks:
        if not t0 <= m.t_s <= t1:
            continue
        xx = float(ax.x(m.t_s))
        out.append(
            f'<line x1="{xx:.1f}" x2="{xx:.1f}" y1="{ax.y_top}" y2="{ax.y_bot}" '
            'stroke="#222" stroke-width="0.8" stroke-dasharray="4,2"/>'
        )
        out.append(
            f'<text x="{xx + 2:.1f}" y="{ax.y_top + 10}" fill="#222" font-size="9">'
            f"{escape(m.label)}</text>"
        )
    out.append(legend)
    out.append("</svg>")
    return "".join(out)


def _legend(
    series: Sequence[Series], bands: Sequence[Band], kinds: list[str], marks: bool, x0: float
) -> tuple[str, int]:
    """The legend markup, laid out in as many rows as it needs, and the number of rows."""
    items: list[tuple[float, str]] = []  # (width, markup at x = 0, baseline y = 0)
    for s in series:
        dash = f' stroke-dasharray="{s.dash}"' if s.dash else ""
        items.append(
            (
                30 + 6.2 * len(s.label),
                f'<line x1="0" x2="18" y1="-4" y2="-4" stroke="{s.color}" stroke-width="2"{dash}/>'
                f'<text x="22" y="0">{escape(s.label)}</text>',
            )
        )
    for b in bands:
        items.append(
            (
                28 + 6.2 * len(b.label),
                f'<rect x="0" y="-9" width="16" height="10" fill="{b.color}" fill-opacity="0.35"/>'
                f'<text x="20" y="0">{escape(b.label)}</text>',
            )
        )
    for k in kinds:
        color, alpha, words = _SPAN_STYLE[k]
        items.append(
            (
                28 + 6.2 * len(words),
                f'<rect x="0" y="-9" width="16" height="10" fill="{color}" '
                f'fill-opacity="{min(1.0, alpha * 2.5):.2f}"/><text x="20" y="0">{words}</text>',
            )
        )
    if marks:
        items.append(
            (
                140,
                '<line x1="0" x2="0" y1="-10" y2="2" stroke="#222" stroke-dasharray="4,2"/>'
                '<text x="4" y="0">marker (M) or rise (E)</text>',
            )
        )
    out, x, row = [], x0, 0
    for width, markup in items:
        if x + width > WIDTH - _RIGHT and x > x0:
            x, row = x0, row + 1
        out.append(f'<g transform="translate({x:.0f},{14 + 14 * row})">{markup}</g>')
        x += width
    return "<g>" + "".join(out) + "</g>", row + 1
