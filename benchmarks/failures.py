"""Failure drill: run ``tuneworth run`` against broken stores, machines and inputs.

For each fault it records the exit code, the last line printed on stderr, the seconds until
the process ended, whether a traceback was printed, and how many MLflow runs were left
RUNNING in the store. Not part of the test run (tests/test_failures.py pins the behaviour);
this is the table that compares two versions of the code::

    python benchmarks/failures.py --src src            # this checkout
    python benchmarks/failures.py --src /tmp/old/src   # another version
    python benchmarks/failures.py --src src locked_sqlite seed_too_large

Faults that need privileges (a read-only directory as root, a full disk) use ``setpriv`` and
``unshare``; they are skipped when those are not available.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SPEC: dict[str, Any] = {
    "name": "drill",
    "dataset": {"source": "sklearn:iris"},
    "cv": {"folds": 3, "repeats": 1, "inner_folds": 2},
    "levers": ["scaling"],
}
# Root ignores file permissions: the command runs without the capabilities that allow it.
DROP_DAC = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--"]


@dataclass
class Case:
    """A command line for one fault, and what to clean up afterwards."""

    args: list[str]
    store: Path | None = None
    wrap: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)
    during: Callable[[subprocess.Popen[bytes]], None] | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spec_file(tmp: Path, **changes: Any) -> str:
    document = {**SPEC, **changes}
    path = tmp / "spec.yaml"
    path.write_text(yaml.safe_dump(document))
    return str(path)


def sqlite_store(tmp: Path) -> tuple[str, Path]:
    db = tmp / "store" / "mlflow.db"
    return f"sqlite:///{db}", db


def run_args(spec: str, uri: str, tmp: Path) -> list[str]:
    return ["run", spec, "--tracking-uri", uri, "--report-dir", str(tmp / "reports"), "-j", "1"]


def _migrated(db: Path, src: str) -> None:
    """A store with MLflow's tables, made by the code under test before the fault."""
    db.parent.mkdir(parents=True, exist_ok=True)
    code = "import sys; from mlflow.tracking import MlflowClient as C; C(sys.argv[1])"
    code += ".search_experiments()"
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{db}"], check=True, env=_env(src))


def _env(src: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": src, **(extra or {})}


# --- the faults --------------------------------------------------------------------------


def closed_port(tmp: Path, src: str) -> Case:
    return Case(run_args(spec_file(tmp), f"http://127.0.0.1:{free_port()}", tmp))


def unknown_scheme(tmp: Path, src: str) -> Case:
    return Case(run_args(spec_file(tmp), "mlfow://localhost/store", tmp))


def http_not_mlflow(tmp: Path, src: str) -> Case:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_port(port)
    return Case(run_args(spec_file(tmp), f"http://127.0.0.1:{port}", tmp), background=[server])


def path_under_file(tmp: Path, src: str) -> Case:
    (tmp / "afile").write_text("x")
    return Case(run_args(spec_file(tmp), f"sqlite:///{tmp / 'afile' / 'mlflow.db'}", tmp))


def plain_directory_store(tmp: Path, src: str) -> Case:
    (tmp / "plain").mkdir()
    return Case(run_args(spec_file(tmp), str(tmp / "plain"), tmp))


def read_only_directory(tmp: Path, src: str) -> Case:
    (tmp / "ro").mkdir()
    (tmp / "ro").chmod(0o555)
    uri = f"sqlite:///{tmp / 'ro' / 'mlruns' / 'mlflow.db'}"
    return Case(run_args(spec_file(tmp), uri, tmp), wrap=DROP_DAC)


def read_only_store(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    _migrated(db, src)
    db.chmod(0o444)
    db.parent.chmod(0o555)
    return Case(run_args(spec_file(tmp), uri, tmp), store=db, wrap=DROP_DAC)


def full_disk(tmp: Path, src: str) -> Case:
    """The store on a 4 MB file system that fills up after the study run is created."""
    disk = tmp / "disk"
    disk.mkdir()
    script = (
        f"mount -t tmpfs -o size=4m tmpfs {disk} && mkdir {disk}/store && "
        f'"$@"; code=$?; cp {disk}/store/mlflow.db {tmp}/copy.db 2>/dev/null; exit $code'
    )
    uri = f"sqlite:///{disk / 'store' / 'mlflow.db'}"

    def fill(process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            # Inside the process's mount namespace: /proc/<pid>/root sees its tmpfs.
            db = Path(f"/proc/{process.pid}/root{disk}/store/mlflow.db")
            with contextlib.suppress(OSError, sqlite3.Error):
                if db.exists() and _has_study(db):
                    filler = db.parent / "filler"
                    with contextlib.suppress(OSError), filler.open("wb") as handle:
                        while True:
                            handle.write(b"\0" * 65536)
                    return
            time.sleep(0.1)

    return Case(
        run_args(spec_file(tmp), uri, tmp),
        store=tmp / "copy.db",
        wrap=["unshare", "-m", "sh", "-c", script, "sh"],
        during=fill,
    )


def _has_study(db: Path) -> bool:
    # A copy: SQLite resolves the /proc/<pid>/root link and would open this namespace's path.
    with tempfile.NamedTemporaryFile(suffix=".db") as copy:
        copy.write(db.read_bytes())
        copy.flush()
        with contextlib.closing(sqlite3.connect(copy.name, timeout=1)) as c:
            return bool(c.execute("select count(*) from runs").fetchone()[0])


def locked_sqlite(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    _migrated(db, src)
    return Case(run_args(spec_file(tmp), uri, tmp), store=db, background=[_hold_lock(db)])


def locked_mid_run(tmp: Path, src: str) -> Case:
    """Another process takes the SQLite store's lock once the study run exists, and keeps it."""
    uri, db = sqlite_store(tmp)
    _migrated(db, src)
    holders: list[subprocess.Popen[bytes]] = []

    def lock(process: subprocess.Popen[bytes]) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, sqlite3.Error):
                if _has_study(db):
                    holders.append(_hold_lock(db))
                    return
            time.sleep(0.1)

    return Case(run_args(spec_file(tmp), uri, tmp), store=db, background=holders, during=lock)


def _hold_lock(db: Path) -> subprocess.Popen[bytes]:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
            " c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); time.sleep(600)",
            str(db),
        ],
        stdout=subprocess.PIPE,
    )
    assert holder.stdout is not None
    holder.stdout.readline()
    return holder


def jobs_zero(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    return Case([*run_args(spec_file(tmp), uri, tmp)[:-2], "-j", "0"], store=db)


def scheduler_without_dask(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    shim = tmp / "nodask" / "distributed"
    shim.mkdir(parents=True)
    (shim / "__init__.py").write_text("raise ImportError('No module named distributed')\n")
    args = [*run_args(spec_file(tmp), uri, tmp), "--scheduler", "tcp://127.0.0.1:8786"]
    return Case(args, store=db, env={"PYTHONPATH": f"{tmp / 'nodask'}:{src}"})


def report_dir_under_file(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    (tmp / "afile").write_text("x")
    args = run_args(spec_file(tmp), uri, tmp)
    args[args.index("--report-dir") + 1] = str(tmp / "afile" / "reports")
    return Case(args, store=db)


def long_name(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    return Case(run_args(spec_file(tmp, name="n" * 300), uri, tmp), store=db)


def name_dot_dot(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    return Case(run_args(spec_file(tmp, name=".."), uri, tmp), store=db)


def seed_too_large(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    return Case(run_args(spec_file(tmp, seed=2**32), uri, tmp), store=db)


def billion_laughs(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    # 10**7 values under a key that takes anything, from a document of 600 bytes.
    levels = ["    a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"    a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * 10)}]" for i in range(1, 7)]
    lines = ["name: laughs", "dataset: {source: 'sklearn:iris'}", "baseline:", "  model: linear"]
    lines += ["  params:", "   class_weight:", *[" " + level for level in levels]]
    (tmp / "spec.yaml").write_text("\n".join(lines) + "\n")
    return Case(run_args(str(tmp / "spec.yaml"), uri, tmp), store=db)


def negative_c(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    spec = spec_file(tmp, baseline={"model": "linear", "params": {"C": -1}})
    return Case(run_args(spec, uri, tmp), store=db)


def n_estimators_word(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    lever = {"model": {"name": "random_forest", "params": {"n_estimators": "ten"}}}
    return Case(run_args(spec_file(tmp, levers=[lever]), uri, tmp), store=db)


def _mess(tmp: Path) -> Any:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(0)
    n = 120
    return pd.DataFrame(
        {
            "age": pd.array(rng.integers(18, 80, n), dtype="Int64"),
            "income": pd.array(rng.normal(50, 10, n), dtype="Float64"),
            "member": pd.array(rng.random(n) < 0.5, dtype="boolean"),
            "city": pd.array(rng.choice(["Oslo", "Rome", None], n), dtype="string"),
            "label": rng.choice(["yes", "no"], n),
        }
    ).assign(member=lambda f: f["member"].mask(rng.random(n) < 0.1))


def parquet_nullable(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    _mess(tmp).to_parquet(tmp / "data.parquet")
    dataset = {"source": str(tmp / "data.parquet"), "target": "label"}
    return Case(run_args(spec_file(tmp, dataset=dataset), uri, tmp), store=db)


def semicolon_csv(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    _mess(tmp).to_csv(tmp / "data.csv", sep=";", index=False)
    dataset = {"source": str(tmp / "data.csv"), "target": "label"}
    return Case(run_args(spec_file(tmp, dataset=dataset), uri, tmp), store=db)


def data_is_directory(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    (tmp / "data.csv").mkdir()
    dataset = {"source": str(tmp / "data.csv"), "target": "label"}
    return Case(run_args(spec_file(tmp, dataset=dataset), uri, tmp), store=db)


def symlink_loop(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    (tmp / "a.csv").symlink_to(tmp / "b.csv")
    (tmp / "b.csv").symlink_to(tmp / "a.csv")
    dataset = {"source": str(tmp / "a.csv"), "target": "label"}
    return Case(run_args(spec_file(tmp, dataset=dataset), uri, tmp), store=db)


def unreadable_file(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    _mess(tmp).to_csv(tmp / "data.csv", index=False)
    (tmp / "data.csv").chmod(0o000)
    dataset = {"source": str(tmp / "data.csv"), "target": "label"}
    return Case(run_args(spec_file(tmp, dataset=dataset), uri, tmp), store=db, wrap=DROP_DAC)


def duplicate_lever(tmp: Path, src: str) -> Case:
    uri, db = sqlite_store(tmp)
    return Case(run_args(spec_file(tmp, levers=["scaling", "scaling"]), uri, tmp), store=db)


CASES: dict[str, Callable[[Path, str], Case]] = {
    f.__name__: f
    for f in (
        closed_port,
        unknown_scheme,
        http_not_mlflow,
        path_under_file,
        plain_directory_store,
        read_only_directory,
        read_only_store,
        full_disk,
        locked_sqlite,
        locked_mid_run,
        jobs_zero,
        scheduler_without_dask,
        report_dir_under_file,
        long_name,
        name_dot_dot,
        seed_too_large,
        billion_laughs,
        negative_c,
        n_estimators_word,
        parquet_nullable,
        semicolon_csv,
        data_is_directory,
        symlink_loop,
        unreadable_file,
        duplicate_lever,
    )
}


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)


def running_runs(db: Path | None) -> str:
    if db is None or not db.exists():
        return "-"
    try:
        uri = f"file:{db}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=2)) as c:
            return str(c.execute("select count(*) from runs where status='RUNNING'").fetchone()[0])
    except sqlite3.Error as exc:
        return f"? ({exc})"


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    tmp = Path(tempfile.mkdtemp(prefix="drill-"))
    try:
        yield tmp
    finally:
        for path in [tmp, *tmp.rglob("*")]:
            with contextlib.suppress(OSError):
                if not path.is_symlink():
                    path.chmod(0o755)
        shutil.rmtree(tmp, ignore_errors=True)


def drill(name: str, src: str, timeout: float) -> dict[str, Any]:
    with scratch() as tmp:
        case = CASES[name](tmp, src)
        command = [*case.wrap, sys.executable, "-m", "tuneworth.cli", *case.args]
        start = time.perf_counter()
        process = subprocess.Popen(
            command,
            cwd=tmp,
            env=_env(src, case.env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        if case.during is not None:
            case.during(process)
        try:
            out, err = process.communicate(timeout=timeout)
            code: Any = process.returncode
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
            code = f"timeout {timeout:.0f}s"
        seconds = time.perf_counter() - start
        for other in case.background:
            other.kill()
            other.wait()
        text = err.decode(errors="replace")
        lines = [line for line in text.splitlines() if line.strip()]
        return {
            "case": name,
            "exit": code,
            "seconds": round(seconds, 1),
            "traceback": "Traceback" in text,
            "lines": len(lines),
            "running": running_runs(case.store),
            "failed_arms": out.decode(errors="replace").count("Incomplete"),
            "last": lines[-1][:160] if lines else "",
            "text": text,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"some of: {', '.join(CASES)}")
    parser.add_argument("--src", default="src", help="PYTHONPATH of the code under test")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    src = str(Path(args.src).resolve())
    print("| case | exit | s | traceback | stderr lines | RUNNING | incomplete | last line |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.cases or CASES:
        row = drill(name, src, args.timeout)
        last = row["last"].replace("|", "\\|")
        print(
            f"| {name} | {row['exit']} | {row['seconds']} | {row['traceback']} | "
            f"{row['lines']} | {row['running']} | {row['failed_arms']} | {last} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
