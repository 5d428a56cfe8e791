"""What a tracked run writes to MLflow: the study run, an arm run per arm, their metrics,
tags, artifacts and model, and a study rebuilt from the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from support import TINY

from tuneworth.comparison import run_plan
from tuneworth.experiment import plan_experiment, run_experiment
from tuneworth.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny_run(tracking_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    reports = tmp_path_factory.mktemp("reports")
    return run_experiment(parse_spec(TINY), tracking_uri=tracking_uri, n_jobs=1, report_dir=reports)


def test_run_writes_a_study_with_one_nested_run_per_arm(tiny_run: Any, tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    runs = mlflow.search_runs(experiment_names=["tiny"], output_format="pandas")
    study = runs[runs["tags.tuneworth.kind"] == "study"]
    arms = runs[runs["tags.tuneworth.kind"] == "arm"]
    assert len(study) == 1
    study_id = study["run_id"].iloc[0]
    assert study_id == tiny_run.study_run_id
    assert len(arms) == 5
    assert (arms["tags.mlflow.parentRunId"] == study_id).all()
    assert set(arms["tags.tuneworth.family"]) == {
        "baseline",
        "data",
        "preprocess",
        "model",
        "tuning",
    }
    assert set(arms["tags.tuneworth.lever"]) >= {
        "baseline",
        "standard scaling",
        "random search, 2 trials",
    }
    assert (arms["status"] == "FINISHED").all()
    spec_hash = parse_spec(TINY).digest()
    assert (runs["tags.tuneworth.spec_hash"] == spec_hash).all()
    assert study["tags.tuneworth.data_fingerprint"].iloc[0] == tiny_run.plan.dataset.fingerprint
    assert study["tags.tuneworth.version.scikit-learn"].iloc[0]


def test_arm_runs_hold_scores_gains_and_cost(tiny_run: Any, tracking_uri: str) -> None:
    mlflow.set_tracking_uri(tracking_uri)
    runs = mlflow.search_runs(experiment_names=["tiny"])
    arms = runs[runs["tags.tuneworth.kind"] == "arm"].set_index("tags.tuneworth.arm")
    summary = tiny_run.verdict.summary.set_index("arm")
    for arm, row in summary.iterrows():
        assert arms.loc[arm, "metrics.roc_auc_mean"] == pytest.approx(row["score_mean"])
        assert arms.loc[arm, "metrics.n_fits"] == row["n_fits"]
        assert arms.loc[arm, "metrics.fit_cpu_seconds"] > 0
    scaled = arms.loc["standard scaling"]
    assert scaled["metrics.gain"] == pytest.approx(summary.loc["standard scaling", "gain"])
    assert scaled["metrics.gain_ci_low"] <= scaled["metrics.gain"] <= scaled["metrics.gain_ci_high"]
    assert scaled["metrics.detectable_gain"] == pytest.approx(
        summary.loc["standard scaling", "detectable"]
    )
    assert scaled["params.preprocess.scale"] == "standard"
    client = MlflowClient(tracking_uri)
    history = client.get_metric_history(scaled["run_id"], "fold_roc_auc")
    assert sorted(m.step for m in history) == [0, 1, 2]
    search = arms.loc["random search, 2 trials"]
    assert search["metrics.n_fits"] == 3 * (2 * 2 + 1)
    assert len(client.get_metric_history(search["run_id"], "best_so_far_inner_roc_auc")) == 2
    assert {a.path for a in client.list_artifacts(search["run_id"])} == {
        "folds.csv",
        "trials.csv",
        "chosen.csv",
        "space.json",
    }


def test_experiment_opens_on_its_runs_with_the_spec_description(
    tiny_run: Any, tracking_uri: str
) -> None:
    experiment = MlflowClient(tracking_uri).get_experiment_by_name("tiny")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.tags["mlflow.note.content"] == "A tiny study of the breast-cancer data."


def test_study_run_description_is_the_verdict_headline_then_table(
    tiny_run: Any, tracking_uri: str
) -> None:
    from tuneworth.report import headline

    note = (
        MlflowClient(tracking_uri).get_run(tiny_run.study_run_id).data.tags["mlflow.note.content"]
    )
    lines = note.splitlines()
    assert lines[0] == f"**{headline(tiny_run.verdict)}**"
    table = [line for line in lines if line.startswith("| ")]
    assert table[0].startswith("| arm | family | ROC-AUC | gain |")
    assert len(table) == 1 + 5  # header and one row per arm
    assert f"- {tiny_run.verdict.sentences[0]}" in lines


def test_every_run_logs_the_data_as_its_training_dataset(tiny_run: Any, tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert len(runs) == 6
    for run in runs:
        (found,) = run.inputs.dataset_inputs
        assert found.dataset.name == "tiny"
        assert {t.key: t.value for t in found.tags} == {"mlflow.data.context": "training"}
        assert '"tuneworth.source": "sklearn:breast_cancer"' in found.dataset.source
        profile = json.loads(found.dataset.profile)
        assert profile["num_rows"] == len(tiny_run.plan.dataset.y)
        assert "target" in found.dataset.schema


def test_run_params_are_only_the_settings_that_act(tiny_run: Any, tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    for run in runs:
        assert "None" not in run.data.params.values()
        assert "" not in run.data.params.values()
        assert "preprocess.k" not in run.data.params  # no feature selection in this spec
    search = next(r for r in runs if r.data.tags.get("tuneworth.arm") == "random search, 2 trials")
    assert search.data.params["lever0.random_search.trials"] == "2"


def test_a_search_logs_the_configuration_each_fold_chose(tiny_run: Any, tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    runs = client.search_runs(
        [client.get_experiment_by_name("tiny").experiment_id],
        "tags.`tuneworth.arm` = 'random search, 2 trials'",
    )
    chosen = pd.read_csv(client.download_artifacts(runs[0].info.run_id, "chosen.csv"))
    assert chosen["fold"].tolist() == [0, 1, 2]
    trials = pd.read_csv(client.download_artifacts(runs[0].info.run_id, "trials.csv"))
    params = [c.removeprefix("param.") for c in trials.columns if c.startswith("param.")]
    assert set(params) <= set(chosen.columns)
    assert {"inner_score", "outer_score"} <= set(chosen.columns)
    for row in chosen.to_dict("records"):
        fold = trials[trials["fold"] == row["fold"]]
        best = fold.loc[fold["score"].idxmax()]
        assert row["inner_score"] == pytest.approx(best["score"])


def test_study_run_keeps_the_spec_and_results(tiny_run: Any, tracking_uri: str) -> None:
    client = MlflowClient(tracking_uri)
    paths = {a.path for a in client.list_artifacts(tiny_run.study_run_id)}
    assert {"spec.yaml", "results.csv", "summary.csv", "arms.csv", "trials.csv"} <= paths
    report = {a.path for a in client.list_artifacts(tiny_run.study_run_id, "report")}
    assert {"report/report.html", "report/report.md", "report/gains.png"} <= report
    assert (tiny_run.report_dir / "report.html").is_file()
    local = client.download_artifacts(tiny_run.study_run_id, "results.csv")
    results = pd.read_csv(local)
    assert len(results) == 5 * 3
    assert results["score"].between(0, 1).all()


def test_same_spec_and_seed_give_the_same_fold_scores(tiny_run: Any) -> None:
    again = run_plan(plan_experiment(parse_spec(TINY)), n_jobs=2).results
    scores = again.set_index(["arm", "fold"])["score"]
    first = tiny_run.results.set_index(["arm", "fold"])["score"]
    pd.testing.assert_series_equal(scores.sort_index(), first.sort_index())


def test_report_rebuilds_the_same_verdict_from_the_store(
    tiny_run: Any, tracking_uri: str, tmp_path: Path
) -> None:
    from tuneworth.experiment import report_from_store

    verdict, directory = report_from_store("tiny", tracking_uri=tracking_uri, report_dir=tmp_path)
    pd.testing.assert_frame_equal(verdict.summary, tiny_run.verdict.summary, check_dtype=False)
    # The run's last sentence is its marginal gains' (tuneworth.marginal), read back too.
    assert tiny_run.verdict.sentences[-1] == tiny_run.comparison.marginal.sentence
    assert verdict.sentences == tiny_run.verdict.sentences
    assert (directory / "report.html").is_file()


def test_a_data_arm_says_what_it_did_to_the_rows_in_results_report_and_mlflow(
    tiny_run: Any, tracking_uri: str
) -> None:
    from tuneworth.report import format_row_changes

    results = tiny_run.results.set_index("arm")
    added = results.loc["random oversampling", "rows_added"]
    # breast cancer: 357 benign, 212 malignant; each 3-fold training fold is oversampled
    # up to its benign count
    assert added.tolist() == [97, 97, 96]
    assert (results.drop(index="random oversampling")["rows_added"] == 0).all()
    lines = format_row_changes(tiny_run.verdict, tiny_run.results).splitlines()
    assert lines[1].startswith("  random oversampling: added 25.5% to the training rows (25.3")
    narrow = format_row_changes(tiny_run.verdict, tiny_run.results, 50).splitlines()
    assert max(len(line) for line in narrow) <= 50
    oversampling = narrow.index(next(x for x in narrow if x.startswith("  random oversampling")))
    assert narrow[oversampling + 1].startswith("    ")  # the hanging indent of a wrapped line
    assert "## Training rows changed by the data levers" in (
        (tiny_run.report_dir / "report.md").read_text()
    )
    client = MlflowClient(tracking_uri)
    runs = client.search_runs(
        [client.get_experiment_by_name("tiny").experiment_id],
        "tags.`tuneworth.arm` = 'random oversampling'",
    )
    metrics = runs[0].data.metrics
    assert metrics["rows_added_share"] == pytest.approx((2 * 97 / 379 + 96 / 380) / 3)
    assert metrics["rows_removed_share"] == 0
    assert (
        "rows_added_share"
        not in client.search_runs(
            [client.get_experiment_by_name("tiny").experiment_id],
            "tags.`tuneworth.arm` = 'baseline'",
        )[0].data.metrics
    )


def test_an_existing_experiment_gets_the_kind_and_the_new_description(tracking_uri: str) -> None:
    from tuneworth.tracking import Tracker

    client = MlflowClient(tracking_uri)
    client.create_experiment("made_before")  # as an older tuneworth (or MLflow) made it
    tracker = Tracker(tracking_uri)
    tags = {"tuneworth.spec_hash": "h", "tuneworth.data_fingerprint": "f"}
    tracker.start_study("made_before", tags, {"trials": None, "folds": 5}, description="First.")
    tracker.abort("FINISHED")
    tracker.start_study("made_before", tags, {}, resume=False, description="Second.")
    tracker.abort("FINISHED")
    experiment = client.get_experiment_by_name("made_before")
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    assert experiment.tags["mlflow.note.content"] == "Second."
    first = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])[0]
    assert first.data.params == {"folds": "5"}


def test_a_tuning_arm_run_logs_the_space_it_searched(tiny_run: Any, tracking_uri: str) -> None:
    from tuneworth.space import searched_space

    client = MlflowClient(tracking_uri)
    (run,) = client.search_runs(
        [client.get_experiment_by_name("tiny").experiment_id],
        "tags.`tuneworth.arm` = 'random search, 2 trials'",
    )
    space = searched_space(tiny_run.plan.pipelines["random search, 2 trials"])
    assert space  # the linear model declares a space
    logged = {k.removeprefix("space."): v for k, v in run.data.params.items() if "space." in k}
    assert logged == space
    assert any(value.startswith("loguniform(") for value in logged.values())
    assert json.loads(
        Path(client.download_artifacts(run.info.run_id, "space.json")).read_text()
    ) == (space)
    baseline = client.search_runs(
        [client.get_experiment_by_name("tiny").experiment_id], "tags.`tuneworth.arm` = 'baseline'"
    )[0]
    assert not [k for k in baseline.data.params if k.startswith("space.")]


def test_arm_runs_name_the_metric_and_say_which_way_is_better(
    tiny_run: Any, tracking_uri: str
) -> None:
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    arms = {r.data.tags["tuneworth.arm"]: r for r in runs if r.data.tags["tuneworth.kind"] == "arm"}
    search = arms["random search, 2 trials"]
    names = set(search.data.metrics)
    assert {"roc_auc_mean", "roc_auc_std", "fold_roc_auc", "fold_inner_best_roc_auc"} <= names
    # A bare metric name would show the last fold's score as if it were the arm's.
    assert not {"roc_auc", "score_mean", "fold_score", "best_so_far"} & names
    note = search.data.tags["mlflow.note.content"]
    assert note.startswith("**random search, 2 trials** (tuning)")
    assert "ROC-AUC over the baseline's, signed so that **positive is better**" in note
    assert "`space.*` params" in note
    study = client.get_run(tiny_run.study_run_id).data.metrics
    assert study["best_roc_auc_mean"] >= study["baseline_roc_auc_mean"]


def test_the_recommended_arm_refitted_on_every_row_is_the_study_run_model(
    tiny_run: Any, tracking_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow.sklearn

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "true")
    client = MlflowClient(tracking_uri)
    study = client.get_run(tiny_run.study_run_id)
    # The arm the verdict recommends, which is not always the highest mean score.
    assert study.data.tags["tuneworth.model_arm"] == tiny_run.verdict.cheapest
    assert study.data.metrics["refit_seconds"] > 0
    (logged,) = client.search_logged_models(
        experiment_ids=[study.info.experiment_id],
        filter_string=f"source_run_id = '{tiny_run.study_run_id}'",
    )
    assert logged.name == "model"
    assert logged.tags["tuneworth.arm"] == tiny_run.verdict.cheapest
    model = mlflow.sklearn.load_model(logged.model_uri)
    X, y = tiny_run.plan.dataset.X, tiny_run.plan.dataset.y
    assert (model.predict(X) == y).mean() > 0.9  # fitted on these rows
    info = mlflow.models.get_model_info(logged.model_uri)
    assert info.signature.inputs.input_names() == list(X.columns)
    assert info.saved_input_example_info is not None


def test_report_links_the_study_run_when_a_server_shows_it() -> None:
    from tuneworth.tracking import run_url

    assert run_url("https://mlflow.example.org/", "7", "abc") == (
        "https://mlflow.example.org/#/experiments/7/runs/abc?workflowType=machine_learning"
    )
    assert run_url("sqlite:///mlruns/mlflow.db", "7", "abc") == ""
    assert run_url("postgresql://u@h/db", "7", "abc") == ""


class _Inspecting:
    """A progress hook that reads the store after every fold, while the run goes on."""

    inner = False

    def __init__(self, uri: str, experiment: str) -> None:
        self.client = MlflowClient(uri)
        self.experiment = experiment
        self.seen: list[tuple[str, int, str, int, float, float]] = []
        self.means: dict[str, list[tuple[float, float]]] = {}  # arm -> (score, mean shown)

    def begin(self, pending: Any, total: int) -> None:
        pass

    def fold_done(self, done: int, total: int, result: Any) -> None:
        import time

        now = time.time()
        found = self.client.get_experiment_by_name(self.experiment)
        (run,) = self.client.search_runs(
            [found.experiment_id],
            f"tags.`tuneworth.arm` = '{result.arm}' and tags.`tuneworth.kind` = 'arm'",
        )
        self.seen.append(
            (result.arm, result.fold, run.info.status, run.info.start_time, now, result.fit_seconds)
        )
        shown = run.data.metrics["roc_auc_mean"]
        self.means.setdefault(result.arm, []).append((result.score, shown))

    def inner_scored(self) -> None:
        pass


def test_an_arm_run_is_running_from_its_first_fold_to_its_last(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_spec(
        {
            "name": "live",
            "dataset": {"source": "sklearn:breast_cancer"},
            "cv": {"folds": 3, "repeats": 1},
            "baseline": {"model": "linear"},
            "levers": [{"model": {"name": "knn"}}],
            "seed": 2,
        }
    )
    from tuneworth import study_log

    class Flushing(study_log.StudyLog):
        """Writes each fold before the hook reads the store (the writes are queued)."""

        def fold_finished(self, arm: Any, result: Any, done: Any) -> None:
            super().fold_finished(arm, result, done)
            self.flush()

        def arm_finished(self, arm: Any, results: Any) -> None:
            super().arm_finished(arm, results)
            self.flush()

    monkeypatch.setattr(study_log, "StudyLog", Flushing)
    hook = _Inspecting(tracking_uri, "live")
    result = run_experiment(
        spec,
        tracking_uri=tracking_uri,
        n_jobs=1,
        progress=hook,
        report_dir=None,
        register="live-model",
    )
    by_arm: dict[str, list[tuple[str, int, str, int, float, float]]] = {}
    for seen in hook.seen:
        by_arm.setdefault(seen[0], []).append(seen)
    client = MlflowClient(tracking_uri)
    for arm, seen in by_arm.items():
        # RUNNING after each fold but the last, which closes the run.
        assert [s[2] for s in seen] == ["RUNNING", "RUNNING", "FINISHED"]
        first = seen[0]
        # Opened before its first fold was fitted: no later than that fold's end less its fit.
        assert first[3] / 1000 <= first[4] - first[5]
        (run,) = client.search_runs(
            [client.get_experiment_by_name("live").experiment_id],
            f"tags.`tuneworth.arm` = '{arm}'",
        )
        assert run.info.end_time / 1000 >= seen[-1][4] - 1
        assert (run.info.end_time - run.info.start_time) / 1000 >= sum(s[5] for s in seen)
        history = client.get_metric_history(run.info.run_id, "fold_roc_auc")
        assert sorted(m.step for m in history) == [0, 1, 2]
        # The runs table shows the arm's mean so far while it runs, then its mean.
        scores = [score for score, _ in hook.means[arm]]
        assert [shown for _, shown in hook.means[arm]] == pytest.approx(
            [sum(scores[:n]) / n for n in (1, 2, 3)]
        )
        mean = result.verdict.summary.set_index("arm").loc[arm, "score_mean"]
        assert run.data.metrics["roc_auc_mean"] == pytest.approx(mean)
    (version,) = client.search_model_versions("name = 'live-model'")
    assert version.run_id == result.study_run_id
    assert int(version.version) == 1


def test_each_optuna_study_names_the_mlflow_run_of_its_arm(
    tracking_uri: str, tmp_path: Path
) -> None:
    import optuna

    storage = f"journal:{tmp_path / 'optuna.log'}"
    spec = parse_spec(
        {
            "name": "linked",
            "dataset": {"source": "sklearn:breast_cancer"},
            "cv": {"folds": 2, "repeats": 1, "inner_folds": 2},
            "baseline": {"model": "linear"},
            "levers": [{"optuna": {"trials": 2, "storage": storage}}],
            "seed": 4,
        }
    )
    result = run_experiment(spec, tracking_uri=tracking_uri, n_jobs=1, report_dir=None)
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("linked")
    (arm,) = client.search_runs([experiment.experiment_id], "tags.`tuneworth.family` = 'tuning'")
    from tuneworth.studies import open_storage

    studies = optuna.get_all_study_summaries(open_storage(storage))
    # The best arm's refit on every row has a study of its own: only folds are measured.
    by_fold = {s.study_name: s.user_attrs for s in studies if not s.study_name.endswith("rows")}
    assert set(by_fold) == {
        "linked/optuna TPE, 2 trials/r0-f0",
        "linked/optuna TPE, 2 trials/r0-f1",
    }
    for attrs in by_fold.values():
        assert attrs["mlflow_run_id"] == arm.info.run_id
        assert attrs["mlflow_study_run_id"] == result.study_run_id
        assert attrs["mlflow_experiment_id"] == experiment.experiment_id


class _Recorder:
    """A stand-in for :class:`tuneworth.tracking.Tracker` that keeps the calls it gets."""

    study_run_id, experiment_id, uri = "study", "0", "memory"

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def start_arm(self, arm: str, *args: Any, **kwargs: Any) -> str:
        self.calls.append(("start_arm", arm))
        return f"run of {arm}"

    def log_fold(self, run_id: str, result: Any, *args: Any) -> None:
        self.calls.append(("log_fold", f"{run_id}, fold {result.fold}"))

    def finish_arm(self, run_id: str, *args: Any, **kwargs: Any) -> None:
        self.calls.append(("finish_arm", run_id))


def test_the_study_log_turns_the_cores_events_into_tracker_calls_in_order() -> None:
    from tuneworth.study_log import StudyLog

    document = {**TINY, "levers": ["scaling"], "cv": {"folds": 2, "repeats": 1}}
    plan = plan_experiment(parse_spec(document))
    tracker = _Recorder()
    log = StudyLog(tracker, plan)  # type: ignore[arg-type]
    run_plan(plan, n_jobs=1, events=log)
    log.flush()  # the writes are queued, for a writer thread
    # One worker: the first arm starts, the second when the first's last fold is done.
    assert tracker.calls == [
        ("start_arm", "baseline"),
        ("log_fold", "run of baseline, fold 0"),
        ("log_fold", "run of baseline, fold 1"),
        ("finish_arm", "run of baseline"),
        ("start_arm", "standard scaling"),
        ("log_fold", "run of standard scaling, fold 0"),
        ("log_fold", "run of standard scaling, fold 1"),
        ("finish_arm", "run of standard scaling"),
    ]


def test_a_failed_write_surfaces_as_the_store_error_and_nothing_is_written_after_it() -> None:
    from tuneworth.study_log import StudyLog
    from tuneworth.tracking import StoreError

    class Full(_Recorder):
        def log_fold(self, run_id: str, result: Any, *args: Any) -> None:
            super().log_fold(run_id, result, *args)
            raise StoreError("the MLflow store sqlite:///x.db is full")

    document = {**TINY, "levers": ["scaling"], "cv": {"folds": 2, "repeats": 1}}
    plan = plan_experiment(parse_spec(document))
    tracker = Full()
    log = StudyLog(tracker, plan)  # type: ignore[arg-type]
    # At a later event, or at the latest when the log is flushed: the writes are queued.
    with pytest.raises(StoreError, match="is full"):
        run_plan(plan, n_jobs=1, events=log)
        log.flush()
    log.close()
    assert tracker.calls == [("start_arm", "baseline"), ("log_fold", "run of baseline, fold 0")]


def test_compare_with_a_tracking_uri_writes_the_study_as_a_spec_run_does(
    tracking_uri: str,
) -> None:
    from sklearn.datasets import load_iris

    from tuneworth import compare

    X, y = load_iris(return_X_y=True, as_frame=True)
    result = compare(
        X,
        y,
        levers=["scaling"],
        cv={"folds": 2, "repeats": 1},
        name="tracked_compare",
        tracking=tracking_uri,
    )
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("tracked_compare")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    kinds = sorted((r.data.tags["tuneworth.kind"], r.info.status) for r in runs)
    assert kinds == [("arm", "FINISHED"), ("arm", "FINISHED"), ("study", "FINISHED")]
    study = next(r for r in runs if r.data.tags["tuneworth.kind"] == "study")
    assert study.data.params["dataset"] == "DataFrame"
    metric = result.verdict.metric.name
    assert study.data.metrics[f"baseline_{metric}_mean"] == pytest.approx(
        result.summary.set_index("arm").loc["baseline", "score_mean"]
    )


def test_the_dataset_digest_and_schema_are_mlflows_own_without_a_call_per_cell() -> None:
    import numpy as np
    from mlflow.data.digest_utils import compute_pandas_digest
    from mlflow.data.pandas_dataset import from_pandas

    from tuneworth.tracking import _pandas_digest, _pandas_schema

    frame = pd.DataFrame(
        {
            "amount": [1.5, np.nan, 3.0, 4.0],
            "count": [1, 2, 3, 4],
            "city": ["Oslo", None, "Bergen", "Oslo"],
            "code": ["a", "b", "c", "d"],
            "codes": pd.Series(["p", "q", "r", "s"], dtype=object),
            "flag": [True, False, True, True],
            "grade": pd.Categorical(["u", "v", "u", "v"]),
            "day": pd.to_datetime(["2020-01-01", None, "2020-01-03", "2020-01-04"]),
        }
    )
    assert _pandas_digest(frame) == compute_pandas_digest(frame)
    assert _pandas_digest(frame) != _pandas_digest(frame.assign(count=[1, 2, 3, 5]))
    schema = _pandas_schema(frame)
    assert schema is not None
    assert schema.to_dict() == from_pandas(frame).schema.to_dict()
    required = [c.required for c in schema.inputs]
    assert required == [False, True, False, True, True, True, True, False]
    mixed = pd.DataFrame({"value": pd.Series(["x", 1, None], dtype=object)})
    assert _pandas_schema(mixed) is None and from_pandas(mixed).schema is None


def test_ui_names_the_newest_study_in_the_model_training_view(
    tiny_run: Any, tracking_uri: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import os

    from tuneworth.cli import main

    monkeypatch.setattr(os, "execve", lambda *args: None)
    main(["ui", "--tracking-uri", tracking_uri, "--port", "5123"])
    mlflow.set_tracking_uri(tracking_uri)
    newest = mlflow.search_runs(
        search_all_experiments=True,
        filter_string="tags.`tuneworth.kind` = 'study'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    ).iloc[0]
    experiment = mlflow.get_experiment(newest.experiment_id).name
    link = (
        f"http://127.0.0.1:5123/#/experiments/{newest.experiment_id}/runs/{newest.run_id}"
        "?workflowType=machine_learning"
    )
    assert f"newest study ({experiment}): {link}" in capsys.readouterr().err.splitlines()


def test_ui_of_a_store_not_yet_created_names_no_study_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    import os

    from tuneworth.cli import main

    monkeypatch.setattr(os, "execve", lambda *args: None)
    main(["ui", "--tracking-uri", f"sqlite:///{tmp_path / 'none.db'}"])
    assert "newest study" not in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()
