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
from typing import Any

import numpy as np
import pandas as pd

from tuneworth.design import BASELINE
from tuneworth.formatting import NO_DIFFERENCE, interval, magnitude, no_spread, reach, signed
from tuneworth.levers import FAMILIES
from tuneworth.metrics import Metric
from tuneworth.stats import (
    Comparison,
    Outcome,
    Recommendation,
    cheapest_equivalent,
    corrected_ttest,
    folds_per_repeat,
    is_noise,
    paired,
    shapley,
    summarise,
)

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

    @classmethod
    def of(cls, arm: Any) -> ArmInfo:
        """The information of an arm (:class:`tuneworth.design.Arm`, or anything with
        its ``name``, ``family`` and ``lever``)."""
        return cls(arm.name, arm.family, arm.lever)


@dataclass(frozen=True)
class Effect:
    """One lever's or family's gain, with its 95% interval, p-value and cost multiplier.

    ``gain`` is positive when the lever made things better, whichever way the metric
    points. ``outcome`` is ``better``, ``worse`` or ``within noise``; ``cost_factor`` is how
    many times the fit cost of the arm without this lever the arm with it spent;
    ``detectable`` is the smallest gain the folds detect (80% power at 5%), and
    ``folds_better`` of ``folds`` paired folds the lever won, ``folds_worse`` it lost (the
    rest are ties, common when the baseline scores the best possible on some folds).
    """

    name: str
    family: str
    gain: float
    ci_low: float
    ci_high: float
    p_value: float
    cost_factor: float
    outcome: str
    detectable: float = math.nan
    folds_better: int = 0
    folds: int = 0
    folds_worse: int = 0

    @property
    def on_every_fold(self) -> bool:
        """Whether the lever won every paired fold, or lost every one (:func:`swept`)."""
        return swept(self.gain, self.folds, self.folds_better, self.folds_worse)


def swept(gain: float, folds: int, better: int, worse: int) -> bool:
    """Whether a gain was won on every one of ``folds`` paired folds (``better`` of them),
    or, for a loss, lost on every one (``worse``); a tie on any fold is neither.

    >>> swept(0.01, 5, 5, 0), swept(-0.0004, 10, 0, 3), swept(-0.0004, 10, 0, 10)
    (True, False, True)
    """
    if folds < 2 or gain == 0:
        return False
    return (better if gain > 0 else worse) == folds


@dataclass(frozen=True)
class Verdict:
    """Everything an experiment concluded; ``summary`` has one row per arm.

    ``cheapest`` is the cheapest arm as good as the best (``recommendation`` says by which
    rule), "" when every arm failed a fold. ``cut`` are the arms ``cut_by`` (a time budget)
    kept from finishing every fold: they are not in ``summary``.
    """

    metric: Metric
    design: str
    summary: pd.DataFrame
    best: str
    cheapest: str
    effects: tuple[Effect, ...]
    sentences: tuple[str, ...] = ()
    tuning: pd.DataFrame = field(default_factory=pd.DataFrame)
    recommendation: Recommendation | None = None
    folds_per_repeat: int = 1
    cut: tuple[str, ...] = ()
    cut_by: str = ""

    @property
    def convention(self) -> str:
        """The metric, its direction and what a gain is, said once above the table."""
        return (
            f"{self.metric.label} ({self.metric.direction}); gain = improvement over the "
            "baseline, positive is better"
        )


def decide(
    results: pd.DataFrame,
    arms: Sequence[ArmInfo],
    metric: Metric,
    design: str,
    tuning: pd.DataFrame | None = None,
    *,
    cut: Sequence[str] = (),
    cut_by: str = "",
) -> Verdict:
    """Compare every arm with the baseline on the paired folds and say what it means.

    ``tuning`` is the search comparison of :func:`tuneworth.strategies.compare_strategies`
    (trials to match grid search, optimism gap), when the experiment has searches.
    ``cut`` names the arms ``cut_by`` (e.g. "the 10 min time budget") stopped: ``arms``
    holds only those that finished, and the verdict says which were cut.
    """
    summary = summarise(results, [a.name for a in arms], BASELINE, metric.sign)
    info = {a.name: a for a in arms}
    summary.insert(1, "family", [info[a].family for a in summary["arm"]])
    summary.insert(2, "lever", [info[a].lever for a in summary["arm"]])
    complete = summary[summary["n_failed_folds"] == 0]
    ranked = (complete if not complete.empty else summary).sort_values(
        "gain", ascending=False, kind="stable"
    )
    best = str(ranked["arm"].iloc[0])
    recommendation = cheapest_equivalent(results, summary, BASELINE, metric.sign)
    cheapest = recommendation.arm if recommendation is not None else ""
    if design == "ladder":
        effects = _ladder_steps(results, summary, arms, metric)
    elif design == "factorial":
        effects = _shapley_shares(results, summary, arms, info[best], metric)
    else:
        effects = _arm_effects(summary)
    verdict = Verdict(
        metric,
        design,
        summary,
        best,
        cheapest,
        effects,
        tuning=_or_empty(tuning),
        recommendation=recommendation,
        folds_per_repeat=folds_per_repeat(results),
        cut=tuple(cut),
        cut_by=cut_by,
    )
    return replace(verdict, sentences=tuple(_sentences(verdict)))


def _or_empty(frame: pd.DataFrame | None) -> pd.DataFrame:
    return frame if frame is not None else pd.DataFrame()


def _effect(name: str, family: str, c: Comparison, cost_factor: float) -> Effect:
    """A step or share from its paired comparison (gains: positive is better)."""
    if math.isnan(c.ci_low) or c.ci_low <= 0 <= c.ci_high:
        outcome = Outcome.NOISE
    else:
        outcome = Outcome.of_gain(c.delta)
    return Effect(
        name,
        family,
        c.delta,
        c.ci_low,
        c.ci_high,
        c.p_value,
        cost_factor,
        outcome,
        c.detectable,
        c.positive,
        c.n_folds,
        c.negative,
    )


def _arm_effects(summary: pd.DataFrame) -> tuple[Effect, ...]:
    """One-at-a-time: each arm against the baseline, significance after Holm."""
    return tuple(
        Effect(
            row["arm"],
            row["family"],
            row["gain"],
            row["ci_low"],
            row["ci_high"],
            row["p_holm"],
            row["cost_ratio"],
            row["outcome"],
            row["detectable"],
            row["folds_better"],
            row["folds_paired"],
            row["folds_worse"],
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
        c = paired(results, arm.name, below.name, metric.sign)
        added = arm.lever.removeprefix(below.lever).removeprefix(" + ")
        factor = float(cost[arm.name] / cost[below.name]) if cost[below.name] > 0 else math.nan
        effects.append(_effect(f"+ {added}", arm.families[-1], c, factor))
    return tuple(effects)


def _shapley_shares(
    results: pd.DataFrame,
    summary: pd.DataFrame,
    arms: Sequence[ArmInfo],
    best: ArmInfo,
    metric: Metric,
) -> tuple[Effect, ...]:
    """Shapley shares of the best arm's gain over the baseline, one per family it applies.

    Shapley values are linear in the scores, so the shares are computed fold by fold (on
    the scores times the metric's sign, so a share is a gain) and each gets the same
    corrected paired interval as an arm.
    """
    players = list(best.families)
    if not players:
        return ()
    scores = results.pivot(index="fold", columns="arm", values="score")
    by_families = {frozenset(a.families): a.name for a in arms}
    values = {
        s: metric.sign * scores[name].to_numpy()
        for s, name in by_families.items()
        if s <= set(players)
    }
    shares = shapley(values, players)
    sizes = results.groupby("fold")[["n_train", "n_test"]].first().mean()
    cost = summary.set_index("arm")["fit_cpu_seconds"]
    effects = []
    for family in players:
        c = corrected_ttest(shares[family], sizes["n_train"], sizes["n_test"])
        without = by_families[frozenset(players) - {family}]
        factor = float(cost[best.name] / cost[without]) if cost[without] > 0 else math.nan
        effects.append(_effect(family, family, c, factor))
    return tuple(effects)


def ratio(value: float) -> str:
    """A cost ratio as people say it: ``1.8x``, ``24x``, ``114x``."""
    if math.isnan(value):
        return ""
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def _num(value: float) -> str:
    return signed(value, missing="n/a")


def _interval(low: float, high: float) -> str:
    text = interval(low, high)
    return f" {text}" if text else ""


def describe_outcome(e: Effect) -> str:
    """The outcome in words; within noise always says what the folds could have seen.

    ``better``, ``worse``, ``within noise (could detect ≥ 0.045)``, or for a lever that won
    (or lost) on every fold ``better on 5 of 5 folds, but the design cannot separate it
    from noise (could detect ≥ 0.045)``. A lever that scored the same as its reference on
    every fold is ``no difference on any fold``: with no spread over the folds there is no
    noise to be within, and nothing the folds could detect to report.
    """
    if not is_noise(e.outcome):
        return e.outcome
    if math.isnan(e.detectable):
        return e.outcome
    if no_spread(e.detectable) and e.gain == 0:
        return NO_DIFFERENCE
    seen = reach(e.detectable, e.gain)
    holm = " after Holm" if e.outcome == Outcome.NOISE_AFTER_HOLM else ""
    if e.on_every_fold:
        side = Outcome.of_gain(e.gain)
        return (
            f"{side} on {e.folds} of {e.folds} folds, but the design cannot separate it from "
            f"noise{holm} ({seen})"
        )
    return f"{Outcome.NOISE}{holm} ({seen})"


def _describe(e: Effect, unit: str) -> str:
    """``grid search gains +0.017 ROC-AUC [+0.005, +0.028], better, at 114x the fit cost``.

    Gains are positive when better, for losses too (``+0.05 log loss`` is 0.05 less loss).
    """
    cost = f", at {ratio(e.cost_factor)} the fit cost" if ratio(e.cost_factor) else ""
    interval = _interval(e.ci_low, e.ci_high)
    return f"{e.name} gains {_num(e.gain)} {unit}{interval}, {describe_outcome(e)}{cost}"


def _sentences(v: Verdict) -> list[str]:
    unit = v.metric.label
    said: list[str] = []
    if v.cut:
        sep = "; " if any("," in arm for arm in v.cut) else ", "  # 'optuna TPE, 40 trials'
        said.append(
            f"Cut by {v.cut_by or 'the time budget'}: {sep.join(v.cut)} "
            "(not compared: a paired comparison needs every fold)."
        )
    said += _saturation_sentences(v)
    if v.design == "one_at_a_time":
        for family in FAMILIES:
            mine = [e for e in v.effects if e.family == family]
            ran = [e for e in mine if e.outcome != Outcome.FAILED]
            if ran:
                paid = [e for e in ran if e.outcome == Outcome.BETTER] or ran
                top = max(paid, key=lambda e: e.gain)
                best_of = f" (best of {len(mine)})" if len(mine) > 1 else ""
                said.append(f"{family.capitalize()}{best_of}: {_describe(top, unit)}.")
            elif mine:
                said.append(f"{family.capitalize()}: every arm failed (see below).")
    elif v.design == "ladder":
        said += [f"Ladder step {_describe(e, unit)}, given the steps before it." for e in v.effects]
    elif v.effects:
        total = float(v.summary.set_index("arm")["gain"][v.best])
        parts = "; ".join(_describe(e, unit) for e in v.effects)
        said.append(
            f"The best arm, {v.best}, gained {_num(total)} {unit} over the baseline. "
            f"Its Shapley shares by family: {parts}."
        )
    said.append(_tuning_sentence(v))
    said += _search_sentences(v)
    said += _power_sentences(v)
    said.append(_cheapest_sentence(v))
    failed = v.summary[v.summary["n_failed_folds"] > 0]
    for row in failed.to_dict("records"):
        scope = (
            "every fold" if row["outcome"] == Outcome.FAILED else f"{row['n_failed_folds']} folds"
        )
        rest = (
            "" if row["outcome"] == Outcome.FAILED else "; its numbers use the folds that finished"
        )
        said.append(f"Incomplete: '{row['arm']}' failed on {scope}{rest}: {row['error']}")
    return said


def _tuning_sentence(v: Verdict) -> str:
    """The answer to the question the tool exists for."""
    unit = v.metric.label
    searches = v.summary[v.summary["family"].str.split("+").map(lambda f: "tuning" in f)]
    if len(searches) and (searches["outcome"] == Outcome.FAILED).all():
        first = searches.iloc[0]
        return (
            f"Tuning cannot be judged here: every search failed on every fold, so nothing "
            f"says whether it pays. The first error ({first['arm']}): {first['error']}"
        )
    tuning = [e for e in v.effects if e.family == "tuning" and e.outcome != Outcome.FAILED]
    others = [e for e in v.effects if e.family != "tuning" and e.outcome == Outcome.BETTER]
    if not tuning:
        tuned_arms = v.summary["family"].str.contains("tuning").any()
        if v.design == "factorial" and tuned_arms:
            return f"Tuning is not worth it here: the best arm ({v.best}) does not tune."
        if v.cut:
            return (
                f"No tuning arm finished within {v.cut_by or 'the time budget'}, so this "
                "experiment cannot say whether tuning pays: give a longer --time-budget."
            )
        return "No tuning lever ran, so this experiment cannot say whether tuning pays."
    # The best search that beat the baseline beyond the noise, else the best search at all.
    paid = [e for e in tuning if e.outcome == Outcome.BETTER] or tuning
    top = max(paid, key=lambda e: e.gain)
    rival = max(others, key=lambda e: e.gain, default=None)
    if top.outcome != Outcome.BETTER:
        instead = (
            f" Instead, {rival.name} paid ({_num(rival.gain)} {unit}, at "
            f"{ratio(rival.cost_factor)} the fit cost): spend the effort there."
            if rival is not None
            else ""
        )
        if top.outcome == Outcome.WORSE:
            why = "it made things worse"
        elif no_spread(top.detectable) and top.gain == 0:
            why = "the best search scored the same as the baseline on every fold"
        else:
            why = "its gain is inside the noise"
        return f"Tuning is not worth it here: {why} ({_describe(top, unit)}).{instead}"
    if rival is not None and rival.gain >= top.gain:
        cheaper = " and for less compute" if rival.cost_factor < top.cost_factor else ""
        return (
            f"Tuning pays ({_describe(top, unit)}), but {rival.name} paid more{cheaper} "
            f"({_num(rival.gain)} {unit}, at {ratio(rival.cost_factor)} the fit cost): "
            "spend the effort there first."
        )
    unsure = [
        e
        for e in v.effects
        if e.family != "tuning" and e.outcome != Outcome.FAILED and e.gain > top.gain
    ]
    if unsure:
        maybe = max(unsure, key=lambda e: e.gain)
        return (
            f"Tuning pays here ({_describe(top, unit)}). The larger gain of {maybe.name} "
            f"({_num(maybe.gain)} {unit}, at {ratio(maybe.cost_factor)} the fit cost) is not "
            "beyond the noise: more repeats of the outer folds would tell which is worth more."
        )
    return f"Tuning is worth it here: {_describe(top, unit)}, more than any other lever."


def _saturation_sentences(v: Verdict) -> list[str]:
    """When the baseline already scores the best the metric allows, or within rounding of
    it, said once before the levers: no lever has room to gain, whatever the folds show."""
    headroom = _headroom(v)
    if math.isnan(headroom):
        return []
    best = float(v.metric.best or 0.0)
    score = float(v.summary.set_index("arm")["score_mean"][BASELINE])
    unit = v.metric.label
    if headroom == 0:
        return [
            f"The baseline already scores the best possible {unit}, {best:.3f}, on every "
            "fold: no lever can beat it, and the folds cannot tell an arm that matches it "
            "from the baseline."
        ]
    if f"{score:.3f}" == f"{best:.3f}":
        return [
            f"The baseline already scores {score:.3f} {unit}, within "
            f"{magnitude(headroom)} of the best possible: no lever has more than that "
            "to gain."
        ]
    return []


def _headroom(v: Verdict) -> float:
    """How far the baseline's mean score is from the best the metric allows; zero when it
    scores the best on every fold (no fold scores beyond the best, so a mean there is the
    best everywhere); NaN when the metric has no best or the baseline failed."""
    scores = v.summary.set_index("arm")["score_mean"]
    if v.metric.best is None or BASELINE not in scores.index:
        return math.nan
    return abs(v.metric.best - float(scores[BASELINE]))


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
        said.append(_optimism_sentence(float(gaps.mean()), v.metric))
    return said


def _optimism_sentence(gap: float, metric: Metric) -> str:
    """The optimism gap in words. ``gap`` is a gain (best inner score minus outer score,
    times the metric's sign): positive when inner CV promised better than the outer folds
    gave. Said in the metric's own terms, so a loss reads the right way round."""
    unit = metric.label
    if f"{abs(gap):.3f}" == "0.000":
        return (
            "Optimism gap of the searches: none to three decimals; inner CV promised what the "
            "outer folds gave (mean over searches)."
        )
    higher = metric.sign * gap > 0  # the inner score, in the metric's own units
    promise = (
        f"inner CV promised {abs(gap):.3f} {unit} {'more' if higher else 'less'} "
        f"({'better' if gap > 0 else 'worse'}) than the outer folds then gave"
    )
    if gap > 0:
        why = "the numbers above are nested, so no such optimism is in them."
    else:
        why = "inner CV was pessimistic here; the numbers above are nested, free of either bias."
    return f"Optimism gap of the searches: {promise} (mean over searches); {why}"


def _power_sentences(v: Verdict) -> list[str]:
    """What the design could detect, said when it matters: the arms within noise whose
    gain is smaller than the folds could detect, and the repeats that would settle them."""
    summary = v.summary
    compared = summary[(summary["arm"] != BASELINE) & summary["detectable"].notna()]
    weak = compared[compared["underpowered"].astype(bool)]
    if weak.empty:
        return []
    folds = int(compared["folds_paired"].max())
    # An arm that gained the same on every fold has a detectable effect of zero: it says
    # nothing of what the design can detect, and would open the span at 0.000.
    measured = compared["detectable"][compared["detectable"] > 0]
    low, high = magnitude(float(measured.min())), magnitude(float(measured.max()))
    span = low if low == high else f"{low} to {high}"
    k = v.folds_per_repeat
    said = (
        f"Power: these {folds} outer folds detect a gain of at least {span} {v.metric.label}"
        f"{', depending on the arm' if ' to ' in span else ''} (80% power at α = 0.05, "
        "corrected t-test), so 'within noise' does not mean 'no "
        f"effect' for {len(weak)} arm{'s' if len(weak) > 1 else ''}."
    )
    # Only a gain is worth more folds to confirm: an arm below the baseline would not pay
    # however precisely it were measured.
    gaining = weak[weak["gain"] > 0]
    ordered = gaining.sort_values("gain", ascending=False).to_dict("records")
    reachable = [r for r in ordered if math.isfinite(r["repeats_needed"])]
    never = [r for r in ordered if not math.isfinite(r["repeats_needed"])]
    if reachable:
        said += " More repeats would detect the gains seen: " + "; ".join(
            f"{r['arm']} ({_num(r['gain'])}) with {r['repeats_needed']:g} repeats of the "
            f"{k}-fold split ({r['repeats_needed'] * k:g} folds)"
            for r in reachable
        )
        said += "."
    if never:
        names = ", ".join(f"{r['arm']} ({_num(r['gain'])})" for r in never)
        said += (
            f" No number of repeats would detect gains as small as those of {names}: repeats "
            "shrink 1/J, not the n_test/n_train term of the corrected variance, so only more "
            "outer folds or more data could."
        )
    return [said]


def _cheapest_sentence(v: Verdict) -> str:
    """The recommendation of :func:`tuneworth.stats.cheapest_equivalent`, with its rule."""
    table = v.summary.set_index("arm")
    r = v.recommendation
    if r is None:
        return "Every arm failed on some fold, so none is recommended."
    unit = v.metric.label
    score = table["score_mean"]
    if r.reference == BASELINE and _headroom(v) == 0:
        return (
            f"Recommendation: keep the baseline ({score[BASELINE]:.3f} {unit}); it already "
            "scores the best possible on every fold."
        )
    if r.reference == BASELINE:
        everywhere = v.summary[
            v.summary["outcome"].map(is_noise).astype(bool)
            & (v.summary["folds_paired"] >= 2)
            & (v.summary["folds_better"] == v.summary["folds_paired"])
        ]
        if not everywhere.empty:
            names = ", ".join(everywhere["arm"])
            return (
                f"Recommendation: keep the baseline ({score[BASELINE]:.3f} {unit}) until more "
                f"folds settle it: no arm beat it beyond the noise, but {names} beat it on "
                "every fold, which these folds cannot separate from noise (see Power)."
            )
        return (
            f"Recommendation: keep the baseline ({score[BASELINE]:.3f} {unit}); no arm beat it "
            "beyond the noise (an arm within noise may still be better by less than the "
            "design can detect)."
        )
    also = ""
    if v.best != r.reference:
        also = f" ({v.best} scored higher, but not beyond the noise)"
    gain = float(table["gain"][r.reference])
    if r.arm == r.reference and len(table[table["outcome"] == Outcome.BETTER]) == 1:
        return (
            f"Recommendation: {r.reference} ({score[r.reference]:.3f} {unit}), the only arm "
            f"that beat the baseline beyond the noise{also}."
        )
    if r.arm == r.reference:
        others = [a for a in r.candidates if a != r.reference]
        rest = (
            f"it is also the cheapest of the arms that keep at least half its gain "
            f"({_num(gain)}) with 95% confidence (with {', '.join(others)})"
            if others
            else f"no other arm keeps half its gain ({_num(gain)}) with 95% confidence"
        )
        return (
            f"Recommendation: {r.reference} ({score[r.reference]:.3f} {unit}), the best arm "
            f"that beat the baseline{also}; {rest}."
        )
    cost = table["fold_cost"]
    share = float(cost[r.arm] / max(float(cost[r.reference]), np.finfo(float).tiny))
    return (
        f"Recommendation: {r.arm} ({score[r.arm]:.3f} {unit}), the cheapest arm as good as "
        f"the best that beat the baseline, {r.reference} ({score[r.reference]:.3f}){also}: it "
        f"keeps at least half of its gain ({_num(gain)}) with 95% confidence, at "
        f"{share:.2g}x its CPU time per fold."
    )
