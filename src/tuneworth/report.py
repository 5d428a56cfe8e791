"""What people read: the terminal table. Pure formatting of the summary."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from tuneworth.metrics import Metric


def _signed(value: float, digits: int = 3) -> str:
    return "—" if math.isnan(value) else f"{value:+.{digits}f}"


def _verdict(row: pd.Series, metric: Metric) -> str:
    if row["arm"] == "baseline" or math.isnan(row["ci_low"]):
        return ""
    if row["ci_low"] <= 0 <= row["ci_high"]:
        return "within noise"
    better = (row["delta"] > 0) == metric.greater_is_better
    return "better" if better else "worse"


def format_table(summary: pd.DataFrame, families: Sequence[str], metric: Metric) -> str:
    """A fixed-width table, one row per arm, that reads at a glance.

    ``families`` gives each row's lever family, in the order of ``summary``.
    """
    headers = (
        "arm",
        "family",
        metric.label,
        "Δ vs baseline",
        "95% CI",
        "fit cost",
        "fits",
        "verdict",
    )
    rows = []
    for family, (_, row) in zip(families, summary.iterrows(), strict=True):
        interval = (
            ""
            if math.isnan(row["ci_low"])
            else f"[{_signed(row['ci_low'])}, {_signed(row['ci_high'])}]"
        )
        failed = f" ({row['n_failed_folds']} failed)" if row["n_failed_folds"] else ""
        rows.append(
            (
                str(row["arm"]),
                family,
                f"{row['score_mean']:.3f} ± {row['score_std']:.3f}",
                "" if row["arm"] == "baseline" else _signed(row["delta"]),
                interval,
                f"{row['cost_ratio']:.1f}x" if not math.isnan(row["cost_ratio"]) else "—",
                f"{row['n_fits']}",
                _verdict(row, metric) + failed,
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    right = {2, 3, 5, 6}

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("─" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])
