"""What people read: the terminal table and verdict, and the report files with plots.

Formatting is pure (strings from a :class:`~tuneworth.verdict.Verdict`); ``write_report`` is
the one function here that touches the file system.
"""

from __future__ import annotations

import base64
import html
import math
import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tuneworth.design import BASELINE
from tuneworth.formatting import (
    detectable_cell,
    interval,
    is_point,
    magnitude,
    no_spread,
    signed,
    signed_small,
)
from tuneworth.stats import Outcome, is_noise
from tuneworth.verdict import Effect, Verdict, describe_outcome, ratio, swept

if TYPE_CHECKING:
    from tuneworth.diagnose import Finding
    from tuneworth.marginal import Marginal

HEADERS = (
    "arm",
    "family",
    "score",
    "gain",
    "95% CI",
    "detectable",
    "p adj",
    "fit cost",
    "gain/CPU-min",
    "fits",
    "verdict",
)
_RIGHT = {2, 3, 5, 6, 7, 8, 9}


@dataclass(frozen=True)
class Context:
    """What the report says about the experiment besides the verdict."""

    spec_name: str
    description: str
    dataset: str
    task: str
    rows: int
    features: int
    folds: int
    repeats: int
    inner_folds: int
    notes: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()  # the table's diagnosis, when it was run
    study_run_id: str = ""
    run_url: str = ""  # the study run in the MLflow UI of a tracking server
    extra: Mapping[str, str] = field(default_factory=dict)
    # How the study was made, for the reader who has to reproduce it.
    started: str = ""  # when the study began, "2026-11-29 22:04 UTC"
    wall_seconds: float = math.nan
    seed: int | None = None
    versions: Mapping[str, str] = field(default_factory=dict)  # package -> version
    commit: str = ""
    spec: str = ""  # the spec as YAML


def _run_html(c: Context) -> str:
    """The study run's ID, a link to it in the MLflow UI when a server shows it."""
    if not c.study_run_id:
        return ""
    run = html.escape(c.study_run_id)
    if c.run_url:
        run = f'<a href="{html.escape(c.run_url)}">{run}</a>'
    return f'<p class="meta">MLflow study run: {run}</p>'


def p_value(value: float) -> str:
    """A p-value as people read it: three decimals, ``<0.001`` below that, "" for none."""
    if math.isnan(value):
        return ""
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def wall_time(seconds: float) -> str:
    """``48 s``, ``12 min 5 s``, ``2 h 3 min``."""
    if math.isnan(seconds):
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60} s"
    return f"{whole // 3600} h {whole % 3600 // 60} min"


def _sentence(parts: Sequence[str]) -> str:
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def provenance(context: Context) -> list[str]:
    """When, how long, with which seed and at which commit: the parts that are known."""
    c = context
    parts = [
        f"run {c.started}" if c.started else "",
        f"wall time {wall_time(c.wall_seconds)}" if wall_time(c.wall_seconds) else "",
        f"seed {c.seed}" if c.seed is not None else "",
        f"commit {c.commit[:12]}" if c.commit else "",
    ]
    return [part for part in parts if part]


def _per_minute(outcome: str, gain: float, extra_cpu_seconds: float) -> str:
    """Gain per extra CPU minute of a better arm; one that costs under a CPU second more
    than the baseline, or less, is just free."""
    if outcome != Outcome.BETTER:
        return ""
    return "free" if extra_cpu_seconds < 1 or math.isnan(gain) else signed(gain)


def table_rows(verdict: Verdict) -> list[tuple[str, ...]]:
    """The summary as display strings, one tuple of cells per arm, in HEADERS order."""
    rows: list[tuple[str, ...]] = []
    base_cost = float(verdict.summary.set_index("arm")["fit_cpu_seconds"][BASELINE])
    for row in verdict.summary.to_dict("records"):
        baseline = row["arm"] == BASELINE
        bounds = interval(row["ci_low"], row["ci_high"])
        partly = row["n_failed_folds"] and row["outcome"] != Outcome.FAILED
        failed = f" ({row['n_failed_folds']} folds failed)" if partly else ""
        per_minute = row["gain_per_cpu_minute"]
        effect = Effect(
            str(row["arm"]),
            str(row["family"]),
            row["gain"],
            row["ci_low"],
            row["ci_high"],
            row["p_holm"],
            row["cost_ratio"],
            str(row["outcome"]),
            row["detectable"],
            int(row["folds_better"]),
            int(row["folds_paired"]),
            int(row["folds_worse"]),
        )
        rows.append(
            (
                str(row["arm"]),
                str(row["family"]),
                "failed"
                if math.isnan(row["score_mean"])
                else f"{row['score_mean']:.3f} ± {row['score_std']:.3f}",
                "" if baseline else signed(row["gain"]),
                bounds,
                "" if baseline else detectable_cell(row["detectable"]),
                p_value(row["p_holm"]),
                ratio(row["cost_ratio"]),
                _per_minute(row["outcome"], per_minute, row["fit_cpu_seconds"] - base_cost),
                str(row["n_fits"]),
                describe_outcome(effect) + failed,
            )
        )
    return rows


ARM_WIDTH = 44
TERMINAL_WIDTH = 100  # the widest the terminal output gets, however wide the terminal
COMPACT_HEADERS = ("arm", "score", "gain ± 95% CI", "detect", "p adj", "cost", "gain/CPU-min")
_COMPACT_RIGHT = {1, 2, 3, 4, 5, 6}
# Columns a narrow terminal drops, first to last: gain/CPU-min (the report keeps it).
_OPTIONAL = (6,)
_LEGEND = (
    "noise: within noise, not significant at 5% after Holm's adjustment across the arms; "
    "detect: the smallest gain these folds detect (80% power); cost: fit CPU time against the "
    "baseline's."
)
# Said only when a detect cell is n/a.
_NO_SPREAD_LEGEND = " detect n/a: the arm gained the same on every fold, no spread to judge by."


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` first), at most :data:`TERMINAL_WIDTH`."""
    import shutil

    return min(shutil.get_terminal_size((TERMINAL_WIDTH, 24)).columns, TERMINAL_WIDTH)


def _gain_interval(gain: float, low: float, high: float) -> str:
    """``+0.177 ± 0.002``: the corrected t interval is symmetric about the gain; an interval
    that is not (another test's) keeps its bounds, and a point (the same gain on every fold)
    is no interval at all. A half-width too small for three decimals keeps two significant
    digits (``± 0.00031``) rather than reading ``± 0.000``."""
    if math.isnan(gain):
        return ""
    if math.isnan(low) or is_point(low, high):
        return signed(gain)
    half = (high - low) / 2
    if abs(gain - (low + half)) > 5e-4:
        return f"{signed(gain)} {interval(low, high)}"
    return f"{signed(gain)} ± {magnitude(half)}"


def short_outcome(row: Mapping[Any, Any]) -> str:
    """The outcome in a few words for the terminal table, its detectable gain in a column
    of its own: ``better``, ``noise``, ``noise after Holm, better on 5/5 folds``, or
    ``no difference`` for an arm that scored as the baseline did on every fold."""
    outcome = str(row["outcome"])
    gain = row["gain"]
    if is_noise(outcome) and no_spread(row["detectable"]) and gain == 0:
        text = "no difference"
    elif is_noise(outcome):
        text = "noise" if outcome == Outcome.NOISE else "noise after Holm"
        folds = int(row["folds_paired"])
        if swept(gain, folds, int(row["folds_better"]), int(row["folds_worse"])):
            text += f", {Outcome.of_gain(gain)} on {folds}/{folds} folds"
    else:
        text = outcome
    failed = row["n_failed_folds"]
    if failed and outcome != Outcome.FAILED:
        text += f", {failed} folds failed"
    return text


def compact_rows(verdict: Verdict) -> list[tuple[str, ...]]:
    """The summary for the terminal, one tuple per arm in COMPACT_HEADERS order, then the
    verdict: the report's table without family, spread and fits."""
    base_cost = float(verdict.summary.set_index("arm")["fit_cpu_seconds"][BASELINE])
    rows: list[tuple[str, ...]] = []
    for row in verdict.summary.to_dict("records"):
        baseline = row["arm"] == BASELINE
        rows.append(
            (
                str(row["arm"]),
                "failed" if math.isnan(row["score_mean"]) else f"{row['score_mean']:.3f}",
                "" if baseline else _gain_interval(row["gain"], row["ci_low"], row["ci_high"]),
                "" if baseline else detectable_cell(row["detectable"]),
                p_value(row["p_holm"]),
                ratio(row["cost_ratio"]),
                _per_minute(
                    row["outcome"], row["gain_per_cpu_minute"], row["fit_cpu_seconds"] - base_cost
                ),
                "" if baseline else short_outcome(row),
            )
        )
    return rows


def format_table(verdict: Verdict, width: int = TERMINAL_WIDTH) -> str:
    """A table of at most ``width`` columns, one row per arm, that reads at a glance, under
    a line that says the metric's direction and what a gain is and over a legend.

    Long arm names (stacked levers) are shortened here only; reports and MLflow keep them.
    A verdict too long for what is left wraps onto lines of its own under its column.
    """
    headers = [*COMPACT_HEADERS, "verdict"]
    headers[1] = verdict.metric.column
    rows = compact_rows(verdict)
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    right = set(_COMPACT_RIGHT)
    verdict_room = min(widths[-1], 26)
    natural = min(widths[0], 20)
    for optional in _OPTIONAL:
        # The arm column gets what the numbers and a verdict of up to 26 characters leave;
        # when that cuts the arm names short, a column the report keeps goes.
        if width - 2 * (len(headers) - 1) - sum(widths[1:-1]) - verdict_room >= natural:
            break
        keep = [i for i in range(len(headers)) if i != optional]
        headers = [headers[i] for i in keep]
        rows = [tuple(r[i] for i in keep) for r in rows]
        widths = [widths[i] for i in keep]
        right = {keep.index(i) for i in right if i in keep}
    gaps = 2 * (len(headers) - 1)
    room = width - gaps - sum(widths[1:-1]) - verdict_room
    widths[0] = min(widths[0], ARM_WIDTH, max(12, room))
    widths[-1] = min(widths[-1], max(12, width - gaps - sum(widths[:-1])))

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    out = [*_wrap(f"{verdict.convention}.", width), line(headers)]
    out.append("  ".join("─" * w for w in widths))
    indent = " " * (sum(widths[:-1]) + gaps)
    for cells in rows:
        arm = cells[0] if len(cells[0]) <= widths[0] else cells[0][: widths[0] - 1] + "…"
        said = textwrap.wrap(cells[-1], widths[-1]) or [""]
        out.append(line((arm, *cells[1:-1], said[0])))
        out += [indent + more for more in said[1:]]
    spreadless = any(
        row["arm"] != BASELINE and no_spread(row["detectable"])
        for row in verdict.summary.to_dict("records")
    )
    out += _wrap(_LEGEND + (_NO_SPREAD_LEGEND if spreadless else ""), width)
    return "\n".join(out)


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
    )


def row_lines(verdict: Verdict, results: pd.DataFrame, max_classes: int | None = None) -> list[str]:
    """What each data arm did to the training rows, then any warnings (see
    :mod:`tuneworth.rows`); empty without data arms."""
    from tuneworth.rows import describe_all, row_changes

    return describe_all(row_changes(results, verdict.summary), max_classes)


def format_row_changes(verdict: Verdict, results: pd.DataFrame, width: int = TERMINAL_WIDTH) -> str:
    """The rows each data lever removed or added, for the terminal, under the table,
    wrapped at ``width`` with a hanging indent."""
    from tuneworth.rows import TERMINAL_CLASSES

    lines = row_lines(verdict, results, TERMINAL_CLASSES)
    if not lines:
        return ""
    said = [line for line in lines if not line.startswith("warning: ")]
    warned = [line for line in lines if line.startswith("warning: ")]
    out = _wrap("training rows changed by the data levers (mean over outer folds):", width)
    out += [wrapped for line in said for wrapped in _wrap(line, width, "  ", "    ")]
    out += [wrapped for line in warned for wrapped in _wrap(line, width, "", "  ")]
    return "\n".join(out)


_ROWS_NOTE = (
    "Shares of each outer training fold's rows that the arm's samplers removed or added, "
    "the mean over the folds and, where they differ, the range; by class, the mean share of "
    "the class's training rows. A warning marks a filter that removed more than {rows} of "
    "the rows or more than {cls} of a class's."
)


def _rows_note() -> str:
    from tuneworth.rows import CLASS_SHARE_LIMIT, ROW_SHARE_LIMIT

    return _ROWS_NOTE.format(rows=f"{ROW_SHARE_LIMIT:.0%}", cls=f"{CLASS_SHARE_LIMIT:.0%}")


def _rows_markdown(lines: Sequence[str]) -> list[str]:
    if not lines:
        return []
    bullets = [
        f"- **Warning:** {line.removeprefix('warning: ')}"
        if line.startswith("warning: ")
        else f"- {line}"
        for line in lines
    ]
    return ["", "## Training rows changed by the data levers", "", *bullets, "", _rows_note()]


def _rows_html(lines: Sequence[str]) -> str:
    if not lines:
        return ""
    esc = html.escape
    items = "".join(
        f"<li><strong>Warning:</strong> {esc(line.removeprefix('warning: '))}</li>"
        if line.startswith("warning: ")
        else f"<li>{esc(line)}</li>"
        for line in lines
    )
    return (
        f"<h2>Training rows changed by the data levers</h2><ul>{items}</ul>"
        f'<p class="meta">{esc(_rows_note())}</p>'
    )


def headline(verdict: Verdict) -> str:
    """The answer in one sentence, from the recommendation and the searches' outcomes.

    ``Use label noise filter: +0.178 log loss gain over the baseline at 7.0x the fit cost;
    no search beats the noise.``
    """
    unit = verdict.metric.label
    table = verdict.summary.set_index("arm")
    r = verdict.recommendation
    if r is None:
        first = "No arm can be recommended: every arm failed on some fold"
    elif r.arm == BASELINE:
        first = "Keep the baseline: no arm beats it beyond the noise"
    else:
        gain, cost = float(table["gain"][r.arm]), float(table["cost_ratio"][r.arm])
        at = f" at {ratio(cost)} the fit cost" if ratio(cost) else ""
        first = f"Use {r.arm}: {signed(gain)} {unit} gain over the baseline{at}"
    searches = [e for e in verdict.effects if "tuning" in e.family.split("+")]
    ran = [e for e in searches if e.outcome != Outcome.FAILED]
    paid = [e for e in ran if e.outcome == Outcome.BETTER]
    if not searches or (r is not None and r.arm in {e.name for e in paid}):
        rest = ""
    elif not ran:
        rest = "; every search failed"
    elif paid:
        top = max(paid, key=lambda e: e.gain)
        rest = f"; tuning also pays ({top.name}: {signed(top.gain)})"
    else:
        rest = "; no search beats the noise"
    if verdict.cut:
        arms = "an arm" if len(verdict.cut) == 1 else f"{len(verdict.cut)} arms"
        rest += f" ({arms} cut by {verdict.cut_by or 'the time budget'})"
    return f"{first}{rest}."


def verdict_markdown(verdict: Verdict) -> str:
    """The verdict as MLflow shows a run's description: the headline, the table, the
    sentences."""
    return "\n".join(
        [
            f"**{headline(verdict)}**",
            "",
            f"{verdict.convention}.",
            "",
            _markdown_table(_headers(verdict), table_rows(verdict), _RIGHT),
            "",
            *(f"- {sentence}" for sentence in verdict.sentences),
        ]
    )


def _headers(verdict: Verdict) -> list[str]:
    return [verdict.metric.label if h == "score" else h for h in HEADERS]


def format_verdict(verdict: Verdict, width: int = TERMINAL_WIDTH) -> str:
    """The verdict sentences as bullets for the terminal, wrapped at ``width`` with a
    hanging indent."""
    return "\n".join(
        "\n".join(_wrap(sentence, width, "• ", "  ")) for sentence in verdict.sentences
    )


EFFECT_HEADERS = ("effect", "family", "gain", "95% CI", "detectable", "p", "cost factor", "verdict")


def effect_rows(verdict: Verdict) -> list[tuple[str, ...]]:
    """Ladder steps or Shapley shares as display strings (empty for one_at_a_time)."""
    if verdict.design == "one_at_a_time":
        return []
    return [
        (
            e.name,
            e.family,
            signed(e.gain),
            interval(e.ci_low, e.ci_high),
            detectable_cell(e.detectable),
            p_value(e.p_value),
            ratio(e.cost_factor),
            describe_outcome(e),
        )
        for e in verdict.effects
    ]


SEARCH_HEADERS = (
    "search",
    "configurations",
    "trials to match grid",
    "folds matching grid",
    "optimism gap",
    "gain vs untuned",
    "cost vs untuned",
)


def search_rows(verdict: Verdict) -> list[tuple[str, ...]]:
    """What each search found, for the report (empty without searches)."""
    rows: list[tuple[str, ...]] = []
    for row in verdict.tuning.to_dict("records"):
        needed = row["trials_to_match_grid"]
        rows.append(
            (
                str(row["arm"]),
                f"{row['configurations']:g}",
                "not reached"
                if needed == math.inf
                else ("" if math.isnan(needed) else f"{needed:g}"),
                str(row["folds_matching_grid"]),
                signed(row["optimism_gap"]),
                signed(row["gain_vs_untuned"]),
                ratio(row["cost_vs_untuned"]),
            )
        )
    return rows


def _markdown_table(
    headers: Sequence[str], rows: list[tuple[str, ...]], right: Collection[int]
) -> str:
    align = ["---:" if i in right else ":---" for i in range(len(headers))]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def _effects_heading(verdict: Verdict) -> str:
    if verdict.design == "ladder":
        return "Ladder steps (each against the step below it)"
    return "Shapley shares of the best arm's gain, by family"


_TABLE_NOTE = (
    "Gain is the mean paired improvement over the baseline on the outer folds, positive when"
    " the arm is better (for a loss or an error, baseline minus arm); the 95% interval and "
    "p-value come from the Nadeau–Bengio corrected resampled t-test, and p-values are Holm-"
    "adjusted across the arms (p adj). Detectable is the smallest true gain these folds "
    "would find significant at 5% with 80% power, from the same corrected variance: a gain "
    "within noise but smaller than that is not shown to be absent, only too small for the "
    "design; n/a when the arm gained the same on every fold, so that the folds have no "
    "spread to measure noise by. Within noise means not significant at 5% after the Holm "
    "adjustment; within noise (Holm) marks an arm whose own interval excludes zero but which"
    " does not stand out once every arm's chance of a lucky draw is counted. Fit cost is CPU"
    " seconds of fitting (every inner search fit included) relative to the baseline; "
    "gain/CPU-min is the gain per extra CPU minute, for significant gains only (free when "
    "the arm costs less than the baseline, or under a CPU second more)."
)


_SEARCH_NOTE = (
    "Trials to match grid: configurations evaluated until the best inner-CV score reached "
    "grid search's best on the same fold (median over folds). Optimism gap: the best "
    "inner-CV score against the outer score of the chosen configuration, as a gain: positive "
    "when inner CV promised better than the outer folds gave (optimistic), negative when it "
    "promised worse. Gain vs untuned: the search's gain over the same pipeline untuned."
)


_SEARCH_RIGHT = frozenset({1, 2, 3, 4, 5, 6})
_EFFECT_RIGHT = frozenset({2, 4, 5, 6})


DIAGNOSIS_HEADERS = ("check", "severity", "lever", "finding")
_DIAGNOSIS_NOTE = (
    "What the table showed before any lever ran; a lever in the plan answers the finding "
    "on its row."
)


def diagnosis_rows(findings: Sequence[Finding]) -> list[tuple[str, ...]]:
    """One row per check of the diagnosis: check, severity, the lever that answers it."""
    return [(f.name, f.severity, f.lever or "-", f.summary) for f in findings]


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|")


def diagnosis_markdown(findings: Sequence[Finding]) -> str:
    """The diagnosis as a markdown section; "" without one."""
    if not findings:
        return ""
    rows = [tuple(_markdown_cell(cell) for cell in row) for row in diagnosis_rows(findings)]
    table = _markdown_table(DIAGNOSIS_HEADERS, rows, ())
    return f"## Diagnosis\n\n{table}\n\n{_DIAGNOSIS_NOTE}"


def _details_markdown(context: Context) -> list[str]:
    """Package versions and the spec, collapsed (GitHub and most viewers fold it)."""
    c = context
    if not (c.versions or c.spec):
        return []
    lines = ["", "<details><summary>Package versions and the spec</summary>", ""]
    lines += [f"- {package} {version}" for package, version in c.versions.items()]
    if c.commit:
        lines += [f"- git commit {c.commit}"]
    if c.spec:
        lines += ["", "```yaml", c.spec.rstrip(), "```"]
    return [*lines, "", "</details>"]


MARGINAL_HEADERS = (
    "curve",
    "last doubling",
    "gain",
    "95% CI",
    "p",
    "verdict",
    "shape",
    "next doubling (extrapolated)",
    "per 1,000 rows",
)
_MARGINAL_RIGHT = frozenset({2, 4, 8})
_MARGINAL_TITLE = "Marginal gains"
_MARGINAL_CAPTION = (
    "Gain over the baseline against CPU seconds of fitting per outer fold: a curve per "
    "search over its trials, the data-size curves over training rows, the other levers as "
    "points; bands and bars are 95% corrected intervals."
)
_MARGINAL_NOTE = (
    "Each curve's gain is over the baseline trained on all its training rows, on the same "
    "outer test folds as every arm. A tuning-budget curve scores the configuration its "
    "search would have chosen after that many trials; a data-size curve trains on that many "
    "of each outer training fold's rows. Last doubling: the paired gain from the curve's "
    "step before last (about half the last) to its last, with its corrected 95% interval. "
    "Next doubling: the gain doubling the rows again would buy, extrapolated only from a "
    "curve that rises and flattens (concave); per 1,000 rows: that gain for each thousand "
    "rows added, flat when the next doubling gains nothing to three decimals."
)


def _count(value: Any) -> str:
    """A step as people count it: ``20``, ``1,250``."""
    number = float(value)
    return "" if math.isnan(number) else f"{number:,.0f}"


def _text(value: Any) -> str:
    """A text cell of a table read back from a file, where an empty cell is NaN."""
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def marginal_rows(marginal: Marginal) -> list[tuple[str, ...]]:
    """One row per curve of ``marginal.steps``, in MARGINAL_HEADERS order: the last
    doubling's gain and verdict and, for a data-size curve, its shape and the next doubling
    extrapolated, or why not."""
    from tuneworth.marginal import MORE_DATA, is_flat

    rows: list[tuple[str, ...]] = []
    for row in marginal.steps.to_dict("records"):
        family, data = str(row["family"]), row["family"] == MORE_DATA
        unit = "rows" if data else "trials"
        effect = Effect(
            str(row["arm"]),
            family,
            float(row["gain"]),
            float(row["ci_low"]),
            float(row["ci_high"]),
            float(row["p_value"]),
            math.nan,
            _text(row["outcome"]),
            float(row["detectable"]),
            0,
            0,
        )
        shape = _text(row.get("shape")) if data else ""
        ahead = float(row.get("next_gain", math.nan)) if data else math.nan
        if not data:
            next_doubling = ""
        elif math.isnan(ahead):
            next_doubling = f"not extrapolated: {shape}" if shape else "not extrapolated"
        else:
            to = float(row["to_step"])
            bounds = interval(float(row["next_low"]), float(row["next_high"]))
            said = f"{_count(to)} → {_count(2 * to)} rows: {signed(ahead)}"
            next_doubling = f"{said} {bounds}" if bounds else said
        per_1000 = float(row.get("per_1000_rows", math.nan)) if data else math.nan
        rows.append(
            (
                f"{family}: {row['arm']}",
                f"{_count(row['from_step'])} → {_count(row['to_step'])} {unit}",
                signed(effect.gain),
                interval(effect.ci_low, effect.ci_high),
                p_value(effect.p_value),
                describe_outcome(effect),
                shape,
                next_doubling,
                "flat" if is_flat(ahead) else signed_small(per_1000),
            )
        )
    return rows


def _marginal_columns(marginal: Marginal) -> tuple[list[str], list[tuple[str, ...]], set[int]]:
    """The table's headers, rows and right-aligned columns: without a data-size curve, the
    columns only a data-size curve fills are left out."""
    from tuneworth.marginal import MORE_DATA

    rows = marginal_rows(marginal)
    data = not marginal.steps.empty and bool((marginal.steps["family"] == MORE_DATA).any())
    keep = len(MARGINAL_HEADERS) if data else 6
    return (
        list(MARGINAL_HEADERS[:keep]),
        [r[:keep] for r in rows],
        {i for i in _MARGINAL_RIGHT if i < keep},
    )


def marginal_markdown(marginal: Marginal, plot: str = "") -> list[str]:
    """The "Marginal gains" section of report.md: the sentence, the plot (the file
    ``plot``), the table of the last doublings and the notes."""
    lines = ["", f"## {_MARGINAL_TITLE}", ""]
    if marginal.sentence:
        lines += [f"**{marginal.sentence}**", ""]
    if plot:
        lines += [f"![{_MARGINAL_TITLE}]({plot})", "", _MARGINAL_CAPTION, ""]
    if not marginal.steps.empty:
        headers, rows, right = _marginal_columns(marginal)
        cells = [tuple(_markdown_cell(c) for c in r) for r in rows]
        lines += [_markdown_table(headers, cells, right), "", _MARGINAL_NOTE, ""]
    lines += [f"- {note}" for note in marginal.notes]
    while lines[-1] == "":
        lines.pop()
    return lines


def marginal_description(marginal: Marginal | None) -> str:
    """The marginal gains as the study run's description in MLflow shows them, below the
    verdict (whose last bullet is their sentence): the notes and where the curves are; ""
    without curves."""
    if marginal is None:
        return ""
    lines = [f"**{_MARGINAL_TITLE}**"]
    lines += [f"- {note}" for note in marginal.notes]
    lines += [
        "",
        "Curves: `data_curve.<arm>.gain` (with `ci_low`, `ci_high`, `cpu_seconds`; step = "
        "training rows) on this run, `budget_curve.*` (step = trials) on each search's run; "
        "`marginal_curves.csv`, `marginal_steps.csv` and `marginal_folds.csv` hold them all.",
    ]
    return "\n".join(lines)


def marginal_html(marginal: Marginal, plot: bytes = b"") -> str:
    """The "Marginal gains" section of report.html, its plot (PNG bytes) embedded."""
    esc = html.escape
    parts = [f"<h2>{_MARGINAL_TITLE}</h2>"]
    if marginal.sentence:
        parts.append(f'<p class="marginal">{esc(marginal.sentence)}</p>')
    if plot:
        parts.append(_figure_html(_MARGINAL_TITLE, plot, _MARGINAL_CAPTION))
    if not marginal.steps.empty:
        headers, rows, right = _marginal_columns(marginal)
        wrap = {0, 5, 7} if len(headers) > 6 else {0, 5}
        parts.append(_html_table(headers, rows, right, wrap=wrap))
        parts.append(f'<p class="meta">{esc(_MARGINAL_NOTE)}</p>')
    if marginal.notes:
        parts.append(
            '<ul class="meta">' + "".join(f"<li>{esc(n)}</li>" for n in marginal.notes) + "</ul>"
        )
    return "".join(parts)


def _figure_html(title: str, png: bytes, caption: str = "") -> str:
    return (
        f'<figure><img alt="{html.escape(title)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode()}">'
        f"<figcaption>{html.escape(caption or title)}</figcaption></figure>"
    )


def render_markdown(
    verdict: Verdict,
    context: Context,
    plots: Mapping[str, str],
    rows: Sequence[str] = (),
    marginal: Marginal | None = None,
    marginal_plot: str = "",
) -> str:
    """report.md: the headline first, then the verdict, the table and the plots (files
    beside it).

    ``rows`` are the lines of :func:`row_lines`; ``marginal`` adds its section after the
    table, with the plot file ``marginal_plot``."""
    c = context
    made = provenance(c)
    lines = [
        f"# tuneworth report: {c.spec_name}",
        "",
        f"**{headline(verdict)}**",
        "",
        *([c.description.strip(), ""] if c.description.strip() else []),
        f"{c.dataset}: {c.rows} rows, {c.features} features, {c.task}; "
        f"{len(verdict.summary)} arms ({verdict.design}) on {c.folds * c.repeats} shared outer "
        f"folds ({c.folds}-fold x {c.repeats}), searches on {c.inner_folds} inner folds.",
        *(["", f"{_sentence(made)}."] if made else []),
        "",
        "## Verdict",
        "",
        *(f"- {s}" for s in verdict.sentences),
        "",
        "## Arms",
        "",
        f"{verdict.convention}.",
        "",
        _markdown_table(_headers(verdict), table_rows(verdict), _RIGHT),
        "",
        _TABLE_NOTE,
    ]
    if marginal is not None:
        lines += marginal_markdown(marginal, marginal_plot)
    lines += _rows_markdown(rows)
    searches = search_rows(verdict)
    if searches:
        lines += ["", "## Searches", ""]
        lines += [_markdown_table(SEARCH_HEADERS, searches, _SEARCH_RIGHT)]
        lines += ["", _SEARCH_NOTE]
    effects = effect_rows(verdict)
    if effects:
        lines += ["", f"## {_effects_heading(verdict)}", ""]
        lines += [_markdown_table(EFFECT_HEADERS, effects, _EFFECT_RIGHT)]
    if c.findings:
        lines += ["", diagnosis_markdown(c.findings)]
    if c.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in c.notes)]
    if plots:
        lines += ["", "## Plots", ""]
        for title, path in plots.items():
            lines += [f"### {title}", "", f"![{title}]({path})", ""]
    if c.study_run_id:
        run = f"[`{c.study_run_id}`]({c.run_url})" if c.run_url else f"`{c.study_run_id}`"
        lines += ["", f"MLflow study run: {run}."]
    lines += _details_markdown(c)
    return "\n".join(lines).rstrip() + "\n"


# The tables scroll sideways in their own box on a narrow window, so the page never does;
# the verdict and arm columns wrap (with a floor), the numbers never do.
_CSS = """
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d2430}
h1{font-size:1.6em;margin-bottom:.2em} h2{margin-top:1.6em;border-bottom:1px solid #dde3ea}
p.headline{font-size:1.25em;font-weight:600;margin:.4em 0 .8em;padding:.5em .8em;
background:#eef4ff;border-left:4px solid #3b6fd8}
.meta{color:#5a6472} ul.verdict li{margin:.35em 0}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums;width:100%}
th,td{padding:4px 8px;border-bottom:1px solid #e8ecf1;vertical-align:top;text-align:left;
white-space:nowrap}
th{background:#f4f6f9} .num{text-align:right}
td.text{white-space:normal;min-width:9em} td.verdict{white-space:normal;min-width:18em}
tr.better td.verdict{color:#137333;font-weight:600}
tr.worse td.verdict{color:#b3261e;font-weight:600}
tr.noise td.verdict{color:#6b7280}
p.marginal{font-weight:600;margin:.6em 0}
figure{margin:1.5em 0} figure img{max-width:100%} figcaption{color:#5a6472;font-size:13px}
details{margin-top:2em} summary{cursor:pointer;color:#5a6472}
pre{background:#f4f6f9;padding:.8em;overflow-x:auto;font-size:13px}
"""


def _html_table(
    headers: Sequence[str],
    rows: Sequence[tuple[str, ...]],
    right: Collection[int],
    row_classes: Sequence[str] = (),
    wrap: Collection[int] = (),
) -> str:
    """A table in its own horizontal scroll box: numbers right-aligned under right-aligned
    headers; the columns in ``wrap`` wrap, the last one as the verdict."""
    esc = html.escape
    last = len(headers) - 1

    def cls(i: int) -> str:
        if i in right:
            return ' class="num"'
        if i in wrap:
            return ' class="verdict"' if i == last else ' class="text"'
        return ""

    numeric = ' class="num"'
    head = "".join(
        f"<th{numeric if i in right else ''}>{esc(h)}</th>" for i, h in enumerate(headers)
    )
    body = []
    for n, cells in enumerate(rows):
        css = f' class="{row_classes[n]}"' if row_classes else ""
        tds = "".join(f"<td{cls(i)}>{esc(v)}</td>" for i, v in enumerate(cells))
        body.append(f"<tr{css}>{tds}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _details_html(context: Context) -> str:
    c = context
    if not (c.versions or c.spec):
        return ""
    esc = html.escape
    items = "".join(f"<li>{esc(k)} {esc(v)}</li>" for k, v in c.versions.items())
    if c.commit:
        items += f"<li>git commit {esc(c.commit)}</li>"
    spec = f"<pre>{esc(c.spec.rstrip())}</pre>" if c.spec else ""
    return (
        f"<details><summary>Package versions and the spec</summary><ul>{items}</ul>{spec}</details>"
    )


def render_html(
    verdict: Verdict,
    context: Context,
    plots: Mapping[str, bytes],
    rows: Sequence[str] = (),
    marginal: Marginal | None = None,
    marginal_plot: bytes = b"",
) -> str:
    """report.html: one self-contained file, the plots embedded as PNG data; ``marginal``
    adds its section after the table, with the plot ``marginal_plot`` (PNG)."""
    c = context
    esc = html.escape
    outcomes = ["noise" if is_noise(outcome) else outcome for outcome in verdict.summary["outcome"]]
    arms = _html_table(_headers(verdict), table_rows(verdict), _RIGHT, outcomes, {0, 10})
    figures = "".join(_figure_html(title, png) for title, png in plots.items())
    notes = "".join(f"<li>{esc(n)}</li>" for n in c.notes)
    searches = ""
    if search_rows(verdict):
        searches = (
            "<h2>Searches</h2>"
            + _html_table(SEARCH_HEADERS, search_rows(verdict), _SEARCH_RIGHT, wrap={0})
            + f'<p class="meta">{esc(_SEARCH_NOTE)}</p>'
        )
    effects = ""
    if effect_rows(verdict):
        effects = f"<h2>{esc(_effects_heading(verdict))}</h2>" + _html_table(
            EFFECT_HEADERS, effect_rows(verdict), _EFFECT_RIGHT, wrap={0, 7}
        )
    diagnosis = ""
    if c.findings:
        diagnosis = (
            "<h2>Diagnosis</h2>"
            + _html_table(DIAGNOSIS_HEADERS, diagnosis_rows(c.findings), (), wrap={3})
            + f'<p class="meta">{esc(_DIAGNOSIS_NOTE)}</p>'
        )
    made = provenance(c)
    made_line = f'<p class="meta">{esc(_sentence(made))}.</p>' if made else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tuneworth report: {esc(c.spec_name)}</title>
<style>{_CSS}</style></head><body>
<h1>tuneworth report: {esc(c.spec_name)}</h1>
<p class="headline">{esc(headline(verdict))}</p>
<p class="meta">{esc(c.description.strip())}</p>
<p class="meta">{esc(c.dataset)}: {c.rows} rows, {c.features} features, {esc(c.task)};
{len(verdict.summary)} arms ({esc(verdict.design)}) on {c.folds * c.repeats} shared outer folds
({c.folds}-fold x {c.repeats}), searches on {c.inner_folds} inner folds.</p>
{made_line}
<h2>Verdict</h2>
<ul class="verdict">{"".join(f"<li>{esc(s)}</li>" for s in verdict.sentences)}</ul>
<h2>Arms</h2>
<p>{esc(verdict.convention)}.</p>
{arms}
<p class="meta">{esc(_TABLE_NOTE)}</p>
{marginal_html(marginal, marginal_plot) if marginal is not None else ""}
{_rows_html(rows)}
{searches}
{effects}
{diagnosis}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>Plots</h2>{figures}
{_run_html(c)}
{_details_html(c)}
</body></html>
"""


# The report's styles for the fragment a notebook shows, scoped so they leave the page alone.
_FRAGMENT_CSS = """
.tuneworth{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1d2430}
.tuneworth p.headline{font-size:1.15em;font-weight:600;margin:.3em 0 .6em;padding:.45em .8em;
background:#eef4ff;border-left:4px solid #3b6fd8}
.tuneworth .meta{color:#5a6472} .tuneworth ul.verdict li{margin:.3em 0}
.tuneworth .scroll{overflow-x:auto;max-width:100%}
.tuneworth table{border-collapse:collapse;font-size:13px;font-variant-numeric:tabular-nums}
.tuneworth th,.tuneworth td{padding:4px 8px;border-bottom:1px solid #e8ecf1;vertical-align:top;
text-align:left;white-space:nowrap}
.tuneworth th{background:#f4f6f9} .tuneworth .num{text-align:right}
.tuneworth td.text{white-space:normal;min-width:9em}
.tuneworth td.verdict{white-space:normal;min-width:16em}
.tuneworth tr.better td.verdict{color:#137333;font-weight:600}
.tuneworth tr.worse td.verdict{color:#b3261e;font-weight:600}
.tuneworth tr.noise td.verdict{color:#6b7280}
"""


def summary_html(verdict: Verdict, context: Context) -> str:
    """The comparison as a notebook shows it: the headline, the data and folds, the verdict
    sentences and the arms table; the report's styles, scoped to this fragment."""
    c = context
    esc = html.escape
    outcomes = ["noise" if is_noise(outcome) else outcome for outcome in verdict.summary["outcome"]]
    arms = _html_table(_headers(verdict), table_rows(verdict), _RIGHT, outcomes, {0, 10})
    folds = f"{c.folds}-fold x {c.repeats}"
    return f"""<div class="tuneworth"><style>{_FRAGMENT_CSS}</style>
<p class="headline">{esc(headline(verdict))}</p>
<p class="meta">{esc(c.dataset)}: {c.rows} rows, {c.features} features, {esc(c.task)};
{len(verdict.summary)} arms ({esc(verdict.design)}) on {c.folds * c.repeats} shared outer folds
({folds}). {esc(verdict.convention)}.</p>
{arms}
<ul class="verdict">{"".join(f"<li>{esc(s)}</li>" for s in verdict.sentences)}</ul>
</div>"""


def write_report(
    verdict: Verdict,
    context: Context,
    results: pd.DataFrame,
    trials: pd.DataFrame | None,
    directory: Path,
    marginal: Marginal | None = None,
) -> list[Path]:
    """Write report.md, report.html and the plot PNGs into ``directory``; return the paths.

    With ``marginal`` (:class:`tuneworth.marginal.Marginal`), the reports gain a "Marginal
    gains" section and its plot, ``marginal_gains.png``."""
    from tuneworth.plots import draw_all, marginal_png

    directory.mkdir(parents=True, exist_ok=True)
    pngs = draw_all(verdict, results, trials)
    paths = []
    for name, (_, png) in pngs.items():
        path = directory / f"{name}.png"
        path.write_bytes(png)
        paths.append(path)
    curve_png, curve_file = b"", ""
    if marginal is not None and not marginal.curves.empty:
        curve_png, curve_file = marginal_png(marginal, verdict), "marginal_gains.png"
        (directory / curve_file).write_bytes(curve_png)
        paths.append(directory / curve_file)
    titles = {title: f"{name}.png" for name, (title, _) in pngs.items()}
    markdown = directory / "report.md"
    rows = row_lines(verdict, results)
    markdown.write_text(
        render_markdown(verdict, context, titles, rows, marginal, curve_file), encoding="utf-8"
    )
    page = directory / "report.html"
    embedded = {title: png for title, png in pngs.values()}
    page.write_text(
        render_html(verdict, context, embedded, rows, marginal, curve_png), encoding="utf-8"
    )
    return [markdown, page, *paths]
