"""The report's layout: the answer first, p-values and numbers as people read them, and
what a reader needs to reproduce the study."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import support
from support import noise

from tuneworth.metrics import METRICS
from tuneworth.report import (
    Context,
    format_table,
    format_verdict,
    headline,
    p_value,
    render_html,
    render_markdown,
    terminal_width,
    verdict_markdown,
    wall_time,
    write_report,
)
from tuneworth.verdict import ArmInfo, Verdict, decide

LOG_LOSS = METRICS["log_loss"]
AUC = METRICS["roc_auc"]
RMSE = METRICS["rmse"]
FOLDS = 10
# The seed of each test's generator (the rng fixture).
pytestmark = pytest.mark.seed(11)


@pytest.fixture
def base(rng: np.random.Generator) -> np.ndarray:
    """The baseline's fold scores: the first draw of the test's own generator."""
    return 0.40 + rng.normal(0, 0.02, FOLDS)


ARMS = [
    ArmInfo("baseline", "baseline", "baseline"),
    ArmInfo("label noise filter", "data", "label noise filter"),
    ArmInfo("grid search", "tuning", "grid search"),
    ArmInfo("random forest", "model", "random forest"),
]
CONTEXT = Context(
    "default",
    "Breast cancer with flipped labels.",
    "sklearn:breast_cancer",
    "binary",
    569,
    30,
    5,
    2,
    3,
    started="2026-11-29 22:04 UTC",
    wall_seconds=725.4,
    seed=0,
    versions={"scikit-learn": "1.9.0", "mlflow": "3.17.2"},
    commit="eaae26d0123456789abcdef0123456789abcdef0",
    spec="name: default\nseed: 0\n",
)


# The breast-cancer folds: 455 training and 114 test rows, 5-fold x 2.
fold_table = partial(support.fold_table, repeats=2, n_train=455, n_test=114)


def label_noise_verdict(rng: np.random.Generator, base: np.ndarray) -> tuple[Verdict, pd.DataFrame]:
    """The filter lowers the log loss by 0.178 on every fold at 7x the cost; the search and
    the forest stay within noise."""
    frame = fold_table(
        {
            "baseline": (base, 1.0),
            "label noise filter": (base - 0.178 + rng.normal(0, 0.002, FOLDS), 7.0),
            "grid search": (base + rng.normal(0, 0.03, FOLDS), 40.0),
            "random forest": (base + rng.normal(0, 0.03, FOLDS), 12.0),
        }
    )
    return decide(frame, ARMS, LOG_LOSS, "one_at_a_time"), frame


def test_the_headline_names_the_action_its_gain_its_cost_and_the_searches(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict, _ = label_noise_verdict(rng, base)
    gain = verdict.summary.set_index("arm")["gain"]["label noise filter"]
    assert headline(verdict) == (
        f"Use label noise filter: {gain:+.3f} log loss gain over the baseline at 7.0x the fit "
        "cost; no search beats the noise."
    )


def test_the_headline_keeps_the_baseline_when_nothing_beats_the_noise(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = fold_table({arm.name: (base + noise(rng, 0.03), 1.0) for arm in ARMS})
    verdict = decide(frame, ARMS, LOG_LOSS, "one_at_a_time")
    assert headline(verdict) == (
        "Keep the baseline: no arm beats it beyond the noise; no search beats the noise."
    )


def test_p_values_below_a_thousandth_are_said_as_such(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    assert p_value(0.0000012) == "<0.001"
    assert p_value(0.001) == "0.001"
    assert p_value(0.04321) == "0.043"
    assert p_value(math.nan) == ""
    verdict, _ = label_noise_verdict(rng, base)
    page = render_html(verdict, CONTEXT, {})
    assert "&lt;0.001" in page and ">0.000<" not in page


def test_the_html_report_leads_with_the_headline_and_right_aligns_numbers(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict, _ = label_noise_verdict(rng, base)
    page = render_html(verdict, CONTEXT, {})
    body = page[page.index("<body>") :]
    first = re.search(r"<p class=\"headline\">(.*?)</p>", body)
    assert first is not None and first.group(1) == headline(verdict)
    assert body.index('class="headline"') < body.index("<h2>Verdict</h2>")
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", body)
    assert head is not None
    cells = re.findall(r"<th( class=\"num\")?>([^<]*)</th>", head.group(1))
    numeric = {name for css, name in cells if css}
    assert numeric == {
        "log loss",
        "gain",
        "detectable",
        "p adj",
        "fit cost",
        "gain/CPU-min",
        "fits",
    }
    # The arms table scrolls in its own box; its verdict cells wrap instead of being cut.
    assert '<div class="scroll"><table>' in body
    assert body.count('<td class="verdict">') == len(verdict.summary)
    assert ".scroll{overflow-x:auto" in page


def test_the_report_says_when_how_long_with_what_and_embeds_the_spec(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict, _ = label_noise_verdict(rng, base)
    expected = "Run 2026-11-29 22:04 UTC; wall time 12 min 5 s; seed 0; commit eaae26d01234."
    page = render_html(verdict, CONTEXT, {})
    assert expected in page
    assert "<details><summary>Package versions and the spec</summary>" in page
    assert "<li>scikit-learn 1.9.0</li>" in page and "<pre>name: default\nseed: 0</pre>" in page
    markdown = render_markdown(verdict, CONTEXT, {})
    lines = markdown.splitlines()
    assert lines[2] == f"**{headline(verdict)}**"
    assert expected in lines
    assert "```yaml" in lines and "- mlflow 3.17.2" in lines


def test_wall_time_reads_in_the_largest_units() -> None:
    assert [wall_time(s) for s in (4.4, 725.4, 7384.0)] == ["4 s", "12 min 5 s", "2 h 3 min"]


def test_the_mlflow_description_is_the_headline_then_the_table(
    tmp_path: Path, rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict, frame = label_noise_verdict(rng, base)
    lines = verdict_markdown(verdict).splitlines()
    assert lines[0] == f"**{headline(verdict)}**"
    assert lines[4].startswith("| arm | family | log loss | gain |")
    assert lines[5].startswith("|:---|:---|---:|---:|")
    written = write_report(verdict, CONTEXT, frame, None, tmp_path)
    assert {p.name for p in written} >= {"report.md", "report.html"}


def many_arms_verdict(rng: np.random.Generator, base: np.ndarray) -> Verdict:
    """Nine arms as in the default spec, one with a stacked-lever name."""
    names = {
        "label noise filter": ("data", -0.178, 7.0),
        "random oversampling": ("data", 0.0, 1.2),
        "quantile scaling": ("preprocess", 0.0, 1.1),
        "random forest": ("model", 0.01, 12.0),
        "grid search": ("tuning", 0.005, 40.0),
        "random search": ("tuning", 0.004, 40.0),
        "optuna TPE + mutual-information top 10 features + calendar dates": ("tuning", 0.0, 45.0),
        "successive halving": ("tuning", 0.002, 20.0),
    }
    arms = [ArmInfo("baseline", "baseline", "baseline")]
    arms += [ArmInfo(name, family, name) for name, (family, _, _) in names.items()]
    scores = {"baseline": (base, 1.0)}
    for name, (_, shift, cost) in names.items():
        scores[name] = (base + shift + rng.normal(0, 0.03, FOLDS), cost)
    return decide(fold_table(scores), arms, LOG_LOSS, "one_at_a_time")


def test_the_terminal_table_fits_100_columns_and_drops_a_column_when_narrower(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict = many_arms_verdict(rng, base)
    wide = format_table(verdict, 100).splitlines()
    assert max(len(line) for line in wide) <= 100
    assert "gain/CPU-min" in wide[1] and "95% CI" in wide[1]
    assert any(line.startswith("optuna TPE + mutual-informat…  ") for line in wide)
    narrow = format_table(verdict, 80).splitlines()
    assert max(len(line) for line in narrow) <= 80
    header = next(line for line in narrow if line.startswith("arm "))
    assert "gain/CPU-min" not in header and "p adj" in header
    assert len([line for line in narrow if line.startswith("successive halving")]) == 1


def test_verdict_bullets_wrap_at_the_width_with_a_hanging_indent(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    verdict = many_arms_verdict(rng, base)
    lines = format_verdict(verdict, 60).splitlines()
    assert max(len(line) for line in lines) <= 60
    assert all(line.startswith(("• ", "  ")) for line in lines)
    assert sum(line.startswith("• ") for line in lines) == len(verdict.sentences)
    joined = " ".join(line[2:] for line in lines)
    assert " ".join(verdict.sentences) == joined


def test_the_terminal_width_is_the_terminal_s_up_to_100(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "72")
    assert terminal_width() == 72
    monkeypatch.setenv("COLUMNS", "240")
    assert terminal_width() == 100


def test_the_report_links_the_study_run_on_a_tracking_server(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    from dataclasses import replace

    verdict, _ = label_noise_verdict(rng, base)
    url = "http://mlflow.lan:5000/#/experiments/3/runs/ab12"
    served = replace(CONTEXT, study_run_id="ab12", run_url=url)
    page = render_html(verdict, served, {})
    assert '<p class="meta">MLflow study run: <a href="' + url + '">ab12</a></p>' in page
    assert f"MLflow study run: [`ab12`]({url})." in render_markdown(verdict, served, {})
    local = replace(CONTEXT, study_run_id="ab12")
    assert "MLflow study run: ab12</p>" in render_html(verdict, local, {})
    assert "MLflow study run: `ab12`." in render_markdown(verdict, local, {})


# --- tables and plots of a verdict ------------------------------------------------------

FILTER_AND_SEARCH = [
    ArmInfo("baseline", "baseline", "baseline"),
    ArmInfo("label-noise filter", "data", "label-noise filter"),
    ArmInfo("optuna TPE", "tuning", "optuna TPE"),
]


@pytest.mark.seed(7)
def test_report_is_self_contained_html_and_markdown_with_plots(
    tmp_path: Path, rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = fold_table(
        {
            "baseline": (base, 1.0),
            "label-noise filter": (base + 0.03, 1.3),
            "optuna TPE": (base + 0.01 + rng.normal(0, 0.01, FOLDS), 38.0),
        }
    )
    trials = pd.DataFrame(
        {
            "arm": "optuna TPE",
            "fold": np.repeat(np.arange(FOLDS), 5),
            "trial": np.tile(np.arange(5), FOLDS),
            "score": rng.uniform(0.7, 0.9, 5 * FOLDS),
        }
    )
    verdict = decide(frame, FILTER_AND_SEARCH, RMSE, "one_at_a_time")
    context = Context("demo", "A demo.", "demo.csv", "regression", 500, 4, 5, 2, 3)
    paths = write_report(verdict, context, frame, trials, tmp_path)
    names = {p.name for p in paths}
    assert {"report.md", "report.html", "gains.png", "tuning_curves.png"} <= names
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4
    assert 'src="http' not in page and "<script" not in page
    markdown = (tmp_path / "report.md").read_text()
    assert "## Verdict" in markdown and "![Tuning curves](tuning_curves.png)" in markdown
    assert (tmp_path / "gains.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.seed(7)
def test_gain_per_cpu_minute_is_free_for_a_better_arm_that_costs_no_more(
    rng: np.random.Generator, base: np.ndarray
) -> None:
    frame = fold_table(
        {
            "baseline": (base, 2.0),
            "cheaper": (base + 0.05 + noise(rng, 0.002), 1.0),
            "dearer": (base + 0.05 + noise(rng, 0.002), 14.0),
            "noise": (base + rng.normal(0, 0.01, FOLDS), 1.0),
        }
    )
    arms = [ArmInfo(name, "data", name) for name in ("cheaper", "dearer", "noise")]
    verdict = decide(
        frame, [ArmInfo("baseline", "baseline", "baseline"), *arms], AUC, "one_at_a_time"
    )
    per_minute = {line.split()[0]: line for line in format_table(verdict).splitlines()}
    assert " free " in per_minute["cheaper"]
    # 10 folds x 12 CPU s more = 2 CPU minutes for +0.05: +0.025 per CPU minute.
    assert "+0.025" in per_minute["dearer"]
    # The noise arm's row ends at its cost column: no gain per CPU minute.
    assert per_minute["noise"].split()[-2:] == ["0.5x", "noise"]


def drawn_cost_gain(arms: dict[str, tuple[np.ndarray, float]], metric: Any = AUC) -> Any:
    """The cost-gain plot of ``arms`` (name -> fold scores, CPU seconds per fold), drawn."""
    import matplotlib

    matplotlib.use("Agg")
    from tuneworth.plots import cost_gain

    infos = [ArmInfo(a, "baseline" if a == "baseline" else "tuning", a) for a in arms]
    figure = cost_gain(decide(fold_table(arms), infos, metric, "one_at_a_time"))
    figure.canvas.draw()
    return figure


def names(figure: Any) -> dict[str, Any]:
    """The arms' names on the plot, by name: their window extents, in pixels."""
    return {t.get_text(): t.get_window_extent() for t in figure.axes[0].texts if t.get_text()}


@pytest.mark.parametrize(
    ("n", "spread"), [(6, 0.001), (14, 0.0)], ids=["6 nearly equal", "14 identical"]
)
def test_cost_gain_labels_never_overlap_even_for_arms_of_equal_cost_and_gain(
    base: np.ndarray, n: int, spread: float
) -> None:
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 0.01, FOLDS)  # the same on every search when spread is 0
    searches = {
        f"search {i}": (base + spread * i + noise + rng.normal(0, spread * 10, FOLDS), 90 + spread)
        for i in range(n)
    }
    figure = drawn_cost_gain({"baseline": (base, 1.0), **searches})
    boxes = names(figure)
    assert sorted(boxes) == sorted(searches)
    for (a, one), (b, other) in itertools.combinations(boxes.items(), 2):
        assert not one.overlaps(other), (a, b)
    frame = figure.axes[0].get_window_extent()
    assert all(
        frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1) for box in boxes.values()
    )


def penguins_like(base: np.ndarray) -> dict[str, tuple[np.ndarray, float]]:
    """Saturated scores: oversampling and three searches tie the baseline on every fold
    (gain exactly 0), the searches at 20-30x its cost; two models lose a little."""
    return {
        "baseline": (base, 1.0),
        "random oversampling": (base, 1.1),
        "grid search": (base, 26.0),
        "random search": (base, 27.0),
        "optuna TPE": (base, 29.0),
        "random forest": (base - 0.0004 + noise(np.random.default_rng(1), 0.0005), 8.6),
        "histogram gradient boosting": (
            base - 0.0006 + noise(np.random.default_rng(2), 0.0008),
            8.0,
        ),
    }


def test_a_name_on_the_zero_line_stands_beside_its_point_off_the_line(base: np.ndarray) -> None:
    figure = drawn_cost_gain(penguins_like(base), METRICS["roc_auc_ovr"])
    axes = figure.axes[0]
    x, zero = axes.transData.transform((1.1, 0.0))
    box = names(figure)["random oversampling"]
    # Near its point (not in a column by the 20x points), and clear of the zero line: a
    # leader line from a point on that line to it cannot run along the line.
    assert max(box.x0 - x, x - box.x1, 0) < 10 and max(box.y0 - zero, zero - box.y1) < 20
    assert box.y0 > zero + 1 or box.y1 < zero - 1
    leaders = [t for t in axes.texts if not t.get_text()]
    # Leader lines from the points on the zero line: their far ends (offsets in points)
    # stand off it.
    assert all(t.xyann[1] != 0 for t in leaders if t.xy[1] == 0)


@pytest.mark.parametrize(
    "metric",
    [
        METRICS["roc_auc_ovr"],
        dataclasses.replace(RMSE, label="negative root mean squared error"),
        dataclasses.replace(RMSE, label="a metric of many words " * 6),
    ],
    ids=["ROC-AUC (one-vs-rest)", "negative RMSE", "six times longer"],
)
def test_the_gain_axis_label_is_wrapped_to_lie_along_its_axis_inside_the_figure(
    base: np.ndarray, metric: Any
) -> None:
    figure = drawn_cost_gain(penguins_like(base), metric)
    axes = figure.axes[0]
    label = axes.yaxis.label.get_window_extent()
    assert metric.label.split()[0] in axes.yaxis.label.get_text()
    assert figure.bbox.x0 <= label.x0 and label.y0 >= 0 and label.y1 <= figure.bbox.y1
    frame = axes.get_window_extent()
    assert frame.y0 <= label.y0 and label.y1 <= frame.y1
    assert axes.yaxis.label.get_text().count("\n") <= 2  # three lines at most: cut beyond


@pytest.mark.parametrize("plot", ["cost_gain", "fold_deltas", "tuning_curves"])
def test_a_wrapped_axis_label_leaves_the_axes_where_a_fresh_layout_puts_them(
    rng: np.random.Generator, base: np.ndarray, plot: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from tuneworth import plots

    verdict, frame = label_noise_verdict(rng, base)
    long = "negative mean absolute percentage error of the predictions"
    verdict = dataclasses.replace(verdict, metric=dataclasses.replace(LOG_LOSS, label=long))
    trials = frame.assign(trial=0)[["arm", "fold", "trial", "score"]]
    figure = {
        "cost_gain": lambda: plots.cost_gain(verdict),
        "fold_deltas": lambda: plots.fold_deltas(verdict, frame),
        "tuning_curves": lambda: plots.tuning_curves(verdict, trials),
    }[plot]()
    figure.canvas.draw()
    axes = figure.axes[0]
    wrapped = axes.xaxis.label if plot == "fold_deltas" else axes.yaxis.label
    assert "\n" in wrapped.get_text()
    placed = axes.get_window_extent().extents
    figure.set_layout_engine("constrained")
    figure.get_layout_engine().execute(figure)
    np.testing.assert_allclose(axes.get_window_extent().extents, placed, atol=0.5)


@pytest.mark.parametrize(
    "costs", [(21.0, 29.7, 38.0), (1.1, 8.0, 29.0), (1.2, 300.0, 2000.0)], ids=str
)
def test_the_cost_axis_reads_in_one_format_minor_ticks_as_major(
    base: np.ndarray, costs: tuple[float, ...]
) -> None:
    arms = {f"arm {i}": (base + 0.01 * i, cost) for i, cost in enumerate(costs)}
    figure = drawn_cost_gain({"baseline": (base, 1.0), **arms})
    ticks = [t.get_text() for t in figure.axes[0].xaxis.get_ticklabels(which="both")]
    shown = [t for t in ticks if t]
    assert len(shown) >= 2 and all(re.fullmatch(r"\d+(\.\d+)?x", t) for t in shown), shown


def test_a_long_metric_label_heads_its_column_short_and_is_said_in_full_above(
    base: np.ndarray,
) -> None:
    frame = fold_table({"baseline": (base, 1.0), "random oversampling": (base + 0.001, 1.4)})
    arms = [
        ArmInfo("baseline", "baseline", "baseline"),
        ArmInfo("random oversampling", "data", "x"),
    ]
    verdict = decide(frame, arms, METRICS["roc_auc_ovr"], "one_at_a_time")
    lines = format_table(verdict, 100).splitlines()
    assert lines[0].startswith("ROC-AUC (one-vs-rest) (higher is better)")
    assert lines[1].split()[:2] == ["arm", "ROC-AUC"]
    assert any(line.startswith("random oversampling ") for line in lines)  # not cut to fit


def test_the_detectable_band_s_legend_stands_on_white_so_its_swatch_shows_over_the_band(
    base: np.ndarray,
) -> None:
    import matplotlib
    from matplotlib.colors import to_rgba

    matplotlib.use("Agg")
    from tuneworth.plots import gains

    arms = {
        "baseline": (base, 1.0),
        "a": (base - 0.001 + noise(np.random.default_rng(1), 0.01), 2.0),
        "b": (base + noise(np.random.default_rng(2), 0.01), 3.0),
    }
    infos = [ArmInfo(a, "baseline" if a == "baseline" else "model", a) for a in arms]
    figure = gains(decide(fold_table(arms), infos, AUC, "one_at_a_time"))
    figure.canvas.draw()
    legend = figure.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["detectable (median)"]
    assert legend.get_frame_on() and legend.get_frame().get_facecolor() == to_rgba("white")
