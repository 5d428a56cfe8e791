"""Text augmentation on small training sets: does it help, and where does it stop?

The generated product reviews (tuneworth.generate.product_reviews), cut to their first n
rows, a logistic regression on the review as text, and the text_augmentation lever with 1
and 4 perturbed copies, on 5-fold x 4 outer folds. Run from the repository root:

    PYTHONPATH=src python benchmarks/text_augmentation.py 60 120 240 600
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from tuneworth.comparison import run_plan
from tuneworth.experiment import plan_experiment
from tuneworth.generate import product_reviews
from tuneworth.spec import parse_spec


def main(sizes: list[int]) -> None:
    table = product_reviews()
    with tempfile.TemporaryDirectory() as folder:
        for n in sizes:
            path = Path(folder) / f"reviews_{n}.csv"
            table.head(n).to_csv(path, index=False)
            spec = parse_spec(
                {
                    "name": "text_augmentation",
                    "dataset": {"source": str(path), "target": "satisfied"},
                    "metric": "roc_auc",
                    "cv": {"folds": 5, "repeats": 4},
                    "baseline": {"model": "linear"},
                    "levers": [
                        {"text_augmentation": {"copies": 1}},
                        {"text_augmentation": {"copies": 4}},
                    ],
                    "seed": 0,
                },
                "text_augmentation",
            )
            plan = plan_experiment(spec)
            start = time.perf_counter()
            summary = run_plan(plan).summary
            scores = summary.set_index("arm")["score_mean"]
            print(f"{n} rows ({n * 4 // 5} per training fold), {time.perf_counter() - start:.0f} s")
            for row in summary.itertuples():
                if row.arm != "baseline":
                    print(
                        f"  {row.arm:30s} {scores[row.arm]:.3f} vs {scores['baseline']:.3f}  "
                        f"{row.gain:+.3f} [{row.ci_low:+.3f}, {row.ci_high:+.3f}]  {row.outcome}"
                    )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [60, 120, 240, 600])
