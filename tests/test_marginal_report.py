"""How the marginal-gain curves are shown: the one plot, the report's section, and MLflow
(series on the runs, tables on the study run, and the section rebuilt from the store)."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
import support

from tuneworth.formatting import signed
from tuneworth.marginal import MORE_DATA, TUNING_BUDGET, Marginal
from tuneworth.metrics import METRICS
from tuneworth.report import Context, render_html, render_markdown, write_report
from tuneworth.verdict import ArmInfo, Verdict, decide

matplotlib.use("Agg")

FOLDS = 10
AUC = METRICS["roc_auc"]
SEARCHES = ("random search, 20 trials", "optuna TPE, 20 trials")
ARMS = [
    ArmInfo("baseline", "baseline", "baseline"),
    ArmInfo("label noise filter", "data", "label noise filter"),
    ArmInfo("standard scaling", "preprocess", "standard scaling"),
    ArmInfo("random forest", "model", "random forest"),
    *(ArmInfo(name, "tuning", name) for name in SEARCHES),
]
# CPU seconds per fold of each arm.
COSTS = {
    "baseline": 0.08,
    "label noise filter": 0.16,
    "standard scaling": 0.085,
    "random forest": 1.0,
    SEARCHES[0]: 3.2,
    SEARCHES[1]: 3.4,
}
TRIALS = [1, 2, 4, 8, 16, 20]
ROWS = [57, 114, 228, 455]
SENTENCE = "The next batch of rows pays most; more trials buy nothing beyond the noise."
NOTE = "grid search has no tuning-budget curve: a grid has no 'after k trials'."
CONTEXT = Context("demo", "A demo.", "demo.csv", "binary", 569, 30, 5, 2, 3)
pytestmark = pytest.mark.seed(5)


def comparison_verdict(rng: np.random.Generator) -> tuple[Verdict, pd.DataFrame]:
    base = 0.95 + rng.normal(0, 0.01, FOLDS)
    gains = dict(zip(COSTS, (0.0, 0.012, 0.004, 0.006, 0.004, 0.006), strict=True))
    frame = support.fold_table(
        {
            arm: (base + gain + (support.noise(rng, 0.004) if gain else 0), COSTS[arm])
            for arm, gain in gains.items()
        },
        repeats=2,
        n_train=455,
        n_test=114,
    )
    return decide(frame, ARMS, AUC, "one_at_a_time"), frame


def budget_curves(trials: list[int] | None = None) -> dict[str, Any]:
    steps = trials or TRIALS
    shape = [-0.01, 0.0, 0.002, 0.004, 0.004, 0.004][: len(steps)]
    return {
        SEARCHES[0]: (steps, shape, COSTS[SEARCHES[0]]),
        SEARCHES[1]: (steps, [g + 0.002 for g in shape], COSTS[SEARCHES[1]]),
    }


def data_curves(rows: list[int] | None = None) -> dict[str, Any]:
    steps = rows or ROWS
    return {
        "baseline": (steps, [-0.04, -0.018, -0.006, 0.0][-len(steps) :], COSTS["baseline"]),
        # Not monotone: the half-size fold beats the whole one.
        "label noise filter": (
            steps,
            [-0.03, -0.01, 0.016, 0.012][-len(steps) :],
            COSTS["label noise filter"],
        ),
    }


def marginal(
    rng: np.random.Generator,
    budget: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Marginal:
    folds, curves, steps = support.marginal_tables(
        rng,
        budget_curves() if budget is None else budget,
        data_curves() if data is None else data,
        base=0.95,
        sd=0.004,
    )
    return Marginal(folds, curves, steps, SENTENCE, (NOTE,))


def drawn(marginal: Marginal, verdict: Verdict) -> Any:
    from tuneworth.plots import marginal_gains

    figure = marginal_gains(marginal, verdict)
    figure.canvas.draw()
    return figure


def legend_names(figure: Any) -> list[str]:
    (legend,) = figure.legends
    return [text.get_text() for text in legend.get_texts()]


def label_texts(figure: Any) -> list[str]:
    return [t.get_text() for t in figure.axes[0].texts if t.get_text()]


def test_the_plot_names_every_family_and_labels_points_by_trials_rows_and_arm(
    rng: np.random.Generator,
) -> None:
    verdict, _ = comparison_verdict(rng)
    figure = drawn(marginal(rng), verdict)
    assert legend_names(figure) == [
        f"tuning budget: {SEARCHES[0]}",
        f"tuning budget: {SEARCHES[1]}",
        "more data: baseline",
        "more data: label noise filter",
        "preprocess lever",
        "model lever",
    ]
    labels = label_texts(figure)
    assert labels.count("20 trials") == 2 and labels.count("16") == 2
    assert labels.count("455 rows") == 2 and "57" in labels
    # The arms with a curve are drawn as the curve; the others as labelled points.
    assert {"standard scaling", "random forest"} <= set(labels)
    assert "label noise filter" not in labels and SEARCHES[0] not in labels
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    # Every tuning and data curve has its band.
    assert len(axes.collections) >= 4


def test_a_curve_whose_cost_does_not_grow_with_its_steps_gets_bars_not_a_band(
    rng: np.random.Generator,
) -> None:
    from matplotlib.collections import PolyCollection

    verdict, _ = comparison_verdict(rng)
    found = marginal(rng, {}, None)  # the data-size curves only: baseline and one arm
    banded = len(
        [c for c in drawn(found, verdict).axes[0].collections if isinstance(c, PolyCollection)]
    )
    # A few hundred rows cost their fixed overhead: the smallest subsample measured dearer.
    curves = found.curves.copy()
    first = curves.index[(curves["arm"] == "baseline")][0]
    curves.loc[first, "cpu_seconds"] = curves["cpu_seconds"].max() * 2
    figure = drawn(dataclasses.replace(found, curves=curves), verdict)
    bands = [c for c in figure.axes[0].collections if isinstance(c, PolyCollection)]
    assert len(bands) == banded - 1  # the baseline's band gave way to a bar per point


def test_the_other_arms_stand_at_their_gain_and_cpu_seconds_per_fold(
    rng: np.random.Generator,
) -> None:
    verdict, _ = comparison_verdict(rng)
    figure = drawn(marginal(rng), verdict)
    summary = verdict.summary.set_index("arm")
    points = sorted(
        (float(line.get_xdata()[0]), float(line.get_ydata()[0]))
        for line in figure.axes[0].lines
        if len(line.get_xdata()) == 1 and line.get_marker() in ("v", "P")
    )
    expected = sorted(
        (COSTS[arm], float(summary.loc[arm, "gain"]))
        for arm in ("standard scaling", "random forest")
    )
    np.testing.assert_allclose(points, expected)


def test_no_two_labels_of_the_plot_overlap(rng: np.random.Generator) -> None:
    verdict, _ = comparison_verdict(rng)
    figure = drawn(marginal(rng), verdict)
    texts = [t for t in figure.axes[0].texts if t.get_text()]
    boxes = [t.get_window_extent() for t in texts]
    assert len(boxes) == 2 * len(TRIALS) + 2 * len(ROWS) + 2
    for (a, one), (b, other) in itertools.combinations(zip(texts, boxes, strict=True), 2):
        assert not one.overlaps(other), (a.get_text(), b.get_text())
    frame = figure.axes[0].get_window_extent()
    assert all(frame.x0 <= box.x0 and box.x1 <= frame.x1 for box in boxes)


@pytest.mark.parametrize(
    ("budget", "data", "families"),
    [
        ({}, None, {MORE_DATA}),
        (None, {}, {TUNING_BUDGET}),
        ({}, {}, set()),
    ],
    ids=["data size only", "tuning budget only", "points only"],
)
def test_the_plot_draws_whichever_families_there_are(
    rng: np.random.Generator, budget: Any, data: Any, families: set[str]
) -> None:
    from tuneworth.plots import marginal_png

    verdict, _ = comparison_verdict(rng)
    found = marginal(rng, budget, data)
    figure = drawn(found, verdict)
    named = {name.split(":")[0] for name in legend_names(figure) if ":" in name}
    assert named == families
    # Without a curve the arms it would have drawn are points, with their names.
    if TUNING_BUDGET not in families:
        assert set(SEARCHES) <= set(label_texts(figure))
    assert marginal_png(found, verdict).startswith(b"\x89PNG")


def test_a_curve_of_one_point_is_a_point_with_its_interval_and_its_unit(
    rng: np.random.Generator,
) -> None:
    from matplotlib.collections import LineCollection, PolyCollection

    verdict, _ = comparison_verdict(rng)
    one = marginal(rng, budget_curves([1]), data_curves([455]))
    figure = drawn(one, verdict)
    labels = label_texts(figure)
    assert labels.count("1 trial") == 2 and labels.count("455 rows") == 2
    collections = figure.axes[0].collections
    assert not any(isinstance(c, PolyCollection) for c in collections)  # no band of one point
    # An error bar for each curve's point and each other arm's point.
    assert sum(isinstance(c, LineCollection) for c in collections) == 4 + 2


def test_nan_intervals_leave_the_curves_without_bands(rng: np.random.Generator) -> None:
    from matplotlib.collections import PolyCollection

    verdict, _ = comparison_verdict(rng)
    found = marginal(rng)
    curves = found.curves.assign(ci_low=math.nan, ci_high=math.nan)
    figure = drawn(dataclasses.replace(found, curves=curves), verdict)
    assert not any(isinstance(c, PolyCollection) for c in figure.axes[0].collections)
    assert label_texts(figure).count("20 trials") == 2


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end, text.index(start))]


def test_the_markdown_report_has_the_section_after_the_arms_table(
    rng: np.random.Generator, tmp_path: Path
) -> None:
    verdict, frame = comparison_verdict(rng)
    found = marginal(rng)
    paths = write_report(verdict, CONTEXT, frame, None, tmp_path, found)
    assert tmp_path / "marginal_gains.png" in paths
    markdown = (tmp_path / "report.md").read_text()
    assert markdown.index("## Arms") < markdown.index("## Marginal gains")
    assert markdown.index("## Marginal gains") < markdown.index("## Plots")
    text = section(markdown, "## Marginal gains", "## Training rows")
    assert f"**{SENTENCE}**" in text
    assert "![Marginal gains](marginal_gains.png)" in text
    assert f"- {NOTE}" in text
    steps = found.steps.set_index("arm")
    rows = {line.split(" | ")[0].removeprefix("| "): line for line in text.splitlines()}
    search = steps.loc[SEARCHES[0]]
    assert rows[f"tuning budget: {SEARCHES[0]}"].startswith(
        f"| tuning budget: {SEARCHES[0]} | 16 → 20 trials | {signed(search['gain'])} | "
        f"[{signed(search['ci_low'])}, {signed(search['ci_high'])}] | 0.400 | within noise "
        f"(could detect ≥ {search['detectable']:.3f}) |"
    )
    base = steps.loc["baseline"]
    assert rows["more data: baseline"].endswith(
        f"| concave | 455 → 910 rows: {signed(base['next_gain'])} "
        f"[{signed(base['next_low'])}, {signed(base['next_high'])}] | "
        f"{signed(base['per_1000_rows'])} |"
    )
    assert rows["more data: label noise filter"].endswith(
        "| not monotone | not extrapolated: not monotone |  |"
    )


def test_the_html_report_embeds_the_plot_and_the_table_in_the_section(
    rng: np.random.Generator,
) -> None:
    from tuneworth.plots import marginal_png

    verdict, _ = comparison_verdict(rng)
    found = marginal(rng)
    page = render_html(verdict, CONTEXT, {}, (), found, marginal_png(found, verdict))
    assert page.count("data:image/png;base64,") == 1
    text = section(page, "<h2>Marginal gains</h2>", "<h2>Plots</h2>")
    assert f'<p class="marginal">{SENTENCE}</p>' in text
    assert "data:image/png;base64," in text
    assert "<th>next doubling (extrapolated)</th>" in text
    assert "<td>16 → 20 trials</td>" in text
    assert '<td class="text">not extrapolated: not monotone</td>' in text
    assert "grid search has no tuning-budget curve: a grid has no &#x27;after k trials&#x27;." in (
        text
    )


def test_without_data_size_curves_the_table_drops_their_columns(rng: np.random.Generator) -> None:
    verdict, _ = comparison_verdict(rng)
    markdown = render_markdown(verdict, CONTEXT, {}, (), marginal(rng, data={}), "m.png")
    header = next(line for line in markdown.splitlines() if line.startswith("| curve |"))
    assert header == "| curve | last doubling | gain | 95% CI | p | verdict |"


def test_without_curves_the_report_is_as_it_was(rng: np.random.Generator, tmp_path: Path) -> None:
    verdict, frame = comparison_verdict(rng)
    paths = write_report(verdict, CONTEXT, frame, None, tmp_path / "plain")
    assert {p.name for p in paths} == {
        "report.md",
        "report.html",
        "gains.png",
        "cost_gain.png",
        "fold_deltas.png",
    }
    assert "Marginal gains" not in (tmp_path / "plain" / "report.md").read_text()
    assert "Marginal gains" not in (tmp_path / "plain" / "report.html").read_text()
    # Curves asked for but none measured: the sentence and notes, no plot and no table.
    empty = Marginal(pd.DataFrame(), sentence=SENTENCE, notes=(NOTE,))
    written = write_report(verdict, CONTEXT, frame, None, tmp_path / "empty", empty)
    assert "marginal_gains.png" not in {p.name for p in written}
    markdown = (tmp_path / "empty" / "report.md").read_text()
    text = section(markdown, "## Marginal gains", "## Training rows")
    assert text.splitlines()[2:] == [f"**{SENTENCE}**", "", f"- {NOTE}", ""]


# MLflow: a study whose comparison carries curves, written and read back.

TINY_SEARCH = "random search, 2 trials"


@pytest.fixture(scope="module")
def curved_run(tracking_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A study of a linear baseline and a two-trial search whose comparison carries
    synthetic curves, with numbers the tests can name, in place of the measured ones."""
    from tuneworth import experiment
    from tuneworth.spec import parse_spec

    spec = parse_spec(
        {
            "name": "curved",
            "dataset": {"source": "sklearn:breast_cancer"},
            "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
            "baseline": {"model": "linear"},
            "levers": [{"random_search": {"trials": 2}}],
            "seed": 1,
        }
    )
    rng = np.random.default_rng(2)
    folds, curves, steps = support.marginal_tables(
        rng,
        {TINY_SEARCH: ([1, 2], [-0.004, 0.001], 0.6)},
        {
            "baseline": ([47, 94, 189, 379], [-0.03, -0.012, -0.004, 0.0], 0.05),
            TINY_SEARCH: ([47, 94, 189, 379], [-0.02, -0.008, 0.002, 0.001], 0.6),
        },
        folds=3,
    )
    found = Marginal(folds, curves, steps, SENTENCE, (NOTE, "a second note"))
    run_plan = experiment.run_plan

    def with_curves(*args: Any, **kwargs: Any) -> Any:
        # The measured curves' sentence, the verdict's last, gives way to the synthetic one.
        comparison = run_plan(*args, **kwargs)
        assert comparison.verdict.sentences[-1] == comparison.marginal.sentence
        sentences = (*comparison.verdict.sentences[:-1], SENTENCE)
        verdict = dataclasses.replace(comparison.verdict, sentences=sentences)
        return dataclasses.replace(comparison, verdict=verdict, marginal=found)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(experiment, "run_plan", with_curves)
        reports = tmp_path_factory.mktemp("curved")
        return experiment.run_experiment(
            spec, tracking_uri=tracking_uri, n_jobs=1, report_dir=reports
        )


def test_a_search_run_holds_its_budget_curve_with_step_trials(
    curved_run: Any, tracking_uri: str
) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs(
        [client.get_experiment_by_name("curved").experiment_id],
        f"tags.`tuneworth.arm` = '{TINY_SEARCH}'",
    )
    assert "`budget_curve.gain`" in run.data.tags["mlflow.note.content"]
    curve = curved_run.comparison.marginal.curves.set_index(["family", "step"])
    for key in ("gain", "ci_low", "ci_high", "cpu_seconds"):
        history = client.get_metric_history(run.info.run_id, f"budget_curve.{key}")
        assert {m.step: m.value for m in history} == pytest.approx(
            {step: curve.loc[(TUNING_BUDGET, step), key] for step in (1, 2)}
        )


def test_the_study_run_holds_the_data_curves_with_step_rows_and_the_tables(
    curved_run: Any, tracking_uri: str
) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri)
    study = curved_run.study_run_id
    curves = curved_run.comparison.marginal.curves
    data = curves[curves["family"] == MORE_DATA].set_index(["arm", "step"])
    for arm, key in (("baseline", "baseline"), (TINY_SEARCH, "random search 2 trials")):
        history = client.get_metric_history(study, f"data_curve.{key}.gain")
        assert {m.step: m.value for m in history} == pytest.approx(data.loc[arm, "gain"].to_dict())
        assert len(client.get_metric_history(study, f"data_curve.{key}.ci_high")) == 4
    paths = {a.path for a in client.list_artifacts(study)}
    assert {"marginal_folds.csv", "marginal_curves.csv", "marginal_steps.csv"} <= paths
    tags = client.get_run(study).data.tags
    assert tags["tuneworth.marginal.sentence"] == SENTENCE
    assert tags["tuneworth.marginal.notes"] == f"{NOTE}\na second note"
    # The run's description in the UI has the notes after the verdict table (whose last
    # bullet, in a real run, is the sentence: tuneworth.comparison.measure_marginal).
    note = tags["mlflow.note.content"].splitlines()
    said = note.index("**Marginal gains**")
    assert note[said + 1 : said + 3] == [f"- {NOTE}", "- a second note"]
    assert said > max(i for i, line in enumerate(note) if line.startswith("| "))


def test_the_report_rebuilt_from_the_store_has_the_same_curves_and_section(
    curved_run: Any, tracking_uri: str, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from tuneworth.experiment import report_from_store
    from tuneworth.tracking import load_marginal

    tags = MlflowClient(tracking_uri).get_run(curved_run.study_run_id).data.tags
    stored = load_marginal(tracking_uri, curved_run.study_run_id, tags)
    written = curved_run.comparison.marginal
    assert stored is not None
    for name in ("folds", "curves", "steps"):
        pd.testing.assert_frame_equal(
            getattr(stored, name), getattr(written, name), check_dtype=False
        )
    assert (stored.sentence, stored.notes) == (written.sentence, written.notes)
    _, directory = report_from_store("curved", tracking_uri=tracking_uri, report_dir=tmp_path)
    again = (directory / "report.md").read_text()
    first = (curved_run.report_dir / "report.md").read_text()
    start, end = "## Marginal gains", "## Plots"
    assert section(again, start, end) == section(first, start, end)
    assert "| tuning budget: random search, 2 trials | 1 → 2 trials |" in first
    assert (directory / "marginal_gains.png").is_file()


def test_a_study_stored_without_curves_rebuilds_without_the_section(
    curved_run: Any, tracking_uri: str, tmp_path: Path
) -> None:
    from mlflow.tracking import MlflowClient

    from tuneworth.experiment import report_from_store
    from tuneworth.tracking import load_marginal

    client = MlflowClient(tracking_uri)
    # As an older tuneworth wrote it: the same study, no curve tags or tables.
    run = client.get_run(curved_run.study_run_id)
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("tuneworth.marginal")}
    assert load_marginal(tracking_uri, run.info.run_id, tags) is None
    client.delete_tag(run.info.run_id, "tuneworth.marginal.sentence")
    client.delete_tag(run.info.run_id, "tuneworth.marginal.notes")
    try:
        verdict, directory = report_from_store(
            "curved", tracking_uri=tracking_uri, report_dir=tmp_path
        )
    finally:
        client.set_tag(run.info.run_id, "tuneworth.marginal.sentence", SENTENCE)
        client.set_tag(run.info.run_id, "tuneworth.marginal.notes", f"{NOTE}\na second note")
    assert verdict.sentences == curved_run.verdict.sentences[:-1]  # without the curves'
    markdown = (directory / "report.md").read_text()
    assert "## Arms" in markdown and "Marginal gains" not in markdown
    assert not (directory / "marginal_gains.png").exists()
    assert re.search(r"^## Plots$", markdown, re.M)


def test_a_comparison_with_curves_plots_and_reports_them(curved_run: Any, tmp_path: Path) -> None:
    comparison = curved_run.comparison
    assert set(comparison.plot()) == {
        "gains",
        "cost_gain",
        "fold_deltas",
        "tuning_curves",
        "marginal_gains",
    }
    written = {p.name for p in comparison.report(tmp_path)}
    assert "marginal_gains.png" in written
    assert "## Marginal gains" in (tmp_path / "report.md").read_text()
    plain = dataclasses.replace(comparison, marginal=None)
    assert "marginal_gains" not in plain.plot()


def test_no_label_stands_across_the_zero_line_and_the_cost_axis_reads_in_seconds(
    rng: np.random.Generator,
) -> None:
    # The baseline's data curve ends at a gain of exactly 0, on the zero line; a label
    # across that line is hard to read, and its leader line would run along it.
    verdict, _ = comparison_verdict(rng)
    figure = drawn(marginal(rng), verdict)
    axes = figure.axes[0]
    zero = axes.transData.transform((1.0, 0.0))[1]
    texts = [t for t in axes.texts if t.get_text()]
    assert any(t.get_text() == "455 rows" and t.xy[1] == 0 for t in texts)
    for text in texts:
        box = text.get_window_extent()
        assert box.y0 > zero or box.y1 < zero, text.get_text()
    ticks = [t.get_text() for t in axes.xaxis.get_ticklabels(which="both") if t.get_text()]
    assert ticks and all(re.fullmatch(r"\d+(\.\d+)? s", t) for t in ticks), ticks


def test_a_point_s_label_names_an_arm_of_up_to_32_characters_in_full(
    rng: np.random.Generator,
) -> None:
    name = "histogram gradient boosting"
    verdict, _ = comparison_verdict(rng)
    summary = verdict.summary.replace({"arm": {"random forest": name}})
    figure = drawn(marginal(rng), dataclasses.replace(verdict, summary=summary))
    assert name in label_texts(figure)
