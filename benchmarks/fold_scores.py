"""Fold scores of every scenario, to prove a refactoring leaves them unchanged.

``python benchmarks/fold_scores.py record OUT.csv [spec ...]`` runs each spec (every
``pipelines/*.yaml`` by default) through the planner and the core that ``tuneworth run`` and
:func:`tuneworth.compare` share (:func:`tuneworth.comparison.run_plan`), in one process,
with nothing tracked or written but ``OUT.csv``: one row per arm and outer
fold with its score and row counts. ``python benchmarks/fold_scores.py diff A.csv B.csv``
prints every row that differs and exits 1 if any does.

``--folds``, ``--repeats`` and ``--trials`` shrink a slow scenario (the same levers on fewer
folds or a smaller search budget); record both sides with the same options.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["spec", "arm", "fold", "repeat", "score", "n_train", "rows_removed", "rows_added"]
KEY = ["spec", "arm", "fold"]


def reduced(
    document: dict[str, Any], folds: int | None, repeats: int | None, trials: int | None
) -> dict[str, Any]:
    """The spec document with fewer outer folds, repeats or trials, where asked."""
    cv = dict(document.get("cv") or {})
    if folds is not None:
        cv["folds"] = folds
    if repeats is not None:
        cv["repeats"] = repeats
    budget = dict(document.get("budget") or {})
    if trials is not None:
        budget["trials"] = trials
    return {**document, "cv": cv, **({"budget": budget} if budget else {})}


def fold_scores(path: Path, **reduce: int | None) -> pd.DataFrame:
    """One scenario's fold scores, computed without tracking or report."""
    from tuneworth.comparison import run_plan
    from tuneworth.experiment import plan_experiment
    from tuneworth.spec import parse_spec

    document = reduced(yaml.safe_load(path.read_text(encoding="utf-8")), **reduce)
    frame = run_plan(plan_experiment(parse_spec(document, str(path))), n_jobs=1).results
    frame.insert(0, "spec", path.stem)
    return frame[COLUMNS]


def record(out: Path, specs: list[Path], **reduce: int | None) -> None:
    frames = []
    for path in specs:
        started = time.perf_counter()
        frames.append(fold_scores(path, **reduce))
        print(
            f"{path.stem}: {len(frames[-1])} arm-folds in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    pd.concat(frames, ignore_index=True).to_csv(out, index=False, float_format="%.17g")


def diff(before: Path, after: Path) -> int:
    """Print the rows of ``before`` and ``after`` that differ; the number of them."""
    a = pd.read_csv(before).set_index(KEY)
    b = pd.read_csv(after).set_index(KEY)
    missing = a.index.symmetric_difference(b.index)
    for key in missing:
        print(f"only in {'before' if key in a.index else 'after'}: {key}")
    shared = a.index.intersection(b.index)
    a, b = a.loc[shared], b.loc[shared]
    same = (a == b) | (a.isna() & b.isna())
    changed = ~same.all(axis=1)
    for key in a.index[changed]:
        print(f"{key}: before {a.loc[key].to_dict()} after {b.loc[key].to_dict()}")
    print(
        f"{len(shared)} arm-folds compared, {int(changed.sum())} differ, {len(missing)} unmatched"
    )
    return int(changed.sum()) + len(missing)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("out", type=Path)
    rec.add_argument("specs", type=Path, nargs="*")
    rec.add_argument("--folds", type=int)
    rec.add_argument("--repeats", type=int)
    rec.add_argument("--trials", type=int)
    cmp = sub.add_parser("diff")
    cmp.add_argument("before", type=Path)
    cmp.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "diff":
        return 1 if diff(args.before, args.after) else 0
    specs = args.specs or sorted((ROOT / "pipelines").glob("*.yaml"))
    record(args.out, specs, folds=args.folds, repeats=args.repeats, trials=args.trials)
    return 0


if __name__ == "__main__":
    sys.exit(main())
