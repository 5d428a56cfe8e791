"""The verdict: which levers paid, by how much, with what certainty, at what cost.

Pure: fold results and arm descriptions in, numbers and plain sentences out. The terminal
table, the report files and MLflow only read a :class:`Verdict`.

What counts as a lever's effect depends on the design: in ``one_at_a_time`` it is the arm
against the baseline (Holm-adjusted across arms); in ``ladder`` the step against the rung
below it; in ``factorial`` the family's exact Shapley share of the best arm's gain.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from tuneworth.design import BASELINE
from tuneworth.levers import FAMILIES
from tuneworth.metrics import Metric
from tuneworth.stats import cheapest_equivalent, corrected_ttest, paired, shapley, summarise

ALPHA = 0.05


@dataclass(frozen=True)
class ArmInfo:
    """What the verdict needs to know of an arm: its name and which families it applies."""

    name: str
    family: str
    lever: str

    @property
    def families(self) -> tuple[str, ...]:
        return () if self.family == BASELINE else tuple(self.family.split("+"))


@dataclass(frozen=True)
class Effect:
    """One lever's or family's gain, with its 95% interval, p-value and cost multiplier.

    ``outcome`` is ``better``, ``worse`` or ``within noise``; ``cost_factor`` is how many
    times the fit cost of the arm without this lever the arm with it spent.
    """

    name: str
    family: str
    delta: float
    ci_low: float
    ci_high: float
    p_value: float
    cost_factor: float
    outcome: str


@dataclass(frozen=True)
class Verdict:
    """Everything an experiment concluded; ``summary`` has one row per arm."""

    metric: Metric
    design: str
    summary: pd.DataFrame
    best: str
    cheapest: str
    effects: tuple[Effect, ...]
    sentences: tuple[str, ...] = ()
    tuning: pd.DataFrame = field(default_factory=pd.DataFrame)


def decide(
    results: pd.DataFrame,
    arms: Sequence[ArmInfo],
    metric: Metric,
    design: str,
    tuning: pd.DataFrame | None = None,
) -> Verdict:
    """Compare every arm with the baseline on the paired folds and say what it means.

    ``tuning`` is the search comparison of :func:`tuneworth.search.compare_strategies`
    (trials to match grid search, optimism gap), when the experiment has searches.
    """
    summary = summarise(results, [a.name for a in arms], BASELINE, metric.greater_is_better)
    info = {a.name: a for a in arms}
    summary.insert(1, "family", [info[a].family for a in summary["arm"]])
    summary.insert(2, "lever", [info[a].lever for a in summary["arm"]])
    complete = summary[summary["n_failed_folds"] == 0]
    ranked = (complete if not complete.empty else summary).sort_values(
        "score_mean", ascending=not metric.greater_is_better
    )
    best = str(ranked["arm"].iloc[0])
    cheapest = cheapest_equivalent(results, summary, metric.greater_is_better)
    if design == "ladder":
        effects = _ladder_steps(results, summary, arms, metric)
    elif design == "factorial":
        effects = _shapley_shares(results, summary, arms, info[best], metric)
    else:
        effects = _arm_effects(summary)
    verdict = Verdict(metric, design, summary, best, cheapest, effects, tuning=_or_empty(tuning))
    return replace(verdict, sentences=tuple(_sentences(verdict)))


def _or_empty(frame: pd.DataFrame | None) -> pd.DataFrame:
    return frame if frame is not None else pd.DataFrame()


def _outcome(c_low: float, c_high: float, delta: float, metric: Metric) -> str:
    if math.isnan(c_low) or c_low <= 0 <= c_high:
        return "within noise"
    return "better" if (delta > 0) == metric.greater_is_better else "worse"


def _arm_effects(summary: pd.DataFrame) -> tuple[Effect, ...]:
    """One-at-a-time: each arm against the baseline, significance after Holm."""
    return tuple(
        Effect(
            row["arm"],
            row["family"],
            row["delta"],
            row["ci_low"],
            row["ci_high"],
            row["p_holm"],
            row["cost_ratio"],
            row["outcome"],
        )
        for row in summary.to_dict("records")
        if row["arm"] != BASELINE
    )


def _ladder_steps(
    results: pd.DataFrame, summary: pd.DataFrame, arms: Sequence[ArmInfo], metric: Metric
) -> tuple[Effect, ...]:
    """Each rung against the rung below it: the marginal gain given the steps before."""
    cost = summary.set_index("arm")["fit_cpu_seconds"]
    effects = []
    for below, arm in itertools.pairwise(arms):
        c = paired(results, arm.name, below.name)
        added = arm.lever.removeprefix(below.lever).removeprefix(" + ")
        family = arm.families[-1]
        factor = float(cost[arm.name] / cost[below.name]) if cost[below.name] > 0 else math.nan
        outcome = _outcome(c.ci_low, c.ci_high, c.delta, metric)
        effects.append(
            Effect(f"+ {added}", family, c.delta, c.ci_low, c.ci_high, c.p_value, factor, outcome)
        )
    return tuple(effects)


def _shapley_shares(
    results: pd.DataFrame,
    summary: pd.DataFrame,
    arms: Sequence[ArmInfo],
    best: ArmInfo,
    metric: Metric,
) -> tuple[Effect, ...]:
    """Shapley shares of the best arm's gain over the baseline, one per family it applies.

    Shapley values are linear in the scores, so the shares are computed fold by fold and
    each gets the same corrected paired interval as an arm.
    """
    players = list(best.families)
    if not players:
        return ()
    scores = results.pivot(index="fold", columns="arm", values="score")
    by_families = {frozenset(a.families): a.name for a in arms}
    values = {s: scores[name].to_numpy() for s, name in by_families.items() if s <= set(players)}
    shares = shapley(values, players)
    sizes = results.groupby("fold")[["n_train", "n_test"]].first().mean()
    cost = summary.set_index("arm")["fit_cpu_seconds"]
    effects = []
    for family in players:
        c = corrected_ttest(shares[family], sizes["n_train"], sizes["n_test"])
        without = by_families[frozenset(players) - {family}]
        factor = float(cost[best.name] / cost[without]) if cost[without] > 0 else math.nan
        outcome = _outcome(c.ci_low, c.ci_high, c.delta, metric)
        effects.append(
            Effect(family, family, c.delta, c.ci_low, c.ci_high, c.p_value, factor, outcome)
        )
    return tuple(effects)


def ratio(value: float) -> str:
    """A cost ratio as people say it: ``1.8x``, ``24x``, ``114x``."""
    if math.isnan(value):
        return ""
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def _num(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:+.3f}"


def _interval(low: float, high: float) -> str:
    return "" if math.isnan(low) else f" [{_num(low)}, {_num(high)}]"


def _describe(e: Effect, unit: str) -> str:
    """``grid search +0.017 ROC-AUC [+0.005, +0.028], better, at 114x the fit cost``."""
    cost = f", at {ratio(e.cost_factor)} the fit cost" if ratio(e.cost_factor) else ""
    return f"{e.name} {_num(e.delta)} {unit}{_interval(e.ci_low, e.ci_high)}, {e.outcome}{cost}"


def _gain(effect: Effect, metric: Metric) -> float:
    return effect.delta if metric.greater_is_better else -effect.delta


def _sentences(v: Verdict) -> list[str]:
    unit = v.metric.label
    said: list[str] = []
    if v.design == "one_at_a_time":
        for family in FAMILIES:
            mine = [e for e in v.effects if e.family == family]
            ran = [e for e in mine if e.outcome != "failed"]
            if ran:
                paid = [e for e in ran if e.outcome == "better"] or ran
                top = max(paid, key=lambda e: _gain(e, v.metric))
                best_of = f" (best of {len(mine)})" if len(mine) > 1 else ""
                said.append(f"{family.capitalize()}{best_of}: {_describe(top, unit)}.")
            elif mine:
                said.append(f"{family.capitalize()}: every arm failed (see below).")
    elif v.design == "ladder":
        said += [f"Ladder step {_describe(e, unit)}, given the steps before it." for e in v.effects]
    elif v.effects:
        total = float(v.summary.set_index("arm")["delta"][v.best])
        parts = "; ".join(_describe(e, unit) for e in v.effects)
        said.append(
            f"The best arm, {v.best}, gained {_num(total)} {unit} over the baseline. "
            f"Its Shapley shares by family: {parts}."
        )
    said.append(_tuning_sentence(v))
    said += _search_sentences(v)
    said.append(_cheapest_sentence(v))
    failed = v.summary[v.summary["n_failed_folds"] > 0]
    for row in failed.to_dict("records"):
        scope = "every fold" if row["outcome"] == "failed" else f"{row['n_failed_folds']} folds"
        rest = "" if row["outcome"] == "failed" else "; its numbers use the folds that finished"
        said.append(f"Incomplete: '{row['arm']}' failed on {scope}{rest}: {row['error']}")
    return said


def _tuning_sentence(v: Verdict) -> str:
    """The answer to the question the tool exists for."""
    unit = v.metric.label
    searches = v.summary[v.summary["family"].str.split("+").map(lambda f: "tuning" in f)]
    if len(searches) and (searches["outcome"] == "failed").all():
        first = searches.iloc[0]
        return (
            f"Tuning cannot be judged here: every search failed on every fold, so nothing "
            f"says whether it pays. The first error ({first['arm']}): {first['error']}"
        )
    tuning = [e for e in v.effects if e.family == "tuning" and e.outcome != "failed"]
    others = [e for e in v.effects if e.family != "tuning" and e.outcome == "better"]
    if not tuning:
        tuned_arms = v.summary["family"].str.contains("tuning").any()
        if v.design == "factorial" and tuned_arms:
            return f"Tuning is not worth it here: the best arm ({v.best}) does not tune."
        return "No tuning lever ran, so this experiment cannot say whether tuning pays."
    # The best search that beat the baseline beyond the noise, else the best search at all.
    paid = [e for e in tuning if e.outcome == "better"] or tuning
    top = max(paid, key=lambda e: _gain(e, v.metric))
    rival = max(others, key=lambda e: _gain(e, v.metric), default=None)
    if top.outcome != "better":
        instead = (
            f" Instead, {rival.name} paid ({_num(rival.delta)} {unit}, at "
            f"{ratio(rival.cost_factor)} the fit cost): spend the effort there."
            if rival is not None
            else ""
        )
        why = "it made things worse" if top.outcome == "worse" else "its gain is inside the noise"
        return f"Tuning is not worth it here: {why} ({_describe(top, unit)}).{instead}"
    if rival is not None and _gain(rival, v.metric) >= _gain(top, v.metric):
        cheaper = " and for less compute" if rival.cost_factor < top.cost_factor else ""
        return (
            f"Tuning pays ({_describe(top, unit)}), but {rival.name} paid more{cheaper} "
            f"({_num(rival.delta)} {unit}, at {ratio(rival.cost_factor)} the fit cost): "
            "spend the effort there first."
        )
    unsure = [
        e
        for e in v.effects
        if e.family != "tuning"
        and e.outcome != "failed"
        and _gain(e, v.metric) > _gain(top, v.metric)
    ]
    if unsure:
        maybe = max(unsure, key=lambda e: _gain(e, v.metric))
        return (
            f"Tuning pays here ({_describe(top, unit)}). The larger gain of {maybe.name} "
            f"({_num(maybe.delta)} {unit}, at {ratio(maybe.cost_factor)} the fit cost) is not "
            "beyond the noise: more repeats of the outer folds would tell which is worth more."
        )
    return f"Tuning is worth it here: {_describe(top, unit)}, more than any other lever."


def _search_sentences(v: Verdict) -> list[str]:
    """How the model-based searches started, how fast each strategy found grid search's
    best, and how optimistic inner CV was."""
    table = v.tuning
    if table.empty:
        return []
    said = []
    startups = [
        f"{row['arm']} {row['random_startup']:g} of its {row['configurations']:g}"
        for row in table.to_dict("records")
        if math.isfinite(row.get("random_startup", math.nan))
    ]
    if startups:
        said.append(
            "Random start-up before the model proposes (a quarter of the budget, at least 2, "
            f"at most 10), per fold: {'; '.join(startups)}."
        )
    others = table[table["strategy"] != "grid_search"]
    has_grid = (table["strategy"] == "grid_search").any()
    if has_grid and not others.empty:
        parts = []
        for row in others.to_dict("records"):
            needed = row["trials_to_match_grid"]
            budget = row["configurations"]
            if math.isfinite(needed) and row["strategy"] == "halving":
                # Its last rung alone is scored on the full folds, after every candidate.
                parts.append(f"{row['arm']} in its last rung, after all its {budget:g}")
            elif math.isfinite(needed):
                parts.append(f"{row['arm']} in {needed:g} of its {budget:g}")
            else:
                parts.append(f"{row['arm']} not on most folds")
        said.append(
            "Trials needed to reach grid search's best inner score (median over folds): "
            + "; ".join(parts)
            + "."
        )
    gaps = table["optimism_gap"].dropna()
    if not gaps.empty:
        gap = gaps.mean()
        promise = (
            f"inner CV promised {gap:.3f} {v.metric.label} more than the outer folds then gave"
            if gap > 0
            else f"inner CV promised {-gap:.3f} {v.metric.label} less than the outer folds gave"
        )
        said.append(
            f"Optimism gap of the searches: {promise} (mean over searches); the numbers "
            "above are nested, so no such optimism is in them."
        )
    return said


def _cheapest_sentence(v: Verdict) -> str:
    table = v.summary.set_index("arm")
    if not v.cheapest:
        return "Every arm failed on some fold, so none is named the cheapest equivalent."
    score = table["score_mean"]
    if v.cheapest == v.best:
        return (
            f"The best arm, {v.best} ({score[v.best]:.3f} {v.metric.label}), is also the "
            "cheapest of those within noise of it."
        )
    compute = table["fit_cpu_seconds"] + table["predict_seconds"]
    share = float(compute[v.cheapest] / max(float(compute[v.best]), np.finfo(float).tiny))
    return (
        f"Cheapest arm within noise of the best ({v.best}, {score[v.best]:.3f}): "
        f"{v.cheapest} ({score[v.cheapest]:.3f}), at {share:.2g}x the best arm's compute."
    )
