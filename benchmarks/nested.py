"""Nested evaluation matters: a tuned SVM's best CV score against its nested outer score.

``python benchmarks/nested.py`` (or ``make nested``) takes the first tuning arm of a spec
(``pipelines/nested.yaml``: grid search over an RBF SVM's C and gamma on the iris data) and,
for each seed, measures two estimates of how well that tuned model does:

- non-nested: the search run by cross-validation over every row, its best CV score taken
  as the model's score, as is common;
- nested: the same search run inside each outer training fold, as tuneworth does, and
  scored on the outer test fold it never saw.

``optimism`` is non-nested minus nested, oriented so that positive means the non-nested
number flatters (for error metrics too); ``in_fold_gap`` is tuneworth's ``optimism_gap``,
the same comparison made inside each outer fold. Selecting the best of many noisy CV
scores selects luck as well (Varma and Simon 2006; Cawley and Talbot 2010).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Record = dict[str, Any]


def measure(document: dict[str, Any], seed: int, n_jobs: int = -1) -> Record:
    """Non-nested and nested scores of the spec's first tuning arm, with ``seed``."""
    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from tuneworth.evaluate import evaluate, results_frame
    from tuneworth.experiment import plan_experiment
    from tuneworth.spec import parse_spec
    from tuneworth.trials import search_outcome

    plan = plan_experiment(parse_spec({**document, "seed": seed}))
    if plan.inject is not None:
        raise SystemExit("nested.py: the spec injects defects; the non-nested search would not")
    arm = next((a for a in plan.arms if a.family == "tuning"), None)
    if arm is None:
        raise SystemExit("nested.py: the spec has no tuning lever")
    X, y, metric = plan.dataset.X, plan.dataset.y, plan.metric
    search = plan.pipelines[arm.name]
    outer = results_frame(list(evaluate({arm.name: search}, X, y, plan.splits, metric, n_jobs)))
    with threadpool_limits(limits=1):
        everything = clone(search).fit(X, y)
    non_nested = search_outcome(everything, metric.greater_is_better)["inner_best_score"]
    nested = float(outer["score"].mean())
    sign = metric.sign
    return {
        "seed": seed,
        "arm": arm.name,
        "non_nested": non_nested,
        "nested": nested,
        "optimism": sign * (non_nested - nested),
        "in_fold_gap": sign * float((outer["inner_best_score"] - outer["score"]).mean()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "pipelines" / "nested.yaml"))
    parser.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    parser.add_argument("-j", "--jobs", type=int, default=-1, help="workers (default: all)")
    args = parser.parse_args(argv)
    import warnings

    import yaml

    warnings.filterwarnings("ignore")  # convergence chatter of extreme configurations
    document = yaml.safe_load(Path(args.spec).read_text(encoding="utf-8"))
    records = [measure(document, seed, args.jobs) for seed in range(args.seeds)]
    metric = document.get("metric", "default metric")
    print(f"{records[0]['arm']} on {document['dataset']['source']}, {metric}")
    print("seed  non-nested best CV  nested outer  optimism  in-fold gap")
    for r in records:
        print(
            f"{r['seed']:>4}  {r['non_nested']:>18.4f}  {r['nested']:>12.4f}  "
            f"{r['optimism']:>+8.4f}  {r['in_fold_gap']:>+11.4f}"
        )
    for key, sign in (("non_nested", ""), ("nested", ""), ("optimism", "+"), ("in_fold_gap", "+")):
        values = [r[key] for r in records]
        spread = statistics.stdev(values) if len(values) > 1 else float("nan")
        mean = statistics.mean(values)
        print(f"mean {key.replace('_', '-')}: {mean:{sign}.4f} (sd {spread:.4f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
