"""How the numbers of a verdict are written: gains with their sign, intervals, what the
folds could detect.

The one place a gain becomes text, so that the terminal, the report files, the plots and
MLflow say the same thing. A value that rounds to zero prints as ``0.000``, without a sign:
``-0.000`` would announce a loss the digits do not show, ``+0.000`` a gain. A gain that is
the same on every fold has no spread, so neither its interval nor the smallest effect the
folds could detect means anything: both are said in words instead of as zeros.
"""

from __future__ import annotations

import math

# Gains are said to three decimals: the metrics are scores between 0 and 1 or errors in the
# target's units, and the folds rarely resolve less.
DIGITS = 3


def signed(value: float, digits: int = DIGITS, missing: str = "") -> str:
    """A gain with its sign, ``+0.017`` or ``-0.004``; ``0.000`` when it rounds to zero.

    ``missing`` stands for NaN (nothing was measured).

    >>> signed(0.0174), signed(-0.0174), signed(-0.0004), signed(0.0)
    ('+0.017', '-0.017', '0.000', '0.000')
    >>> signed(float("nan"), missing="n/a")
    'n/a'
    """
    if math.isnan(value):
        return missing
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def signed_small(value: float, missing: str = "") -> str:
    """A signed gain that may be small (a gain per 1,000 rows of a large table): three
    decimals, or two significant digits when three decimals would round it away.

    >>> signed_small(0.0125), signed_small(0.000042), signed_small(-0.000042), signed_small(0.0)
    ('+0.013', '+4.2e-05', '-4.2e-05', '0.000')
    """
    if math.isnan(value):
        return missing
    if value == 0 or abs(value) >= 10**-DIGITS:
        return signed(value)
    return f"{value:+.2g}"


def magnitude(value: float) -> str:
    """A size without a sign (a detectable effect, what is left to gain): three decimals,
    or up to two significant digits, written out, when three decimals would show ``0.000``
    for a size that is not zero.

    >>> magnitude(0.0284), magnitude(0.00042), magnitude(0.00009), magnitude(0.0)
    ('0.028', '0.00042', '0.00009', '0.000')
    """
    if value == 0 or abs(value) >= 0.5 * 10**-DIGITS:
        return f"{value:.{DIGITS}f}"
    decimals = 1 - math.floor(math.log10(abs(value)))
    return f"{value:.{decimals}f}".rstrip("0")


def is_point(low: float, high: float) -> bool:
    """Whether an interval is a single value: the gain was the same on every fold, so the
    corrected t interval has no width and says nothing beyond the gain itself."""
    return not math.isnan(low) and low == high


def interval(low: float, high: float) -> str:
    """``[-0.004, +0.012]``; "" for no interval (NaN) or a point (:func:`is_point`).

    >>> interval(-0.0042, 0.0118), interval(-0.0004, 0.0003), interval(0.0, 0.0)
    ('[-0.004, +0.012]', '[0.000, 0.000]', '')
    """
    if math.isnan(low) or is_point(low, high):
        return ""
    return f"[{signed(low)}, {signed(high)}]"


def no_spread(detectable: float) -> bool:
    """Whether the folds' gains had no spread at all: every fold gained the same, so the
    smallest detectable effect is exactly zero, a number that would only mislead."""
    return detectable == 0


NO_DIFFERENCE = "no difference on any fold"
SAME_ON_EVERY_FOLD = "the same gain on every fold"


def reach(detectable: float, gain: float) -> str:
    """What the folds could have seen, for a gain within the noise.

    ``could detect ≥ 0.045``; when every fold gained the same, the detectable effect is
    zero and meaningless, so instead what the folds saw: ``no difference on any fold`` (the
    arms cannot be told apart) or ``the same gain on every fold``. "" when nothing was
    measured.

    >>> reach(0.0451, 0.01), reach(0.0, 0.0), reach(0.00012, 0.0)
    ('could detect ≥ 0.045', 'no difference on any fold', 'could detect ≥ 0.00012')
    """
    if math.isnan(detectable):
        return ""
    if no_spread(detectable):
        return NO_DIFFERENCE if gain == 0 else SAME_ON_EVERY_FOLD
    return f"could detect ≥ {magnitude(detectable)}"


def detectable_cell(detectable: float) -> str:
    """A table's detectable-effect cell: "" when not measured, ``n/a`` when the folds'
    gains had no spread (:func:`no_spread`), else :func:`magnitude`.

    >>> detectable_cell(0.0284), detectable_cell(0.0), detectable_cell(float("nan"))
    ('0.028', 'n/a', '')
    """
    if math.isnan(detectable):
        return ""
    return "n/a" if no_spread(detectable) else magnitude(detectable)
