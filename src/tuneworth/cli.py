"""The ``tuneworth`` command. Heavy modules are imported inside the commands, so ``--help``
answers at once."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import errno
import gc
import os
import signal
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tuneworth.autoplan import AutoPlan
    from tuneworth.budget import Sizing, TimeBudget
    from tuneworth.data import Dataset
    from tuneworth.evaluate import FoldResult
    from tuneworth.planning import Plan

EXIT_USAGE = 2
# A failure of the machine (disk full, a path gone read-only) during the work, not bad input.
EXIT_ENVIRONMENT = 1
# A run imports scikit-learn, pandas and MLflow: hundreds of thousands of objects that live
# until the process ends, and that every full garbage collection walks again (eight of them,
# about 0.8 s, in a small experiment). A full collection after 100 young ones instead of 10
# walks them twice; the cycles fitting makes die young and are collected as often as before.
_GC_THRESHOLDS = (700, 10, 100)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        parser.print_help()
        return EXIT_USAGE
    from tuneworth.errors import TuneworthError

    # SIGTERM (a scheduler, kill) ends a run as Ctrl-C does: runs in progress marked KILLED.
    signal.signal(signal.SIGTERM, _interrupt)
    # At exit nothing left is garbage worth a last walk of the whole heap (about 1 s after
    # an experiment): the objects alive then are frozen, so the final collection skips them.
    atexit.unregister(gc.freeze)  # once, however many commands run in this process
    atexit.register(gc.freeze)
    thresholds = gc.get_threshold()
    if args.command is _run:  # measured there; workers keep the interpreter's pace
        gc.set_threshold(*_GC_THRESHOLDS)
    try:
        return int(args.command(args))
    except TuneworthError as exc:
        print(f"tuneworth: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        print(f"\ntuneworth: interrupted; {args.resumes}", file=sys.stderr)
        for note in getattr(exc, "__notes__", ()):
            print(f"tuneworth: {note}", file=sys.stderr)
        return 130
    except OSError as exc:
        # The machine, not the input: a full disk, a directory that became read-only.
        print(f"tuneworth: error: {_os_error(exc)}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    finally:
        gc.set_threshold(*thresholds)


def _one_line(exc: BaseException) -> str:
    """The message and any notes added on the way out (a run that could not be ended)."""
    parts = [str(exc), *getattr(exc, "__notes__", ())]
    return "; ".join(" ".join(part.split()) for part in parts if part)


def _os_error(exc: OSError) -> str:
    where = f" '{exc.filename}'" if exc.filename else ""
    if exc.errno == errno.ENOSPC:
        return f"no space left on the device of{where or ' a file being written'}: free some"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"cannot write{where}: {exc.strerror}; make it writable or choose another path"
    return "; ".join([f"{exc.strerror or exc}{where}", *getattr(exc, "__notes__", ())])


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tuneworth",
        description="Is hyperparameter tuning worth it on your tabular data, "
        "or would the same effort on the data buy more?",
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run an experiment spec, or a plan for a data file, and print the comparison",
        description="Run a spec (YAML), or give a data file (CSV / Parquet) and --target: "
        "the table is diagnosed and a plan of levers that fit it is built and run.",
    )
    run.add_argument(
        "spec", help="experiment spec (YAML), or a data file (CSV / Parquet) with --target"
    )
    run.add_argument("--target", metavar="COLUMN", help="the column to predict (data file only)")
    run.add_argument(
        "--tracking-uri",
        help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI or sqlite:///mlruns/mlflow.db)",
    )
    run.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=-1,
        help="parallel workers over arms x folds (default: all cores)",
    )
    run.add_argument(
        "--report-dir",
        type=Path,
        default=Path("reports"),
        help="where report.md and report.html go, under <spec>/<time>/ (default: reports)",
    )
    run.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run arms x folds on the Dask cluster at ADDRESS (e.g. tcp://10.0.0.5:8786)",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="start a new study even if the last one of this spec was interrupted",
    )
    run.add_argument(
        "--register",
        metavar="NAME",
        help="register the recommended arm's model, fitted on every row, as a version of the "
        "MLflow registered model NAME",
    )
    run.add_argument(
        "--time-budget",
        metavar="DURATION",
        help="wall time for the whole run, e.g. 90s, 10m, 1h30m: a short pilot sizes folds, "
        "trials and arms to fit, and arms still running at the end are cut "
        "(default: the spec's budget.time, else none)",
    )
    run.add_argument(
        "--no-curves",
        dest="curves",
        action="store_false",
        help="skip the marginal-gain curves (each search's score after 1, 2, 4, ... trials; "
        "the baseline and best arm on 1/8, 1/4, 1/2 of the rows): faster, and no answer to "
        "whether more tuning or more data pays most",
    )
    run.add_argument("-q", "--quiet", action="store_true", help="print only the table")
    run.set_defaults(command=_run)

    worker = commands.add_parser(
        "worker",
        help="add trials to the Optuna studies of a spec's run, from this or another machine",
        description="Join the tuning studies of a spec whose optuna lever names a database "
        "storage, and add trials until each study's budget is spent. Run it with the same "
        "spec and data as 'tuneworth run', on as many machines as you like.",
    )
    worker.add_argument("spec", help="the experiment spec the run uses")
    worker.add_argument(
        "--storage",
        metavar="URL",
        help="the spec's Optuna storage as this machine reaches it "
        "(default: the spec's, e.g. postgresql://user@host/db)",
    )
    worker.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    worker.set_defaults(
        command=_worker,
        resumes="its running trials go back in the queue, and other processes run them",
    )

    check = commands.add_parser(
        "check",
        help="validate a spec and its data, or diagnose a data file, without running",
    )
    check.add_argument("spec", help="experiment spec (YAML), or a data file with --target")
    check.add_argument("--target", metavar="COLUMN", help="the column to predict (data file only)")
    check.set_defaults(command=_check)

    init = commands.add_parser(
        "init",
        help="write a commented spec of the plan for a data file",
        description="Diagnose a data file and write the plan 'tuneworth run DATA --target "
        "COLUMN' would run, as a commented spec to edit and run.",
    )
    init.add_argument("data", help="a data file (CSV / Parquet)")
    init.add_argument("--target", metavar="COLUMN", required=True, help="the column to predict")
    init.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where the spec goes (default: pipelines/<name>.yaml, name from the data file)",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing spec file")
    init.set_defaults(command=_init)

    report = commands.add_parser(
        "report", help="rebuild the verdict and report of a finished study from MLflow"
    )
    report.add_argument("study", help="a spec file or the spec's name (its MLflow experiment)")
    report.add_argument("--run-id", help="a particular study run (default: the latest)")
    report.add_argument("--tracking-uri", help="store to read (default as for 'run')")
    report.add_argument("--report-dir", type=Path, default=Path("reports"))
    report.set_defaults(command=_report)

    ui = commands.add_parser("ui", help="serve the MLflow UI for this project's store")
    ui.add_argument("--tracking-uri", help="store to show (default as for 'run')")
    ui.add_argument("--port", type=int, default=5000)
    ui.set_defaults(command=_ui)
    parser.set_defaults(
        resumes="finished arms are kept in MLflow, and running the same command again "
        "resumes from them"
    )
    return parser


def _run(args: argparse.Namespace) -> int:
    # From the command's start, imports included: the time a user waits, and a time budget's.
    start, started = time.perf_counter(), time.time()
    from tuneworth.tracking_process import prestart

    # MLflow is imported in a process of its own while this one reads the data and plans.
    prestart()
    from tuneworth.budget import parse_duration
    from tuneworth.diagnose import Finding
    from tuneworth.experiment import plan_experiment, run_experiment
    from tuneworth.report import (
        format_row_changes,
        format_table,
        format_verdict,
        headline,
        terminal_width,
    )
    from tuneworth.spec import load_spec

    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr))
    shown_notes: set[str] = set()
    if args.time_budget is not None:
        parse_duration(args.time_budget)  # a bad value stops before any work
    findings: list[Finding] = []
    if _is_data(args.spec, args.target):
        from tuneworth.autoplan import describe_plan
        from tuneworth.diagnose import format_findings

        dataset, auto = _auto_plan(args.spec, args.target)
        for note in dataset.notes:
            say(f"note: {note}")
        shown_notes.update(dataset.notes)
        say(f"\n{format_findings(list(auto.findings))}\n")
        say(f"{describe_plan(auto)}\n")
        spec = auto.spec()
        findings = list(auto.findings)
    else:
        spec = load_spec(args.spec)
    if not args.curves:
        spec = spec.model_copy(update={"curves": False})
    plan = plan_experiment(spec)
    if not findings:
        from tuneworth.diagnose import diagnose

        # Cheap (model-based checks see 5,000 rows at most): the report shows it too.
        data = plan.dataset
        findings = diagnose(data.X, data.y, data.task, data.schema, seed=spec.seed)
    budget = None
    estimates: dict[str, float] = {}
    duration = args.time_budget or spec.budget.time
    if duration is not None:
        before = time.time() - started
        plan, budget, sizing = _fit_budget(plan, duration, started, args.jobs)
        spec, estimates = plan.spec, dict(sizing.fold_seconds)
        say(f"{_describe_sizing(plan, budget, sizing, before, time.time() - started)}\n")
        shown_notes.update(sizing.notes)
    for note in plan.dataset.notes:
        if note not in shown_notes:
            say(f"note: {note}")
    progress = (
        None
        if args.quiet
        else _Progress(spec.cv.inner_folds, tty=sys.stderr.isatty(), estimates=estimates)
    )
    try:
        with _frozen_heap():
            result = run_experiment(
                spec,
                plan=plan,
                tracking_uri=args.tracking_uri,
                n_jobs=args.jobs,
                progress=progress,
                report_dir=args.report_dir,
                fresh=args.fresh,
                scheduler=args.scheduler,
                register=args.register,
                budget=budget,
                findings=findings,
            )
    finally:
        if progress:
            progress.close()
    if result.resumed_arms:
        say(f"resumed an interrupted study: kept {len(result.resumed_arms)} finished arms")
    cut = len(result.verdict.cut)
    planned = len(plan.arms) + (len(budget.left_out) if budget is not None else 0)
    arms = f"{planned} arms" + (f" ({cut} cut by the time budget)" if cut else "")
    width = terminal_width()
    summary = (
        f"{spec.name}: {len(plan.dataset.y)} rows, {len(plan.dataset.schema.features)} features, "
        f"{plan.dataset.task}; {arms} x {len(plan.splits)} outer folds "
        f"({spec.cv.folds}-fold x {spec.cv.repeats})"
    )
    print("\n" + textwrap.fill(summary, width, subsequent_indent="    ") + "\n")
    print(textwrap.fill(headline(result.verdict), width), end="\n\n")
    print(format_table(result.verdict, width))
    rows = format_row_changes(result.verdict, result.results, width)
    if rows:
        print(f"\n{rows}")
    print()
    print(format_verdict(result.verdict, width))
    of_budget = f" of a {budget.label} time budget" if budget is not None else ""
    say(
        f"\nfinished in {time.perf_counter() - start:.1f} s{of_budget}\n"
        f"MLflow study run {result.study_run_id} (tuneworth ui to browse)"
    )
    if result.report_dir:
        say(f"report in {result.report_dir}/report.html")
    return 0


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Exempt the objects alive now from the garbage collector's full walks until the block
    ends, after one last collection so that no garbage is kept.

    When a run starts the work, the heap holds the libraries it imported, the data and the
    plan, all alive until it ends. The imports of the finishing stages (MLflow's model code,
    skops, matplotlib) then trigger a full collection that walks all of them again (0.24 s
    of a 7 s experiment); frozen, they are not walked. The libraries a command imports
    first were frozen already, before its tracking process forked
    (:func:`tuneworth.tracking_process.prestart`): the collection here walks the rest only
    (0.01 s instead of 0.06 s on a small table).
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _fit_budget(
    plan: Plan, duration: str, started: float, jobs: int
) -> tuple[Plan, TimeBudget, Sizing]:
    """Time a pilot of every arm and size folds, trials and arms to the budget ``duration``
    that began at ``started`` (:func:`time.time`); the pilot's time counts against it."""
    from dataclasses import replace

    from joblib import effective_n_jobs

    from tuneworth.budget import (
        TimeBudget,
        budget_label,
        finish_reserve,
        parse_duration,
        size_plan,
    )
    from tuneworth.experiment import plan_experiment
    from tuneworth.pilot import measure_costs

    spec = plan.spec
    seconds = parse_duration(
        duration, "--time-budget" if duration != spec.budget.time else "budget.time"
    )
    label = budget_label(seconds)
    data = plan.dataset
    costs = measure_costs(
        plan.arms, plan.pipelines, data.X, data.y, plan.splits[0].train, curves=spec.curves
    )
    sizing = size_plan(
        costs,
        seconds - (time.time() - started),
        trials=spec.budget.trials,
        inner_folds=spec.cv.inner_folds,
        workers=effective_n_jobs(jobs),
        folds=spec.cv.folds,
        repeats=spec.cv.repeats,
        label=f"{label} time",
        drop={"one_at_a_time": "costliest", "ladder": "last"}.get(spec.design, "none"),  # type: ignore[arg-type]
    )
    sized = spec.model_copy(
        update={
            "cv": spec.cv.model_copy(update={"folds": sizing.folds, "repeats": sizing.repeats}),
            "budget": spec.budget.model_copy(update={"trials": sizing.trials, "time": duration}),
        }
    )
    if (sized.cv, sized.budget.trials) != (spec.cv, spec.budget.trials):
        plan = plan_experiment(sized)
    kept = [arm for arm in plan.arms if arm.name in sizing.arms]
    plan = replace(
        plan,
        spec=sized,
        arms=kept,
        pipelines={arm.name: plan.pipelines[arm.name] for arm in kept},
        dataset=replace(plan.dataset, notes=plan.dataset.notes + sizing.notes),
    )
    deadline = started + seconds - finish_reserve(seconds)
    return plan, TimeBudget(seconds, deadline, label, sizing.left_out), sizing


def _describe_sizing(
    plan: Plan, budget: TimeBudget, sizing: Sizing, before: float, spent: float, width: int = 100
) -> str:
    """The plan a time budget allows, with each arm's estimated wall time; ``before`` the
    pilot, loading and diagnosing took seconds, ``spent`` in all."""
    from tuneworth.report import wall_time

    spec = plan.spec
    folds = len(plan.splits)
    searches = any("tuning" in arm.families for arm in plan.arms)
    trials = f", searches {sizing.trials} trials" if searches else ""
    lines = [
        f"time budget {budget.label} ({wall_time(before)} loading and diagnosing, "
        f"{wall_time(spent - before)} timing each arm): {len(plan.arms)} arms x {folds} outer "
        f"folds ({spec.cv.folds}-fold x {spec.cv.repeats}){trials}; estimated "
        f"{wall_time(sizing.seconds)} more",
    ]
    name_w = max(len(arm.name) for arm in plan.arms)
    for arm in plan.arms:
        each = sizing.fold_seconds[arm.name]
        lines.append(f"  {arm.name:<{name_w}}  ~{wall_time(each * folds)}")
    lines += [f"  note: {note}" for note in sizing.notes]
    wrapped: list[str] = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()) + 4)
        wrapped += textwrap.wrap(line, width, subsequent_indent=indent)
    return "\n".join(wrapped)


def _worker(args: argparse.Namespace) -> int:
    from tuneworth.experiment import plan_experiment
    from tuneworth.spec import load_spec
    from tuneworth.worker import shared_studies, shown_storage, work

    say = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    start = time.perf_counter()
    spec = load_spec(args.spec)
    shares = shared_studies(plan_experiment(spec), args.storage)
    urls = sorted({shown_storage(share.storage) for share in shares})
    arms = sorted({share.arm for share in shares})
    say(
        f"{spec.name}: joining {len(shares)} studies ({', '.join(arms)}; one per outer fold) "
        f"in {', '.join(urls)}"
    )
    ran = work(shares, say)
    say(
        f"budget spent in all {len(shares)} studies; this worker evaluated {ran} trials in "
        f"{time.perf_counter() - start:.1f} s"
    )
    return 0


def _is_data(path: str, target: str | None) -> bool:
    """Whether the positional argument is a data file (given with ``--target``) rather
    than a spec; a mismatch of the two is a usage error that says what to pass."""
    from tuneworth.data import GENERATED_PREFIX, SKLEARN_PREFIX
    from tuneworth.errors import TuneworthError

    data = path.startswith((SKLEARN_PREFIX, GENERATED_PREFIX)) or Path(path).suffix.lower() in (
        ".csv",
        ".tsv",
        ".txt",
        ".parquet",
        ".pq",
    )
    if data and target is None:
        raise TuneworthError(
            f"'{path}' is a data file: name the column to predict with --target COLUMN"
        )
    if not data and target is not None:
        raise TuneworthError(
            f"--target is for a data file (CSV or Parquet); the spec '{path}' names its own "
            "target in dataset.target"
        )
    return data


def _auto_plan(source: str, target: str) -> tuple[Dataset, AutoPlan]:
    """Load a data file, diagnose it and plan the levers that fit it."""
    from tuneworth.autoplan import plan_from_diagnosis
    from tuneworth.data import load_dataset
    from tuneworth.diagnose import diagnose

    dataset = load_dataset(source, target, target_setting="--target")
    findings = diagnose(dataset.X, dataset.y, dataset.task, dataset.schema)
    return dataset, plan_from_diagnosis(dataset, target, findings)


def _init(args: argparse.Namespace) -> int:
    from tuneworth.autoplan import describe_plan, spec_name, spec_yaml
    from tuneworth.diagnose import format_findings
    from tuneworth.errors import TuneworthError

    _is_data(args.data, args.target)
    output = args.output or Path("pipelines") / f"{spec_name(args.data)}.yaml"
    if output.exists() and not args.force:
        raise TuneworthError(
            f"'{output}' exists: choose another path with -o, or overwrite it with --force"
        )
    dataset, auto = _auto_plan(args.data, args.target)
    for note in dataset.notes:
        print(f"note: {note}")
    print(f"\n{format_findings(list(auto.findings))}\n")
    print(f"{describe_plan(auto)}\n")
    command = f"tuneworth init {args.data} --target {args.target}"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(spec_yaml(auto, command), encoding="utf-8")
    print(f"wrote {output}; run it with: tuneworth run {output}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from tuneworth.experiment import plan_experiment
    from tuneworth.spec import load_spec

    if _is_data(args.spec, args.target):
        return _check_data(args.spec, args.target)
    plan = plan_experiment(load_spec(args.spec))
    for note in plan.dataset.notes:
        print(f"note: {note}")
    schema = plan.dataset.schema
    for role, columns in schema.roles_by_name().items():
        print(f"{role}: {', '.join(columns)}")
    print(
        f"{args.spec}: ok; {len(plan.dataset.y)} rows, {len(schema.features)} features, "
        f"task {plan.dataset.task}, metric {plan.metric.name}, "
        f"{len(plan.arms)} arms x {len(plan.splits)} folds"
    )
    return 0


def _check_data(source: str, target: str) -> int:
    """Print a data file's columns with their roles, then its diagnosis."""

    from tuneworth.diagnose import format_findings

    dataset, auto = _auto_plan(source, target)
    for note in dataset.notes:
        print(f"note: {note}")
    schema = dataset.schema
    print(f"\n{source}: {len(dataset.y)} rows, target '{target}' ({dataset.task})")
    groups = dict(schema.roles_by_name())
    if schema.excluded:
        groups["excluded"] = tuple(schema.excluded)
    for role, columns in groups.items():
        line = f"{role} ({len(columns)}): {', '.join(columns)}"
        print(textwrap.fill(line, 100, subsequent_indent="    "))
    print(f"\n{format_findings(list(auto.findings))}")
    print(f"\nrun the plan with: tuneworth run {source} --target {target}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from tuneworth.experiment import report_from_store
    from tuneworth.report import format_table, format_verdict, headline, terminal_width

    name = args.study
    if name.endswith((".yaml", ".yml")):
        from tuneworth.spec import load_spec

        name = load_spec(name).name
    verdict, directory = report_from_store(
        name, tracking_uri=args.tracking_uri, run_id=args.run_id, report_dir=args.report_dir
    )
    width = terminal_width()
    print(textwrap.fill(headline(verdict), width), end="\n\n")
    print(format_table(verdict, width))
    print()
    print(format_verdict(verdict, width))
    print(f"\nreport in {directory}/report.html", file=sys.stderr)
    return 0


def _ui(args: argparse.Namespace) -> int:
    from tuneworth.tracking import artifact_root, newest_study, resolve_tracking_uri, run_url

    uri = resolve_tracking_uri(args.tracking_uri)
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "ui",
        "--backend-store-uri",
        uri,
        "--host",
        "127.0.0.1",  # never listen beyond this machine
        "--port",
        str(args.port),
        "--workers",
        "1",
    ]
    root = artifact_root(uri)
    if root:
        command += ["--default-artifact-root", root]
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    address = f"http://127.0.0.1:{args.port}"
    print(f"MLflow UI for {uri} at {address} (Ctrl-C to stop)", file=sys.stderr)
    newest = newest_study(uri)
    if newest:
        # The study run holds the comparison; a bare address opens a new browser on the
        # UI's GenAI home page, and the experiment from there in its GenAI view.
        experiment, experiment_id, run_id = newest
        link = run_url(address, experiment_id, run_id)
        print(f"newest study ({experiment}): {link}", file=sys.stderr, flush=True)
    os.execve(sys.executable, command, env)
    return 0


class _Progress:
    """Progress of a run on stderr: a tqdm bar that redraws in place on a terminal, else a
    line every ``every`` seconds; both name the arm running now and the time left.

    The time left is each arm's own: its remaining folds times the mean wall time of its
    finished folds (an arm not started yet: its time budget pilot's estimate in
    ``estimates``, else the mean of the arms that have), not one pace for every arm.
    """

    def __init__(
        self,
        inner_folds: int,
        *,
        tty: bool,
        every: float = 30.0,
        estimates: dict[str, float] | None = None,
    ) -> None:
        self.inner_folds = inner_folds
        # Seconds per fold of each arm before it has run one (a time budget's pilot).
        self.estimates = estimates or {}
        self.tty, self.every = tty, every
        # Search trials are counted on a terminal only: the count takes a manager process.
        self.inner = tty
        self.start = time.perf_counter()
        self.done, self.total, self.scored = 0, 0, 0
        self.shown = self.start
        self.left: Counter[str] = Counter()
        self.order: list[str] = []
        self.seconds: dict[str, list[float]] = defaultdict(list)
        self.bar: Any = None
        self.curves: tuple[float, int] | None = None  # when the data-size curves began, fits

    def begin(self, pending: Sequence[str], total: int) -> None:
        from tqdm import tqdm

        self.order = list(dict.fromkeys(pending))
        self.left = Counter(pending)
        self.total, self.done = total, total - len(pending)
        if self.tty:
            self.bar = tqdm(
                total=total,
                initial=self.done,
                unit="arm-fold",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
                bar_format="{n_fmt}/{total_fmt} arm-folds |{bar}| {elapsed}{postfix}",
            )
            self._show(force=True)

    def fold_done(self, done: int, total: int, result: FoldResult) -> None:
        self.done, self.total = done, total
        self.left[result.arm] -= 1
        self.seconds[result.arm].append(result.fit_seconds + result.predict_seconds)
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
        self._show(force=self.tty)

    def inner_scored(self) -> None:
        self.scored += 1
        self._show()

    def running(self) -> str:
        """The first arm with folds left: with one worker, the one running now."""
        return next((arm for arm in self.order if self.left[arm] > 0), "")

    def seconds_left(self) -> float | None:
        known = [sum(s) / len(s) for s in self.seconds.values()]
        if not known and not self.estimates:
            return None
        fallback = sum(known) / len(known) if known else 0.0

        def per_fold(arm: str) -> float:
            if arm in self.seconds:
                return sum(self.seconds[arm]) / len(self.seconds[arm])
            return self.estimates.get(arm, fallback)

        return sum(left * per_fold(arm) for arm, left in self.left.items() if left > 0)

    def _status(self) -> str:
        from tuneworth.report import wall_time

        trials = self.scored // self.inner_folds  # each trial scores once per inner fold
        left = self.seconds_left()
        parts = [
            f"~{wall_time(left)} left" if left is not None else "",
            f"{trials} search trials" if trials else "",
            f"now: {self.running()}" if self.running() else "",
        ]
        return "  ".join(part for part in parts if part)

    def _show(self, force: bool = False) -> None:
        now = time.perf_counter()
        # A search scores hundreds of times a second; without a terminal, a line at times.
        if not force and now - self.shown < (0.2 if self.tty else self.every):
            return
        self.shown = now
        if self.bar is not None:
            self.bar.set_postfix_str(self._status(), refresh=True)
        elif not self.tty:
            from tuneworth.report import wall_time

            elapsed = wall_time(now - self.start)
            print(
                f"progress: {self.done}/{self.total} arm-folds, {elapsed} elapsed, "
                f"{self._status()}",
                file=sys.stderr,
                flush=True,
            )

    def curves_begin(self, what: str, total: int) -> None:
        """The data-size curves start (:class:`tuneworth.comparison.CurveProgress`): one
        line says what runs, then a bar (or a line at times) counts their fits."""
        from tqdm import tqdm

        from tuneworth.report import terminal_width

        self.close()
        self.curves = (time.perf_counter(), total)
        # The count and its unit stay on one line: joined by a no-break space while wrapping.
        said = f"{what}: {total}\N{NO-BREAK SPACE}fits"
        line = textwrap.fill(said, terminal_width(), subsequent_indent="    ")
        print(line.replace("\N{NO-BREAK SPACE}", " "), file=sys.stderr, flush=True)
        if self.tty:
            self.bar = tqdm(
                total=total,
                unit="fit",
                file=sys.stderr,
                dynamic_ncols=True,
                leave=False,
                bar_format="{n_fmt}/{total_fmt} curve fits |{bar}| {elapsed}{postfix}",
            )

    def curve_done(self, done: int, total: int, label: str) -> None:
        now = time.perf_counter()
        if self.bar is not None:
            self.bar.update(done - self.bar.n)
            self.bar.set_postfix_str(f"done: {label}", refresh=True)
        elif now - self.shown >= self.every or done == total:
            from tuneworth.report import wall_time

            self.shown = now
            began = self.curves[0] if self.curves else self.start
            print(
                f"progress: {done}/{total} curve fits, {wall_time(now - began)} elapsed",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


if __name__ == "__main__":
    sys.exit(main())
