"""Optuna studies shared through a real PostgreSQL server by `tuneworth worker` processes."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import optuna
import pytest
import yaml

from tuneworth.experiment import run_experiment
from tuneworth.spec import load_spec
from tuneworth.studies import Tally, configuration, open_storage

pytestmark = pytest.mark.usefixtures("one_thread")

BUDGET = 6


def _postgres_bin() -> Path | None:
    """The directory of PostgreSQL's initdb and pg_ctl: on PATH, or Debian's versioned one."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return versions[-1].parent if versions else None


@pytest.fixture(scope="module")
def postgres(free_port: Callable[[], int]) -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 in a temporary directory, for this module only."""
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) are not on PATH nor in "
            "/usr/lib/postgresql/*/bin: apt-get install postgresql (.ci/run does)"
        )
    root = Path(tempfile.mkdtemp(prefix="tuneworth-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root
        name = "postgres" if "postgres" in {u.pw_name for u in pwd.getpwall()} else "nobody"
        user = pwd.getpwnam(name)
        os.chown(root, user.pw_uid, user.pw_gid)
        as_user = ["runuser", "-u", name, "--"]
    data, port = root / "data", free_port()
    quiet: dict[str, Any] = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust"]
    subprocess.run([*as_user, *initdb, "--no-sync", "-E", "UTF8"], check=True, **quiet)
    pg_ctl = [*as_user, str(bindir / "pg_ctl"), "-D", str(data)]
    # -F: no fsync, the data dies with the test anyway; -k: its socket stays in the tmp dir.
    options = f"-h 127.0.0.1 -p {port} -k {root} -F"
    started = subprocess.run(
        [*pg_ctl, "-l", str(root / "log"), "-w", "-t", "60", "-o", options, "start"], **quiet
    )
    if started.returncode != 0:
        log = (root / "log").read_text() if (root / "log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start:\n{log}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "-w", "stop"], **quiet)
        shutil.rmtree(root, ignore_errors=True)


def _spec(path: Path, name: str, storage: str) -> Path:
    """Two outer folds, so two studies; random forests, so that a trial takes a moment."""
    document = {
        "name": name,
        "dataset": {"source": "sklearn:breast_cancer"},
        "cv": {"folds": 2, "repeats": 1, "inner_folds": 2},
        "baseline": {"model": "random_forest", "params": {"n_estimators": 25}},
        "levers": [{"optuna": {"trials": BUDGET, "storage": storage, "heartbeat": 1}}],
        "seed": 5,
    }
    path.write_text(yaml.safe_dump(document))
    return path


def _worker(spec: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tuneworth.cli", "worker", str(spec), "--quiet"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _names(storage: Any, prefix: str = "killed") -> list[str]:
    return [n for n in optuna.get_all_study_names(storage) if n.startswith(f"{prefix}/")]


def _trials(storage: Any, prefix: str) -> dict[str, list[Any]]:
    studies = {n: optuna.load_study(study_name=n, storage=storage) for n in _names(storage, prefix)}
    return {n: study.get_trials() for n, study in studies.items()}


@pytest.mark.slow
def test_a_worker_killed_mid_search_loses_no_trial_and_none_counts_twice(
    postgres: str, tmp_path: Path, tracking_uri: str
) -> None:
    from optuna.trial import TrialState

    spec = _spec(tmp_path / "spec.yaml", "killed", postgres)
    storage = open_storage(postgres)
    doomed, survivor = _worker(spec), _worker(spec)
    tag = f":{doomed.pid}"
    try:
        deadline = time.monotonic() + 60
        while not any(  # until the survivor works on the studies too
            not t.user_attrs.get("worker", tag).endswith(tag)
            for ts in _trials(storage, "killed").values()
            for t in ts
        ):
            assert doomed.poll() is None, "the doomed worker finished before it was killed"
            assert time.monotonic() < deadline, "the workers never got going"
            time.sleep(0.05)
        studies = [optuna.load_study(study_name=n, storage=storage) for n in _names(storage)]
        killed: list[tuple[str, int]] = []
        while not killed:  # then kill the doomed one the moment it is seen inside a trial
            assert doomed.poll() is None, "the doomed worker finished before it was killed"
            assert time.monotonic() < deadline, "the doomed worker was never seen in a trial"
            for study in studies:
                if _running(study, tag):
                    # Frozen first, so the trial seen cannot complete before the kill lands;
                    # if it completed meanwhile, thaw the worker and look again.
                    doomed.send_signal(signal.SIGSTOP)
                    _until_stopped(doomed.pid)
                    mine = _running(study, tag)
                    if not mine:
                        doomed.send_signal(signal.SIGCONT)
                        continue
                    doomed.send_signal(signal.SIGKILL)
                    killed = [(study.study_name, t.number) for t in mine]
                    break
        doomed.wait()
        assert survivor.wait(timeout=180) == 0, survivor.stderr.read().decode()  # type: ignore[union-attr]
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.kill()

    assert len(killed) == 1, killed
    killed_study, killed_number = killed[0]
    studies = _trials(storage, "killed")
    assert len(studies) == 2  # one per outer fold
    for name, trials in studies.items():
        tally = Tally.of(trials, BUDGET)
        assert len(tally.spent) == BUDGET  # exactly the budget of evaluated configurations
        assert all(t.state == TrialState.COMPLETE for t in tally.spent)
        assert len({configuration(t) for t in tally.spent}) == BUDGET  # none counted twice
        assert not [t for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
        finished = [t for t in trials if t.state == TrialState.COMPLETE]
        assert len(finished) == BUDGET  # and no configuration evaluated twice
        if name != killed_study:
            continue
        dead = next(t for t in trials if t.number == killed_number)
        assert dead.state == TrialState.FAIL  # failed by the survivor, via the heartbeat
        assert "error" not in dead.user_attrs
        assert dead not in tally.spent
        retry = next(t for t in tally.spent if configuration(t) == killed_number)
        assert retry.system_attrs["retry_history"] == [killed_number]
        assert retry.user_attrs["worker"].endswith(f":{survivor.pid}")
        assert dead.params.items() <= retry.params.items()  # all it had suggested, if any

    # The run process finds every budget spent: it evaluates nothing more and reads the
    # trials and the best configurations from the studies. (When the search is the best arm,
    # its data-size curve searches subsamples in studies of their own: not counted here.)
    result = run_experiment(
        load_spec(spec), tracking_uri=tracking_uri, n_jobs=1, report_dir=None, fresh=True
    )
    after = _trials(storage, "killed")
    assert {n: len(after[n]) for n in studies} == {n: len(ts) for n, ts in studies.items()}
    tuned = result.results[result.results["arm"] != "baseline"]
    assert len(tuned) == 2 and (tuned["error"] == "").all()
    assert (tuned["n_fits"] == BUDGET * 2 + 1).all()  # every trial's inner fits, and the refit
    best = {
        max(t.value for t in Tally.of(ts, BUDGET).spent)
        for ts in _trials(storage, "killed").values()
    }
    assert set(tuned["inner_best_score"].round(12)) == {round(b, 12) for b in best}


def _running(study: optuna.Study, tag: str) -> list[optuna.trial.FrozenTrial]:
    """The study's trials running in the worker whose tag is ``tag`` (``:<pid>``)."""
    from optuna.trial import TrialState

    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [t for t in running if t.user_attrs.get("worker", "").endswith(tag)]


def _until_stopped(pid: int, timeout: float = 5.0) -> None:
    """Wait until the process ``pid`` is stopped (a signal is delivered asynchronously)."""
    deadline = time.monotonic() + timeout
    stat = Path(f"/proc/{pid}/stat")
    # The state follows the command name, which is in parentheses and may hold spaces.
    while stat.read_text().rpartition(")")[2].split()[0] not in ("T", "t"):
        assert time.monotonic() < deadline, f"process {pid} did not stop"
        time.sleep(0.001)
