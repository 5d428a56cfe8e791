"""Bad input, failed work, interruption and resume, fuzzing, safety."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.tracking import MlflowClient

from tuneworth.cli import main
from tuneworth.errors import TuneworthError
from tuneworth.experiment import run_experiment
from tuneworth.spec import parse_spec

ROOT = Path(__file__).resolve().parents[1]


def write_csv(path: Path, text: str | bytes) -> str:
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


def classes(n: int = 40) -> str:
    rows = "\n".join(f"{i % 7},{i * 0.5},{'ab'[i % 2]}" for i in range(n))
    return "x,z,label\n" + rows + "\n"


# Each case: the spec (with {data} for a CSV path), the CSV text, and what the error names.
BAD_INPUTS: dict[str, tuple[dict[str, Any], str | bytes | None, str]] = {
    "data file missing": ({"source": "missing.csv", "target": "label"}, None, "not found"),
    "unreadable file": (
        {"source": "{data}", "target": "label"},
        b"x,label\n\xff\xfe\x00,\xc3\n",  # not UTF-8
        "cannot read",
    ),
    "empty file": ({"source": "{data}", "target": "label"}, "", "is empty"),
    "target absent": (
        {"source": "{data}", "target": "lable"},
        classes(),
        "target column 'lable' not in",
    ),
    "target all missing": (
        {"source": "{data}", "target": "label"},
        "x,label\n1,\n2,\n3,\n",
        "entirely missing",
    ),
    "target constant": (
        {"source": "{data}", "target": "label"},
        "x,label\n1,a\n2,a\n3,a\n",
        "single value",
    ),
    "class smaller than folds": (
        {"source": "{data}", "target": "label"},
        "x,label\n" + "\n".join(f"{i % 5},{'a' if i > 2 else 'b'}" for i in range(30)) + "\n",
        "fewer than the 5 folds",
    ),
    "regression target not numeric": (
        {"source": "{data}", "target": "label", "task": "regression"},
        classes(),
        "not numeric",
    ),
    "no usable features": (
        {"source": "{data}", "target": "label"},
        "id,label\n" + "\n".join(f"{i},{'ab'[i % 2]}" for i in range(30)) + "\n",
        "no usable feature columns",
    ),
    "duplicate column names": (
        {"source": "{data}", "target": "label"},
        "x,x,label\n" + "\n".join(f"{i},{i},{'ab'[i % 2]}" for i in range(30)) + "\n",
        "duplicate column names",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_data_is_one_line_exit_2_and_nothing_written(
    case: str, tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    dataset, text, expected = BAD_INPUTS[case]
    data = write_csv(tmp_path / "data.csv", text) if text is not None else ""
    dataset = {
        k: v.replace("{data}", data) if isinstance(v, str) else v for k, v in dataset.items()
    }
    name = f"bad_{case.replace(' ', '_')}"
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump({"name": name, "dataset": dataset, "levers": ["scaling"]}))
    assert main(["run", str(spec), "--tracking-uri", tracking_uri]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tuneworth: error: ")
    assert expected in err
    assert "Traceback" not in err
    assert MlflowClient(tracking_uri).get_experiment_by_name(name) is None


BAD_SPECS: dict[str, tuple[str, str]] = {
    "yaml does not parse": ("name: x\ndataset: {source: [\n", "not valid YAML at line"),
    "metric does not fit the task": (
        "name: x\ndataset: {source: 'sklearn:diabetes'}\nmetric: roc_auc\n",
        "does not fit a regression task",
    ),
    "unknown lever": (
        "name: x\ndataset: {source: 'sklearn:iris'}\nlevers: [grid_serch]\n",
        "did you mean 'grid_search'",
    ),
    "unknown model": (
        "name: x\ndataset: {source: 'sklearn:iris'}\nbaseline: {model: svn}\n",
        "unknown model 'svn'",
    ),
    "budget of zero": (
        "name: x\ndataset: {source: 'sklearn:iris'}\nbudget: {trials: 0}\n",
        "budget.trials",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SPECS))
def test_bad_specs_are_one_line_and_exit_2(
    case: str, tmp_path: Path, tracking_uri: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = BAD_SPECS[case]
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    args = ["run", str(spec), "--tracking-uri", tracking_uri, "--report-dir", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_a_search_needs_enough_rows_of_each_class_for_its_inner_folds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_csv(tmp_path / "d.csv", classes(30))
    spec = tmp_path / "spec.yaml"
    document = {
        "name": "inner",
        "dataset": {"source": data, "target": "label"},
        "cv": {"folds": 5, "inner_folds": 15},
        "levers": ["random_search"],
    }
    spec.write_text(yaml.safe_dump(document))
    assert main(["check", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "holds about 12 rows of class" in err and "too few for 15 inner folds" in err


def test_rows_with_a_missing_target_are_dropped_with_a_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = classes() + "3,1.0,\n4,2.0,\n"
    data = write_csv(tmp_path / "d.csv", text)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        yaml.safe_dump({"name": "drop", "dataset": {"source": data, "target": "label"}})
    )
    assert main(["check", str(spec)]) == 0
    assert "dropped 2 rows whose target 'label' is missing" in capsys.readouterr().out


# More neighbours than a training fold has rows: a valid parameter that fails in every fold.
FAILING = {
    "name": "failing",
    "dataset": {"source": "sklearn:iris"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "levers": [{"model": {"name": "knn", "params": {"n_neighbors": 500}}}, "scaling"],
}


def test_an_arm_that_fails_is_recorded_and_the_experiment_goes_on(
    tracking_uri: str, tmp_path: Path
) -> None:
    result = run_experiment(
        parse_spec(FAILING), tracking_uri=tracking_uri, n_jobs=1, report_dir=tmp_path
    )
    summary = result.verdict.summary.set_index("arm")
    failed = summary.index[summary["outcome"] == "failed"]
    assert list(failed) == ["k-nearest neighbours"]
    assert summary.loc["standard scaling", "outcome"] == "within noise"
    incomplete = [s for s in result.verdict.sentences if s.startswith("Incomplete")]
    assert len(incomplete) == 1 and "n_neighbors" in incomplete[0]
    mlflow.set_tracking_uri(tracking_uri)  # the run tracked in a process of its own
    runs = mlflow.search_runs(experiment_names=["failing"]).set_index("tags.tuneworth.arm")
    assert runs.loc["k-nearest neighbours", "status"] == "FAILED"
    assert "n_neighbors" in runs.loc["k-nearest neighbours", "tags.tuneworth.errors"]
    assert runs["status"].value_counts()["FINISHED"] == 3  # study, baseline, scaling


class _FailsOnFold:
    """Raises in the first progress report: an interruption in the middle of the work."""

    def __init__(self, after: int) -> None:
        self.after = after

    inner = True

    def begin(self, pending: Any, total: int) -> None:
        pass

    def fold_done(self, done: int, total: int, result: Any) -> None:
        if done == self.after:
            raise KeyboardInterrupt

    def inner_scored(self) -> None:
        pass


RESUMABLE = {
    "name": "resumable",
    "dataset": {"source": "sklearn:breast_cancer"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "levers": ["scaling", {"model": {"name": "knn"}}],
    "seed": 5,
}


@pytest.mark.slow
def test_interrupted_study_is_killed_then_resumed_without_recomputing(
    tracking_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = parse_spec(RESUMABLE)
    with pytest.raises(KeyboardInterrupt):
        run_experiment(
            spec, tracking_uri=tracking_uri, n_jobs=1, progress=_FailsOnFold(7), report_dir=None
        )
    mlflow.set_tracking_uri(tracking_uri)  # the run tracked in a process of its own
    runs = mlflow.search_runs(experiment_names=["resumable"])
    study = runs[runs["tags.tuneworth.kind"] == "study"]
    assert list(study["status"]) == ["KILLED"]
    arms = runs[runs["tags.tuneworth.kind"] == "arm"].set_index("tags.tuneworth.arm")["status"]
    # The arm whose first fold had finished was RUNNING, and is ended with the study.
    assert arms.to_dict() == {
        "baseline": "FINISHED",
        "standard scaling": "FINISHED",
        "k-nearest neighbours": "KILLED",
    }

    import tuneworth.evaluate as evaluate_module

    computed: list[str] = []
    original = evaluate_module.fit_and_score

    def recording(arm: str, pipeline: Any, X: Any, y: Any, split: Any, *rest: Any) -> Any:
        if split.subsample is None:  # an arm-fold; the data-size curves are fitted anew
            computed.append(arm)
        return original(arm, pipeline, X, y, split, *rest)

    monkeypatch.setattr(evaluate_module, "fit_and_score", recording)
    resumed = run_experiment(spec, tracking_uri=tracking_uri, n_jobs=1, report_dir=None)
    assert set(computed) == {"k-nearest neighbours"}
    assert sorted(resumed.resumed_arms) == ["baseline", "standard scaling"]
    assert resumed.study_run_id == study["run_id"].iloc[0]
    assert MlflowClient(tracking_uri).get_run(resumed.study_run_id).info.status == "FINISHED"
    knn = "tags.`tuneworth.arm` = 'k-nearest neighbours'"
    runs = mlflow.search_runs(experiment_names=["resumable"], filter_string=knn)
    assert sorted(runs["status"]) == ["FINISHED", "KILLED"]  # recomputed in a run of its own

    fresh = run_experiment(spec, tracking_uri=tracking_uri, n_jobs=1, report_dir=None)
    assert fresh.study_run_id != resumed.study_run_id  # a finished study is not resumed
    pd.testing.assert_frame_equal(
        fresh.results,
        resumed.results.assign(
            fit_seconds=fresh.results["fit_seconds"],
            fit_cpu_seconds=fresh.results["fit_cpu_seconds"],
            predict_seconds=fresh.results["predict_seconds"],
        ),
        check_dtype=False,
    )


SLOW_SPEC = {
    "name": "killed",
    "dataset": {"source": "sklearn:breast_cancer"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 3},
    "baseline": {"model": "knn"},
    "levers": ["scaling", {"random_search": {"trials": 100}}],
}


def _start(spec: Path, uri: str, tmp_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tuneworth.cli", "run", str(spec), "--tracking-uri", uri]
    command += ["--report-dir", str(tmp_path / "reports"), "--jobs", "1"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _runs(kind: str) -> pd.DataFrame:
    return mlflow.search_runs(
        experiment_names=["killed"], filter_string=f"tags.`tuneworth.kind` = '{kind}'"
    )


def _wait_for_arms(count: int, timeout: float = 120) -> None:
    """Until ``count`` arm runs are FINISHED: a run being written when a signal comes is
    left KILLED, and its arm computed again on resume."""
    deadline = time.monotonic() + timeout
    while (arms := _runs("arm")).empty or (arms["status"] == "FINISHED").sum() < count:
        assert time.monotonic() < deadline, "the run never finished its first arms"
        time.sleep(0.3)


@pytest.mark.slow
def test_sigterm_kills_the_study_and_after_kill_9_the_orphan_is_resumed(
    tmp_path: Path,
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    spec = tmp_path / "killed.yaml"
    spec.write_text(yaml.safe_dump(SLOW_SPEC))
    mlflow.set_tracking_uri(uri)

    process = _start(spec, uri, tmp_path)
    _wait_for_arms(2)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert b"interrupted" in err and b"Traceback" not in err
    assert list(_runs("study")["status"]) == ["KILLED"]

    process = _start(spec, uri, tmp_path)  # resumes the killed study, then dies silently
    deadline = time.monotonic() + 60
    while list(_runs("study")["status"]) != ["RUNNING"]:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    time.sleep(1)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)
    assert list(_runs("study")["status"]) == ["RUNNING"]

    process = _start(spec, uri, tmp_path)
    _, err = process.communicate(timeout=180)
    assert process.returncode == 0, err.decode()
    assert b"kept 2 finished arms" in err
    study = _runs("study")
    assert list(study["status"]) == ["FINISHED"]
    assert study["tags.tuneworth.ended"].iloc[0] == "orphaned"
    arms = _runs("arm")
    finished = arms.loc[arms["status"] == "FINISHED", "tags.tuneworth.arm"]
    assert sorted(finished) == ["baseline", "random search, 100 trials", "standard scaling"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-5, 50) | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=4)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "name",
                        "dataset",
                        "source",
                        "target",
                        "levers",
                        "cv",
                        "folds",
                        "budget",
                        "trials",
                        "model",
                        "baseline",
                        "metric",
                        "scaling",
                        "design",
                        "seed",
                        "x",
                    ]
                ),
                inner,
                max_size=5,
            )
        ),
        max_leaves=12,
    )
)
def test_random_spec_documents_never_escape_as_unhandled_errors(document: Any) -> None:
    try:
        parse_spec(document)
    except TuneworthError as exc:
        assert "\n" not in str(exc)


CELL = st.one_of(
    st.none(),
    st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.text(alphabet='aé✓ ,"', max_size=4),
)


@pytest.mark.slow
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    headers=st.lists(st.sampled_from(["a", "b", "ß", "y", "y ", "", "id"]), min_size=1, max_size=3),
    rows=st.lists(
        st.tuples(st.lists(CELL, min_size=3, max_size=3), st.sampled_from([0, 1, "a", "b", None])),
        min_size=1,
        max_size=40,
    ),
)
def test_random_small_csv_files_end_in_a_verdict_or_a_one_line_error(
    headers: list[str], rows: list[tuple[list[Any], Any]], tmp_path: Path, tracking_uri: str
) -> None:
    import csv

    path = tmp_path / "fuzz.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow([*headers, "y"])  # the target is there; odd or repeated names may be too
        writer.writerows([*cells[: len(headers)], target] for cells, target in rows)
        # Two rows of two classes, so that some files get as far as a run.
        extra = zip(rows, "aabb", strict=False)
        writer.writerows([*cells[: len(headers)], t] for (cells, _), t in extra)
    spec = tmp_path / "fuzz.yaml"
    document = {
        "name": "fuzz",
        "dataset": {"source": str(path), "target": "y"},
        "cv": {"folds": 2, "repeats": 1, "inner_folds": 2},
        "levers": ["scaling"],
    }
    spec.write_text(yaml.safe_dump(document))
    args = ["run", str(spec), "--tracking-uri", tracking_uri, "--jobs", "1", "--quiet"]
    code = main([*args, "--report-dir", str(tmp_path / "r")])
    assert code in (0, 2)


def test_ui_listens_on_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []
    monkeypatch.setattr(os, "execve", lambda path, args, env: seen.append(list(args)))
    main(["ui", "--tracking-uri", "sqlite:////tmp/x.db"])
    command = seen[0]
    assert command[command.index("--host") + 1] == "127.0.0.1"


def test_nothing_unpickles_files() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src").rglob("*.py"))
    for call in ("pickle.load", "joblib.load", "cloudpickle.load", "yaml.load(", "read_pickle"):
        assert call not in source


@pytest.mark.slow
def test_same_seed_gives_identical_fold_scores_with_one_and_two_workers(
    tracking_uri: str,
) -> None:
    from tuneworth.comparison import run_plan
    from tuneworth.experiment import plan_experiment

    plan = plan_experiment(parse_spec({**RESUMABLE, "levers": [{"random_search": {"trials": 3}}]}))

    def scores(jobs: int) -> np.ndarray:
        return run_plan(plan, n_jobs=jobs).results["score"].to_numpy()

    np.testing.assert_array_equal(scores(1), scores(2))
