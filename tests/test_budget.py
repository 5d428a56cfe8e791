"""A time budget: durations as people write them, the plan sized from a pilot's costs, and a
run that stops at its deadline keeping the arms that finished every fold."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest

from tuneworth.budget import (
    ArmCost,
    TimeBudget,
    budget_label,
    fold_seconds,
    parse_duration,
    size_plan,
)
from tuneworth.cli import _Progress, main
from tuneworth.errors import TuneworthError
from tuneworth.report import headline
from tuneworth.spec import parse_spec


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("10m", 600), ("1h", 3600), ("1h30m", 5400), (" 2m30s ", 150), ("10min", 600)],
)
def test_durations_are_read_as_people_write_them(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10", "ten minutes", "1d", "m", ""])
def test_a_bad_duration_names_the_setting_and_the_forms_that_work(text: str) -> None:
    with pytest.raises(TuneworthError) as caught:
        parse_duration(text)
    assert str(caught.value) == (
        f"--time-budget '{text}' is not a duration: write it like 90s, 10m, 1h or 1h30m"
    )


def test_a_budget_too_short_to_run_anything_says_so() -> None:
    with pytest.raises(TuneworthError, match="too short to run anything: give at least 10s"):
        parse_duration("5s")


def test_budget_labels_read_in_the_largest_units() -> None:
    assert [budget_label(s) for s in (90, 120, 600, 5400, 7200)] == [
        "90 s",
        "2 min",
        "10 min",
        "1 h 30 min",
        "2 h",
    ]


def test_a_bad_time_budget_in_a_spec_names_the_key() -> None:
    with pytest.raises(TuneworthError, match=r"budget\.time: '10 mins' is not a duration"):
        parse_spec(
            {"name": "x", "dataset": {"source": "sklearn:iris"}, "budget": {"time": "10 mins"}}
        )


def test_a_bad_time_budget_on_the_command_line_is_one_line_before_any_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["run", "sklearn:iris", "--target", "target", "--time-budget", "10x"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "tuneworth: error: --time-budget '10x' is not a duration: write it like 90s, 10m, 1h "
        "or 1h30m\n"
    )


# Synthetic pilot costs: seconds of one fit on a training fold of 80% of the rows.
COSTS = [
    ArmCost("baseline", 0.1),
    ArmCost("oversampling", 0.2),
    ArmCost("forest", 2.0),
    ArmCost("grid search", 0.1, searches=True),
    ArmCost("optuna", 0.1, searches=True),
]


def _size(seconds: float, **kwargs: Any) -> Any:
    return size_plan(COSTS, seconds, trials=20, inner_folds=3, label="5 min time", **kwargs)


def test_a_search_costs_a_fit_per_trial_and_inner_fold_and_the_refit() -> None:
    # Inner training folds hold 2/3 of the outer one: 20 trials x 3 x 2/3 + 1 = 41 fits.
    assert fold_seconds(COSTS[3], folds=5, trials=20, inner_folds=3) == pytest.approx(4.1)
    # Ten outer folds train on 90% of the rows, not 80%.
    assert fold_seconds(COSTS[2], folds=10, trials=20, inner_folds=3) == pytest.approx(2.25)


def test_an_ample_budget_keeps_every_arm_ten_folds_and_the_spec_s_trials() -> None:
    sizing = _size(3600)
    assert (sizing.folds, sizing.repeats, sizing.trials) == (5, 2, 20)
    assert sizing.arms == tuple(c.name for c in COSTS) and sizing.left_out == ()
    assert sizing.notes == ()
    # 10 folds of (0.1 + 0.2 + 2.0 + 4.1 + 4.1) s, plus 0.2 s per arm-fold, on one worker;
    # 5 s to start, 1 s of MLflow writes per arm, 10 s for the report at the end.
    assert sizing.seconds == pytest.approx(10 * (10.5 + 5 * 0.2) + 5 + 5 + 10)
    assert sizing.fold_seconds["optuna"] == pytest.approx(4.3)


def test_trials_go_before_folds_and_folds_before_arms() -> None:
    # 10 s + 80% of the rest is planned, 114 s; 10 folds need 20 s besides the arm-folds'
    # 115 s at 20 trials, 99 s at 16 and 87 s at 13.
    fewer_trials = _size(140)
    assert (fewer_trials.folds * fewer_trials.repeats, fewer_trials.trials) == (10, 13)
    assert fewer_trials.notes == (
        "searches get 13 trials instead of 20 to fit the 5 min time budget",
    )
    fewer_folds = _size(60)
    assert (fewer_folds.folds, fewer_folds.repeats) == (5, 1)
    assert fewer_folds.arms == tuple(c.name for c in COSTS)
    assert fewer_folds.notes[0] == (
        "5 outer folds (5-fold x 1) instead of 10 to fit the 5 min time budget: fewer folds, "
        "wider intervals"
    )
    # 38 s planned. 5 folds at 5 trials: 47.5 s with every arm; without the forest, the
    # costliest arm at that many trials (a search fits 11 times at 0.1 s), 37.5 s at 6.
    fewer_arms = _size(45)
    assert fewer_arms.left_out == ("forest",)
    assert fewer_arms.notes[-1] == (
        "left out to fit the 5 min time budget: forest (the most costly arm)"
    )
    assert fewer_arms.arms == ("baseline", "oversampling", "grid search", "optuna")
    assert (fewer_arms.folds, fewer_arms.repeats, fewer_arms.trials) == (5, 1, 6)
    assert fewer_arms.seconds == pytest.approx(37.5)


def test_more_workers_fit_more_in_the_same_budget() -> None:
    two = _size(60, workers=2)
    assert (two.folds * two.repeats, two.trials) == (10, 6)


def test_a_ladder_loses_its_last_rungs_and_a_factorial_design_no_arm() -> None:
    assert _size(45, drop="last").arms == ("baseline", "oversampling", "forest")
    with pytest.raises(TuneworthError, match="the factorial design's arms need about"):
        _size(45, drop="none")


def test_a_budget_the_baseline_alone_cannot_fit_says_how_much_it_needs() -> None:
    slow = [ArmCost("baseline", 30.0), ArmCost("forest", 60.0)]
    # 5 folds of 30.2 s and 16 s of fixed costs, planned at 80% of what is left after the
    # 10 s of final writes: (151 + 16 - 10) / 0.8 + 10.
    with pytest.raises(TuneworthError) as caught:
        size_plan(slow, 60, trials=20, inner_folds=3, label="1 min time")
    assert str(caught.value) == (
        "the baseline alone needs about 207 s on 5 folds, more than the 1 min time budget "
        "leaves after the pilot: give a longer --time-budget"
    )


def test_the_time_left_starts_from_the_pilot_s_estimates() -> None:
    progress = _Progress(3, tty=False, every=float("inf"), estimates={"baseline": 1, "optuna": 9})
    progress.begin(["baseline"] * 2 + ["optuna"] * 2, 4)
    assert progress.seconds_left() == pytest.approx(2 * 1 + 2 * 9)
    progress.close()


# A search far too long for the budget beside two quick arms.
BUDGETED = {
    "name": "budget_cut",
    "dataset": {"source": "sklearn:breast_cancer"},
    "cv": {"folds": 5, "repeats": 2, "inner_folds": 3},
    "levers": ["random_oversampling", {"optuna": {"trials": 100_000}}],
}


@pytest.fixture(scope="module")
def cut_run(tracking_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tuneworth.diagnose import diagnose
    from tuneworth.experiment import plan_experiment, run_experiment

    spec = parse_spec(BUDGETED)
    plan = plan_experiment(spec)
    data = plan.dataset
    findings = diagnose(data.X, data.y, data.task, data.schema)
    # As if the plan had left a forest out before the run.
    budget = TimeBudget(20, time.time() + 20, "20 s", left_out=("random forest",))
    started = time.time()
    result = run_experiment(
        spec,
        plan=plan,
        tracking_uri=tracking_uri,
        n_jobs=1,
        report_dir=tmp_path_factory.mktemp("reports"),
        budget=budget,
        findings=findings,
    )
    return result, time.time() - started, findings


@pytest.mark.slow
def test_the_run_stops_at_the_deadline_and_names_the_cut_arms(cut_run: Any) -> None:
    result, wall, _ = cut_run
    assert wall < 20 + 15  # the deadline, then the verdict, report and MLflow writes
    assert result.verdict.cut == ("random forest", "optuna TPE, 100000 trials")
    assert result.verdict.sentences[0] == (
        "Cut by the 20 s time budget: random forest; optuna TPE, 100000 trials (not compared: "
        "a paired comparison needs every fold)."
    )
    assert list(result.verdict.summary["arm"]) == ["baseline", "random oversampling"]
    assert headline(result.verdict).endswith(" (2 arms cut by the 20 s time budget).")
    assert (
        "No tuning arm finished within the 20 s time budget, so this experiment cannot say "
        "whether tuning pays: give a longer --time-budget."
    ) in result.verdict.sentences


@pytest.mark.slow
def test_the_kept_arms_have_every_fold(cut_run: Any) -> None:
    result, _, _ = cut_run
    folds = result.results.groupby("arm")["fold"].apply(sorted)
    assert folds.to_dict() == {arm: list(range(10)) for arm in ("baseline", "random oversampling")}


@pytest.mark.slow
def test_mlflow_names_the_cut_arms_and_leaves_no_run_running(
    cut_run: Any, tracking_uri: str
) -> None:
    result, _, _ = cut_run
    client = mlflow.MlflowClient(tracking_uri)
    study = client.get_run(result.study_run_id)
    assert study.info.status == "FINISHED"
    assert study.data.tags["tuneworth.cut"] == "random forest\noptuna TPE, 100000 trials"
    assert study.data.tags["tuneworth.cut_by"] == "the 20 s time budget"
    assert "Cut by the 20 s time budget" in study.data.tags["tuneworth.verdict"]
    children = client.search_runs(
        [study.info.experiment_id], f"tags.`mlflow.parentRunId` = '{result.study_run_id}'"
    )
    # An arm's run opens with its first fold: the search the deadline stopped has one, ended
    # KILLED; the forest the plan left out never started.
    assert {run.data.tags["tuneworth.arm"]: run.info.status for run in children} == {
        "baseline": "FINISHED",
        "random oversampling": "FINISHED",
        "optuna TPE, 100000 trials": "KILLED",
    }


@pytest.mark.slow
def test_the_report_shows_the_diagnosis_and_the_cut_arms(cut_run: Any) -> None:
    result, _, findings = cut_run
    markdown = (Path(result.report_dir) / "report.md").read_text()
    assert "- Cut by the 20 s time budget: random forest; optuna TPE, 100000 trials" in markdown
    section = markdown.split("## Diagnosis\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert section[0] == "| check | severity | lever | finding |"
    assert len(section) == 2 + len(findings)
    assert section[2] == f"| missing values | ok | - | {findings[0].summary} |"
    page = (Path(result.report_dir) / "report.html").read_text()
    assert "<h2>Diagnosis</h2>" in page
    assert "<td>missing values</td><td>ok</td>" in page


@pytest.mark.slow
def test_the_study_run_logs_the_diagnosis(cut_run: Any, tracking_uri: str) -> None:
    result, _, findings = cut_run
    client = mlflow.MlflowClient(tracking_uri)
    study = client.get_run(result.study_run_id)
    path = client.download_artifacts(result.study_run_id, "diagnosis.csv")
    table = pd.read_csv(path, keep_default_na=False)
    assert list(table["check"]) == [f.name for f in findings]
    assert list(table["finding"]) == [f.summary for f in findings]
    flagged = [f for f in findings if f.severity != "ok"]
    tag = study.data.tags["tuneworth.diagnosis"]
    assert tag.splitlines() == [f"{f.name} ({f.severity}): {f.summary}" for f in flagged] or (
        not flagged and tag == "nothing found"
    )
    description = study.data.tags["mlflow.note.content"]
    assert "## Diagnosis" in description
    assert description.index("## Diagnosis") > description.index("Cut by")


@pytest.mark.slow
def test_run_prints_the_sized_plan_with_each_arm_s_estimate_before_work(
    tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "timed.yaml"
    spec.write_text(
        "name: timed\ndataset: {source: 'sklearn:iris'}\nlevers: [{scaling: {method: robust}}]\n"
        "budget: {time: 40s}\n"
    )
    args = ["run", str(spec), "-j", "1", "--tracking-uri", tracking_uri]
    assert main([*args, "--report-dir", str(tmp_path / "reports")]) == 0
    err = capsys.readouterr().err.splitlines()
    (start,) = [i for i, line in enumerate(err) if line.startswith("time budget 40 s (")]
    arms = [i for i, line in enumerate(err) if line.startswith(("  baseline ", "  robust "))]
    head = " ".join(" ".join(err[start : arms[0]]).split())  # wrapped at 100 columns
    assert "timing each arm): 2 arms x 10 outer folds (5-fold x 2); estimated " in head
    assert arms == [arms[0], arms[0] + 1] and arms[0] > start
    assert err[arms[0]].split()[-2].startswith("~")
    assert max(len(line) for line in err[start : arms[1] + 1]) <= 100
    assert err[-3].endswith("s of a 40 s time budget")
    assert err[-2].startswith("MLflow study run ")


@pytest.mark.slow
def test_a_report_rebuilt_from_the_store_names_the_cut_arms(
    cut_run: Any, tracking_uri: str, tmp_path: Path
) -> None:
    from tuneworth.experiment import report_from_store

    result, _, _ = cut_run
    verdict, _ = report_from_store(
        "budget_cut", tracking_uri=tracking_uri, run_id=result.study_run_id, report_dir=tmp_path
    )
    assert verdict.cut == result.verdict.cut
    assert verdict.sentences[0] == result.verdict.sentences[0]


def test_the_model_is_not_refitted_when_the_refit_would_end_past_the_budget() -> None:
    from tuneworth.evaluate import FoldResult
    from tuneworth.study_log import refit_past_budget

    # The folds' fits took 40 s each, on 4/5 of the rows: on every row about 50 s.
    folds = [FoldResult("baseline", k, 0, 0.9, 40.0, 40.0, 0.1, 1, 455, 114) for k in range(5)]
    budget = TimeBudget(60, time.time() + 8, "1 min")
    assert refit_past_budget("baseline", folds, 5, budget) == (
        "refitting baseline on every row would take about 50 s, past the 1 min time budget: "
        "run with a longer budget to get the model"
    )
    # With a minute left, or no budget, it is refitted.
    assert refit_past_budget("baseline", folds, 5, TimeBudget(60, time.time() + 60, "")) is None
    assert refit_past_budget("baseline", folds, 5, None) is None


def test_one_search_stays_while_any_arm_but_the_baseline_does() -> None:
    # A search dearer than the forest: arms leave costliest first, but the cheaper search
    # stays to the last, or the run could not say whether tuning pays.
    costs = [
        ArmCost("baseline", 0.1),
        ArmCost("forest", 1.0),
        ArmCost("grid search", 0.2, searches=True),
        ArmCost("optuna", 0.3, searches=True),
    ]
    sizing = size_plan(costs, 40, trials=20, inner_folds=3)
    assert sizing.arms == ("baseline", "grid search")
    assert sizing.left_out == ("optuna", "forest")
