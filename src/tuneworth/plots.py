"""The report's plots, drawn with matplotlib's non-interactive backend and returned as PNG.

Each function takes the verdict (and the fold or trial tables) and returns a figure; nothing
here writes files. ``draw_all`` renders the ones that apply to an experiment.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tuneworth.design import BASELINE
from tuneworth.formatting import signed
from tuneworth.marginal import MORE_DATA, TUNING_BUDGET, Marginal
from tuneworth.stats import Outcome
from tuneworth.verdict import Verdict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_COLOURS: dict[str, str] = {
    Outcome.BETTER: "#1a7f37",
    Outcome.WORSE: "#c62828",
    Outcome.NOISE: "#8c96a3",
    Outcome.NOISE_AFTER_HOLM: "#8c96a3",
    Outcome.NOT_COMPARED: "#4a6fa5",
}
_ACCENT = "#4a6fa5"


def _figure(height: float = 4.0, width: float = 9.0) -> tuple[Figure, Any]:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    # Its own canvas from the start: one renderer measures the labels placed, lays the
    # figure out and draws it, and the text it has measured once is not measured again.
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="both", color="#e6e9ee", linewidth=0.8)
    axes.set_axisbelow(True)
    return figure, axes


def _gain_label(verdict: Verdict) -> str:
    return f"gain in {verdict.metric.label} over the baseline (positive is better)"


def gains(verdict: Verdict) -> Figure:
    """One-at-a-time: each lever's gain with its interval. Ladder / factorial: a waterfall
    of gains from the baseline (0) to the top arm, positive (right) is better."""
    if verdict.design == "one_at_a_time" or not verdict.effects:
        return _gain_bars(verdict)
    summary = verdict.summary.set_index("arm")
    effects = verdict.effects
    figure, axes = _figure(height=1.2 + 0.55 * (len(effects) + 2))
    start = float(summary["score_mean"][BASELINE])
    labels = [f"{BASELINE} ({start:.3f} {verdict.metric.label})", *(e.name for e in effects)]
    level = 0.0
    axes.plot(0, 0, "o", color="#9aa6b5")
    for i, effect in enumerate(effects, start=1):
        colour = _COLOURS.get(effect.outcome, _ACCENT)
        axes.barh(i, effect.gain, left=level, color=colour, height=0.6)
        if not math.isnan(effect.ci_low):
            centre = level + effect.gain
            axes.errorbar(
                centre,
                i,
                xerr=[[effect.gain - effect.ci_low], [effect.ci_high - effect.gain]],
                fmt="none",
                ecolor="#333",
                capsize=3,
                linewidth=1,
            )
        axes.annotate(
            signed(effect.gain),
            (level + max(effect.gain, 0), i),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
        level += effect.gain
    shares = verdict.design == "factorial"
    final = verdict.best if shares else str(verdict.summary["arm"].iloc[-1])
    labels.append(f"= {final}")
    axes.barh(len(effects) + 1, level, color=_ACCENT, height=0.6)
    axes.axvline(0, color="#333", linewidth=0.8)
    edges = [0.0, level]
    running = 0.0
    for e in effects:
        if not math.isnan(e.ci_low):
            edges += [running + e.ci_low, running + e.ci_high]
        running += e.gain
    low, high = min(edges), max(edges)
    pad = max((high - low) * 0.15, 1e-3)
    axes.set_xlim(low - pad, high + pad)
    axes.set_yticks(range(len(labels)), labels=[_short(t, 48) for t in labels])
    axes.invert_yaxis()
    axes.set_xlabel(f"cumulative {_gain_label(verdict)}")
    kind = "Shapley shares by family" if shares else "ladder steps"
    axes.set_title(f"From the baseline to {_short(final, 40)}: {kind}", loc="left")
    return _laid_out(figure)


def _compared(verdict: Verdict) -> pd.DataFrame:
    """The arms that have a gain to plot: not the baseline, not an arm that failed."""
    summary = verdict.summary
    return summary[(summary["arm"] != BASELINE) & summary["gain"].notna()]


def _gain_bars(verdict: Verdict) -> Figure:
    rows = _compared(verdict)
    figure, axes = _figure(height=1.2 + 0.45 * max(len(rows), 1))
    y = np.arange(len(rows))
    colours = [_COLOURS.get(o, _ACCENT) for o in rows["outcome"]]
    axes.barh(y, rows["gain"], color=colours, height=0.6)
    has_ci = rows["ci_low"].notna().to_numpy()
    axes.errorbar(
        rows["gain"][has_ci],
        y[has_ci],
        xerr=[(rows["gain"] - rows["ci_low"])[has_ci], (rows["ci_high"] - rows["gain"])[has_ci]],
        fmt="none",
        ecolor="#333",
        capsize=3,
        linewidth=1,
    )
    # What the folds could detect, either side of zero: a bar inside the band is too small
    # for the design to tell from noise, not shown to be zero. An arm that gained the same
    # on every fold has a detectable effect of exactly zero, which says nothing of the
    # design: counted, ties with a saturated baseline would shrink the band to nothing.
    reach = rows["detectable"][rows["detectable"] > 0]
    if len(reach):
        width = float(reach.median())
        axes.axvspan(-width, width, color="#eef1f5", zorder=0, label="detectable (median)")
        # On a white ground: over the band, the band's own swatch would not show.
        axes.legend(fontsize=8, loc="best", facecolor="white", edgecolor="#d0d5dd", framealpha=1)
    axes.axvline(0, color="#333", linewidth=0.8)
    axes.set_yticks(y, labels=[_short(a, 40) for a in rows["arm"]])
    axes.invert_yaxis()
    axes.set_xlabel(_gain_label(verdict))
    axes.set_title("Gain of each lever over the baseline, with 95% corrected intervals", loc="left")
    return _laid_out(figure)


def tuning_curves(verdict: Verdict, trials: pd.DataFrame) -> Figure:
    """Best inner score so far against configurations evaluated, per search, mean over folds.

    Only scores on the full inner folds count (:func:`tuneworth.trials.best_so_far`), so
    every strategy is drawn on the same axis, up to its budget. Successive halving scores
    on the full folds only in its last rung, after evaluating all its candidates on
    subsamples: it is one point, at its whole budget.
    """
    from matplotlib.ticker import MaxNLocator

    from tuneworth.trials import best_so_far

    figure, axes = _figure()
    greater = verdict.metric.greater_is_better
    tuning = verdict.tuning
    strategy = dict(zip(tuning["arm"], tuning["strategy"], strict=True)) if len(tuning) else {}
    # A bare table (arm, fold, trial, score) reads as one full-fold evaluation per row.
    bare: dict[str, Any] = {
        "candidate": trials["trial"],
        "comparable": True,
        "state": np.where(trials["score"].isna(), "fail", "complete"),
    }
    trials = trials.assign(**{name: value for name, value in bare.items() if name not in trials})
    grid_best = None
    for arm, table in trials.groupby("arm", sort=False):
        curve = best_so_far(table, greater)
        if curve.empty:  # every configuration failed on every fold
            continue
        if strategy.get(str(arm)) == "halving":
            axes.plot(
                curve.index,
                curve.to_numpy(),
                marker="D",
                linestyle="none",
                label=f"{arm} (last rung, after all {curve.index[-1]} candidates)",
            )
            continue
        axes.plot(curve.index, curve.to_numpy(), marker=".", linewidth=1.6, label=str(arm))
        if strategy.get(str(arm)) == "grid_search" and grid_best is None:
            grid_best = float(curve.iloc[-1])
    if grid_best is not None:
        axes.axhline(
            grid_best, color="#333", linestyle="--", linewidth=1, label="grid search's best"
        )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("configurations evaluated")
    axes.set_ylabel(f"best inner-CV {verdict.metric.label} so far")
    axes.set_title(
        "Tuning curves: best configuration found so far, mean over outer folds", loc="left"
    )
    axes.legend(frameon=False, fontsize=8)
    return _laid_out(figure)


def cost_gain(verdict: Verdict) -> Figure:
    """Gain against fit cost (log scale): what each lever bought for its compute.

    Each arm's name stands beside its point where there is room, or in the nearest free row
    above or below it (:data:`_ROWS`), joined to it by a slanted line: never across the zero
    line, where a point of zero gain sits, nor along it or along an interval, which would
    hide the line. Searches of nearly equal cost and gain sit on top of one another; their
    names stack in rows beside them and none prints over another.
    """
    rows = _compared(verdict).sort_values("cost_ratio")
    figure, axes = _figure(height=max(4.5, 0.3 * len(rows)))
    colours = [_COLOURS.get(str(o), _ACCENT) for o in rows["outcome"]]
    for row, colour in zip(rows.to_dict("records"), colours, strict=True):
        x, y = row["cost_ratio"], row["gain"]
        if not math.isnan(row["ci_low"]):
            axes.errorbar(
                x,
                y,
                yerr=[[y - row["ci_low"]], [row["ci_high"] - y]],
                fmt="o",
                color=colour,
                ecolor=colour,
                capsize=3,
            )
        else:
            axes.plot(x, y, "o", color=colour)
    axes.axhline(0, color="#333", linewidth=0.8)
    costs = rows["cost_ratio"].to_numpy(float)
    logscale = bool(len(rows)) and bool((costs > 0).all())
    if logscale:
        axes.set_xscale("log")
        _plain_log_ticks(axes.xaxis, "x")
        # Room either side for a name beside the cheapest and the dearest point.
        axes.set_xlim(costs.min() / 1.6, costs.max() * 1.6)
    else:
        axes.margins(x=0.12)
    axes.margins(y=0.08)
    axes.set_xlabel("fit cost relative to the baseline (CPU seconds, log scale)")
    axes.set_ylabel(_gain_label(verdict))
    axes.set_title("Gain against cost", loc="left")
    labels = [
        (x, y, _short(str(name), 28), "#222")
        for name, x, y in zip(rows["arm"], costs, rows["gain"].to_numpy(float), strict=True)
    ]
    intervals = rows[["cost_ratio", "ci_low", "ci_high"]].dropna().to_numpy(float)
    _place_labels(axes, labels, _ROWS, 8.0, intervals=intervals, halo=False)
    return figure


def _plain_log_ticks(axis: Any, unit: str) -> None:
    """Label a log axis's ticks as plain numbers with ``unit`` (``20x``, ``0.1 s``), its minor
    ticks as its major ones: where matplotlib's log formatter would label a tick, and only
    there, so that the axis reads in one format."""
    from matplotlib.ticker import LogFormatter

    class Plain(LogFormatter):
        def __call__(self, x: float, pos: int | None = None) -> str:
            return f"{x:g}{unit}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(Plain(labelOnlyBase=True))
    axis.set_minor_formatter(Plain(labelOnlyBase=False))


# Okabe and Ito's palette, which reads the same to the colour-blind: the search curves take
# the blues, green and purple, the data-size curves black and vermilion.
_BUDGET_COLOURS = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#F0E442")
_DATA_COLOURS = {BASELINE: "#000000"}
_DATA_COLOUR = "#D55E00"
_POINT_COLOUR = "#4d4d4d"
# One marker per lever family of the arms drawn as points; the legend names the family.
_FAMILY_MARKERS = {"data": "^", "preprocess": "v", "model": "P", "tuning": "D"}
_LABEL_POINTS = 7.0  # the font size of the labels on the points


def marginal_gains(marginal: Marginal, verdict: Verdict) -> Figure:
    """Every lever family on one axis: gain over the baseline against CPU seconds per fold.

    One curve per search arm for its tuning budget (points labelled by trials), the
    data-size curves of the baseline and the best arm (points labelled by training rows;
    gains over the baseline on all rows, so the baseline's ends at 0), each with its 95%
    corrected band, and the other arms as points with their intervals. Cost is on a log
    scale, as a doubling of trials or of rows is a step of the same width. Labels are
    placed where they overlap neither each other nor a point (:func:`_place_labels`).
    """
    from matplotlib.lines import Line2D

    figure, axes = _figure(height=5.6)
    curves = marginal.curves
    if curves.empty:  # no curve measured: the levers as points, still on one axis
        curves = pd.DataFrame(columns=["family", "arm", "step", "cpu_seconds", "gain"])
    curves = curves[curves["cpu_seconds"].notna() & curves["gain"].notna()]
    points = _lone_arms(verdict, curves)
    costs = pd.concat([curves["cpu_seconds"], points["cost"]])
    logscale = bool(len(costs)) and bool((costs > 0).all())
    handles: list[Any] = []
    labels: list[tuple[float, float, str, str]] = []  # x, y, text, colour
    budget = curves[curves["family"] == TUNING_BUDGET]
    for n, (arm, curve) in enumerate(budget.groupby("arm", sort=False)):
        colour = _BUDGET_COLOURS[n % len(_BUDGET_COLOURS)]
        _curve(axes, curve, colour, "-", "o")
        handles.append(_handle(Line2D, colour, "-", "o", f"tuning budget: {_short(str(arm), 36)}"))
        labels += _step_labels(curve, colour, "trials")
    sized = curves[curves["family"] == MORE_DATA]
    for arm, curve in sized.groupby("arm", sort=False):
        colour = _DATA_COLOURS.get(str(arm), _DATA_COLOUR)
        _curve(axes, curve, colour, "--", "s")
        handles.append(_handle(Line2D, colour, "--", "s", f"more data: {_short(str(arm), 36)}"))
        labels += _step_labels(curve, colour, "rows")
    for family, group in points.groupby("family", sort=False):
        marker = _FAMILY_MARKERS.get(str(family), "o")
        for row in group.to_dict("records"):
            if not math.isnan(row["ci_low"]):
                _bars(axes, row["cost"], row["gain"], row["ci_low"], row["ci_high"], _POINT_COLOUR)
            axes.plot(row["cost"], row["gain"], marker, color=_POINT_COLOUR, markersize=6)
            labels.append((row["cost"], row["gain"], _short(str(row["arm"]), 32), _POINT_COLOUR))
        handles.append(_handle(Line2D, _POINT_COLOUR, "none", marker, f"{family} lever"))
    axes.axhline(0, color="#333", linewidth=0.8, zorder=1)
    if logscale:
        axes.set_xscale("log")
        _plain_log_ticks(axes.xaxis, " s")
    axes.margins(x=0.12, y=0.12)
    axes.set_xlabel("CPU seconds of fitting per outer fold" + (" (log scale)" if logscale else ""))
    axes.set_ylabel(_gain_label(verdict))
    axes.set_title("Marginal gains: what more trials, more rows or another lever buy", loc="left")
    if handles:
        figure.legend(
            handles=handles,
            loc="outside lower center",
            ncols=min(len(handles), 3),
            frameon=False,
            fontsize=8,
        )
    if labels:
        _place_labels(axes, labels)
        return figure
    return _laid_out(figure)


def _lone_arms(verdict: Verdict, curves: pd.DataFrame) -> pd.DataFrame:
    """The compared arms without a curve of their own, as points: gain, interval and CPU
    seconds of fitting per outer fold."""
    rows = _compared(verdict)
    rows = rows[~rows["arm"].isin(set(curves["arm"])) & (rows["family"] != MORE_DATA)]
    base = verdict.summary.set_index("arm")
    folds = int(base["folds_paired"][BASELINE]) + int(base["n_failed_folds"][BASELINE])
    return rows.assign(cost=rows["fit_cpu_seconds"] / max(folds, 1))[
        ["arm", "family", "gain", "ci_low", "ci_high", "cost"]
    ]


def _curve(axes: Any, curve: pd.DataFrame, colour: str, style: str, marker: str) -> None:
    """One curve in the order of its steps, its band where at least two points have one.

    A band needs a cost that grows with the steps; where it does not (fits on a few hundred
    rows cost their fixed overhead, give or take), and on a curve of one point, each point
    with an interval gets its own bar, as the other arms' points have.
    """
    curve = curve.sort_values("step")
    x = curve["cpu_seconds"].to_numpy(float)
    axes.plot(x, curve["gain"], linestyle=style, marker=marker, color=colour, linewidth=1.6, ms=5)
    banded = curve["ci_low"].notna().to_numpy()
    if banded.sum() >= 2 and (np.diff(x[banded]) >= 0).all():
        axes.fill_between(
            x[banded],
            curve["ci_low"][banded],
            curve["ci_high"][banded],
            color=colour,
            alpha=0.13,
            linewidth=0,
        )
    elif banded.any():
        bars = curve[banded]
        _bars(axes, bars["cpu_seconds"], bars["gain"], bars["ci_low"], bars["ci_high"], colour)


def _bars(axes: Any, x: Any, gain: Any, low: Any, high: Any, colour: str) -> None:
    """Intervals ``low``..``high`` about ``gain`` at ``x``, as error bars (no markers)."""
    gain, low, high = (np.atleast_1d(np.asarray(v, dtype=float)) for v in (gain, low, high))
    axes.errorbar(
        np.atleast_1d(np.asarray(x, dtype=float)),
        gain,
        yerr=[gain - low, high - gain],
        fmt="none",
        ecolor=colour,
        elinewidth=1,
        capsize=2,
        alpha=0.7,
    )


def _handle(line: Any, colour: str, style: str, marker: str, label: str) -> Any:
    return line([], [], color=colour, linestyle=style, marker=marker, ms=5, label=label)


def _step_labels(
    curve: pd.DataFrame, colour: str, unit: str
) -> list[tuple[float, float, str, str]]:
    """Each point's step as its label, the last one with its unit: ``1``, ``2``, ``4 trials``
    (``1 trial`` for a curve of one point)."""
    curve = curve.sort_values("step")
    last = len(curve) - 1
    labels = []
    for i, row in enumerate(curve.to_dict("records")):
        text = f"{row['step']:,.0f}"
        if i == last:
            text += f" {unit.removesuffix('s') if row['step'] == 1 else unit}"
        labels.append((float(row["cpu_seconds"]), float(row["gain"]), text, colour))
    return labels


_Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pixels

# Where a label may go around its point, in points, nearest first: right, left, above,
# below, then the diagonals, then the same a step further out (with a leader line).
_OFFSETS = [
    (dx * reach, dy * reach)
    for reach in (1.0, 2.2, 3.6)
    for dx, dy in ((6, 0), (-6, 0), (0, 7), (0, -7), (6, 7), (-6, 7), (6, -7), (-6, -7))
]
# Where a name may go beside its point on the cost-gain plot, nearest first: right or left,
# centred above or below, then in rows of an 8-point label's height above and below, on
# either side, so that the names of points on top of one another stack without overlapping.
# A name in a row above or below is joined to its point by a slanted line, not a vertical
# one, which would run along the point's interval.
_ROWS = sorted(
    [(6.0, 0.0), (-6.0, 0.0), (0.0, 6.0), (0.0, -6.0)]
    + [(side * 6.0, sign * 11.0 * k) for k in range(1, 9) for sign in (1, -1) for side in (1, -1)],
    key=lambda offset: math.hypot(*offset),
)
_LEADER = 12.0  # points: a label further from its point than this gets a leader line


def _place_labels(
    axes: Any,
    labels: Sequence[tuple[float, float, str, str]],
    offsets: Sequence[tuple[float, float]] = _OFFSETS,
    fontsize: float = _LABEL_POINTS,
    *,
    intervals: np.ndarray | None = None,
    halo: bool = True,
) -> None:
    """Annotate each point beside it, at the first of ``offsets`` (points, nearest first)
    where the label overlaps no label placed before, no point, no interval and not the zero
    line, inside the axes; when no place is free, at the one that overlaps least. A label
    that had to move away from its point is joined to it by a thin line.

    The zero line counts as taken: a label across it is hard to read, and the leader line of
    a label beside a point of zero gain would run along it, hidden. ``intervals`` are rows
    of (x, low, high), vertical intervals drawn on the axes, which count as taken too.

    The layout is settled first (:func:`_settle`), so the places measured are the places
    drawn; labels that all stand inside the axes leave it as it is, and it is not computed
    again to draw.
    """
    from matplotlib import patheffects

    effects = [patheffects.withStroke(linewidth=2.5, foreground="white")] if halo else []
    figure = axes.get_figure()
    engine = _settle(figure)
    dot = 4.0 * figure.dpi / 72  # a marker's half-width, in pixels
    frame = axes.get_window_extent()
    taken: list[_Box] = []
    for x, y in axes.transData.transform([(x, y) for x, y, _, _ in labels]):
        taken.append((x - dot, y - dot, x + dot, y + dot))
    low, high = axes.get_ylim()
    if min(low, high) < 0 < max(low, high):
        zero = axes.transData.transform((1.0, 0.0))[1]
        taken.append((frame.x0, zero - 1.0, frame.x1, zero + 1.0))
    if intervals is not None and len(intervals):
        ends = axes.transData.transform(
            np.concatenate([intervals[:, [0, 1]], intervals[:, [0, 2]]])
        )
        for (x, y0), (_, y1) in zip(ends[: len(intervals)], ends[len(intervals) :], strict=True):
            taken.append((x - 1.0, min(y0, y1), x + 1.0, max(y0, y1)))
    inside = True
    for x, y, text, colour in labels:
        # One label per point, moved from place to place: measuring it where it would stand
        # costs a fraction of making a new one there.
        annotation = axes.annotate(
            text,
            (x, y),
            xytext=offsets[0],
            textcoords="offset points",
            fontsize=fontsize,
            color=colour,
            zorder=4,
            path_effects=effects,
        )
        best: tuple[float, tuple[float, float], _Box, float] | None = None
        for offset in offsets:
            _stand(annotation, offset)
            box = annotation.get_window_extent()
            edges = (box.x0, box.y0, box.x1, box.y1)
            outside = box.width * box.height - _overlap(edges, tuple(frame.extents))
            cost = outside + sum(_overlap(edges, other) for other in taken)
            if best is None or cost < best[0]:
                best = (cost, offset, edges, outside)
            if cost == 0:
                break
        assert best is not None  # offsets is not empty
        _, offset, edges, outside = best
        inside = inside and outside == 0
        _stand(annotation, offset)
        if math.hypot(*offset) > _LEADER:
            axes.annotate(
                "",
                (x, y),
                xytext=offset,
                textcoords="offset points",
                arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.5, "alpha": 0.7},
            )
        taken.append(edges)
    if engine is not None and inside:
        # Nothing the layout measures has changed (it measures what stands out of the axes):
        # drawn, the figure keeps the layout its labels were placed in.
        figure.set_layout_engine("none")


def _settle(figure: Figure) -> Any:
    """Lay ``figure`` out now, with every axis label that is longer than its axis wrapped
    onto as few lines as fit (:func:`_fit_axis_labels`); returns its layout engine.

    A label longer than its axis would stand out of the figure at both ends, cut off.
    """
    engine = figure.get_layout_engine()
    if engine is None:
        return None
    engine.execute(figure)
    _fit_axis_labels(figure)
    return engine


_LABEL_LINES = 3  # an axis label longer than its axis is wrapped to this many lines at most


def _fit_axis_labels(figure: Figure) -> None:
    """Wrap each axis label longer than its axis onto the fewest lines of about equal length
    that fit, up to :data:`_LABEL_LINES` (beyond, the label is cut short to fit), and give
    the axes' room to the lines it gained.

    The label stands outside the axes, beyond its tick labels: wrapped, it takes as much
    more room from the axes as it gained in depth, which is all that laying the figure out
    again would change, at a fraction of the cost.
    """
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    for axes in figure.axes:
        frame = axes.get_window_extent(renderer)
        for label, room, along in (
            (axes.xaxis.label, frame.width, 0),
            (axes.yaxis.label, frame.height, 1),
        ):
            text = label.get_text()
            extent = label.get_window_extent(renderer)
            if not text or extent.size[along] <= room:
                continue
            lines, keep = 2, len(text)
            while True:
                label.set_text(_wrapped(_short(text, keep), lines))
                wrapped = label.get_window_extent(renderer)
                if wrapped.size[along] <= room or keep <= 1:
                    break
                if lines < _LABEL_LINES:
                    lines += 1
                else:  # a label that long is cut, to lines as long as the axis
                    keep = max(1, min(keep - 1, int(keep * room / wrapped.size[along])))
            gained = float(wrapped.size[1 - along] - extent.size[1 - along])
            box = axes.get_position()
            if along:  # the y label, left of the axes
                dx = gained / figure.bbox.width
                axes.set_position((box.x0 + dx, box.y0, box.width - dx, box.height))
            else:  # the x label, below them
                dy = gained / figure.bbox.height
                axes.set_position((box.x0, box.y0 + dy, box.width, box.height - dy))


def _wrapped(text: str, lines: int) -> str:
    """``text`` on at most ``lines`` lines of about equal length, broken between words."""
    width = math.ceil(len(text) / lines)
    while len(wrapped := textwrap.wrap(text, width)) > lines:
        width += 1
    return "\n".join(wrapped)


def _stand(annotation: Any, offset: tuple[float, float]) -> None:
    """Put ``annotation`` at ``offset`` points from its point, aligned on the side it is:
    its near edge towards the point, centred on the axis it is not moved along."""
    dx, dy = offset
    annotation.xyann = offset
    annotation.set_horizontalalignment("left" if dx > 0 else ("right" if dx < 0 else "center"))
    annotation.set_verticalalignment("center" if dy == 0 else ("bottom" if dy > 0 else "top"))


def _overlap(a: _Box, b: _Box) -> float:
    """The area two boxes (x0, y0, x1, y1) share."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    return max(width, 0.0) * max(height, 0.0)


def fold_deltas(verdict: Verdict, results: pd.DataFrame) -> Figure:
    """Every arm's per-fold gain over the baseline: the pairs behind each interval."""
    scores = results.pivot(index="fold", columns="arm", values="score")
    arms = [a for a in verdict.summary["arm"] if a != BASELINE]
    figure, axes = _figure(height=1.2 + 0.45 * max(len(arms), 1))
    rng = np.random.default_rng(0)
    for i, arm in enumerate(arms):
        deltas = verdict.metric.gain(scores[arm], scores[BASELINE]).dropna().to_numpy()
        if not len(deltas):
            continue
        jitter = rng.uniform(-0.15, 0.15, len(deltas))
        axes.plot(deltas, i + jitter, "o", color=_ACCENT, alpha=0.6, markersize=4)
        axes.plot([deltas.mean()] * 2, [i - 0.3, i + 0.3], color="#111", linewidth=2)
    axes.axvline(0, color="#333", linewidth=0.8)
    axes.set_yticks(range(len(arms)), labels=[_short(a, 40) for a in arms])
    axes.invert_yaxis()
    axes.set_xlabel(f"per-fold {_gain_label(verdict)}, same fold")
    axes.set_title("Paired per-fold gains (bar: mean)", loc="left")
    return _laid_out(figure)


def _laid_out(figure: Figure) -> Figure:
    """``figure`` laid out once (:func:`_settle`), the layout kept to draw it."""
    if _settle(figure) is not None:
        figure.set_layout_engine("none")
    return figure


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# zlib's level for the PNGs: 3 encodes the report's plots in three quarters of the time of
# the default 6, for 7% more bytes (1 is no faster, and 10% larger); lossless either way.
_PNG_COMPRESSION = 3


def _png(figure: Figure) -> bytes:
    """The figure drawn once, as PNG, at the layout it was given (:func:`_laid_out`), or
    laid out as it is drawn if it still has a layout engine.

    ``savefig`` would first draw the whole figure without output to lay it out, then draw
    it again; the canvas's own PNG printer draws it once, to the same pixels. The PNG is
    compressed at :data:`_PNG_COMPRESSION`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    canvas.print_png(buffer, pil_kwargs={"compress_level": _PNG_COMPRESSION})
    return buffer.getvalue()


def marginal_png(marginal: Marginal, verdict: Verdict) -> bytes:
    """:func:`marginal_gains` as PNG bytes, for the report."""
    return _png(marginal_gains(marginal, verdict))


def draw_all(
    verdict: Verdict, results: pd.DataFrame, trials: pd.DataFrame | None
) -> dict[str, tuple[str, bytes]]:
    """Every plot that applies, as ``name -> (title, PNG bytes)``."""
    plots = {
        "gains": ("Gains by lever", gains(verdict)),
        "cost_gain": ("Gain against cost", cost_gain(verdict)),
        "fold_deltas": ("Per-fold paired gains", fold_deltas(verdict, results)),
    }
    if trials is not None and not trials.empty:
        plots["tuning_curves"] = ("Tuning curves", tuning_curves(verdict, trials))
    return {name: (title, _png(figure)) for name, (title, figure) in plots.items()}
