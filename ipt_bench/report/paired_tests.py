"""One-sample tests of paired differences: a test chosen by n, its CI, and the minimum detectable effect.

The null hypothesis is "no difference": the paired differences are symmetric about 0, so flipping
the sign of any of them is as likely as not (the sign-flip permutation test). The statistic is
the mean difference, the same quantity the CI and the reported effect describe.
Wilcoxon's signed-rank test is not used: it tests a pseudo-median, not the mean effect in dB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

# Up to this many units every sign flip is enumerated (2**16 = 65536 rows).
EXACT_MAX = 16
# From this many units on, the CI comes from the bootstrap (its coverage is fine by then).
BOOTSTRAP_MIN = 30
# Monte-Carlo p-values are at least 1 / (N_FLIPS + 1) = 2e-5: enough for Holm over ~2500 comparisons.
N_FLIPS = 50_000
N_BOOTSTRAP = 10_000
# Relative tolerance when comparing flipped sums with the observed one: a flip that permutes
# the same numbers (e.g. 0.3 + 0.1 and 0.1 + 0.3) must count as a tie despite rounding.
_TIE = 1e-9


@dataclass(frozen=True)
class TestResult:
    """The test used, its two-sided p-value and the CI of the mean difference, each named."""

    test: str
    p_value: float
    ci_low: float
    ci_high: float
    ci_method: str


def smallest_sign_flip_p(n: int) -> float:
    """The smallest two-sided p-value a sign-flip test over ``n`` units can return."""
    return 2.0 / 2**n if n <= EXACT_MAX else 1.0 / (N_FLIPS + 1)


def paired_test(
    units: np.ndarray, *, confidence: float = 0.95, seed: int = 0, family_size: int = 1
) -> TestResult:
    """Test ``mean(units) == 0`` with the test that fits ``n = len(units)``; see the module docstring.

    ``family_size`` is the number of comparisons corrected together: a sign-flip test whose
    smallest attainable p-value could not survive that correction (``2 / 2**n >= alpha / m``,
    Holm's strictest threshold) would be blind by construction, so the t-test is used instead.
    """
    units = np.asarray(units, dtype=float)
    n = units.size
    if n < 2:
        raise ValueError(f"a paired test needs >= 2 differences, got {n}")
    alpha = 1.0 - confidence
    mean = float(units.mean())
    constant = bool(np.ptp(units) == 0)
    if smallest_sign_flip_p(n) >= alpha / max(family_size, 1):
        if constant:  # zero spread: the t statistic is infinite (or 0/0 for no difference at all)
            return TestResult("t-test", 0.0 if mean != 0 else 1.0, mean, mean, "t interval")
        result = stats.ttest_1samp(units, 0.0)
        interval = result.confidence_interval(confidence)
        return TestResult("t-test", float(result.pvalue), interval.low, interval.high, "t interval")
    flips = SignFlips(units, seed=seed)
    p_value = flips.p_value(0.0)
    if constant:
        low, high = mean, mean
    elif n < BOOTSTRAP_MIN:
        low, high = flips.confidence_interval(alpha)
    else:
        interval = stats.bootstrap(
            (units,),
            np.mean,
            n_resamples=N_BOOTSTRAP,
            confidence_level=confidence,
            method="BCa",
            vectorized=True,
            rng=np.random.default_rng(seed),
        ).confidence_interval
        low, high = float(interval.low), float(interval.high)
    ci_method = (
        f"BCa bootstrap ({N_BOOTSTRAP} resamples)" if n >= BOOTSTRAP_MIN else "inverted sign-flip test"
    )
    return TestResult(flips.name, p_value, float(low), float(high), ci_method)


class SignFlips:
    """The sign-flip null distribution of ``sum(units - delta)``: every flip for small n, else a
    seeded Monte-Carlo sample of ``N_FLIPS`` flips.

    Written here because scipy.stats.permutation_test returns the p-value at delta = 0 only,
    while the CI needs the test at many shifted deltas; keeping the flips fixed makes each
    evaluation one matrix product (and the CI consistent with the p-value).
    """

    def __init__(self, units: np.ndarray, *, seed: int = 0) -> None:
        self.units = np.asarray(units, dtype=float)
        n = self.units.size
        self.exact = n <= EXACT_MAX
        if self.exact:
            bits = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
            signs = 1.0 - 2.0 * bits
            self.name = f"exact sign-flip permutation test (all {2**n} flips)"
        else:
            signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=(N_FLIPS, n))
            self.name = f"Monte-Carlo sign-flip permutation test ({N_FLIPS} flips, seed {seed})"
        # sum(s * (u - delta)) = (s @ u) - delta * sum(s): two vectors serve every delta.
        self._flipped = signs @ self.units
        self._sign_sums = signs.sum(axis=1)

    def p_value(self, delta: float) -> float:
        """Two-sided p-value of the hypothesis ``mean == delta``."""
        observed = abs(float(np.sum(self.units - delta)))
        null = np.abs(self._flipped - delta * self._sign_sums)
        tolerance = _TIE * max(1.0, float(np.abs(self.units).sum()))
        extreme = int(np.count_nonzero(null >= observed - tolerance))
        if self.exact:
            return extreme / null.size
        return (extreme + 1) / (null.size + 1)  # the observed flip counts once (a valid MC p-value)

    def confidence_interval(self, alpha: float) -> tuple[float, float]:
        """The deltas the test does not reject at ``alpha``, found by bisection on each side."""
        mean = float(self.units.mean())
        spread = float(np.ptp(self.units)) or 1.0
        low = self._boundary(mean, float(self.units.min()) - spread, alpha)
        high = self._boundary(mean, float(self.units.max()) + spread, alpha)
        return low, high

    def _boundary(self, inside: float, outside: float, alpha: float, steps: int = 60) -> float:
        """The last accepted delta between ``inside`` (accepted) and ``outside`` (rejected)."""
        for _ in range(steps):
            middle = 0.5 * (inside + outside)
            if self.p_value(middle) > alpha:
                inside = middle
            else:
                outside = middle
        return inside


def minimum_detectable_effect(units: np.ndarray, *, alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest mean difference a two-sided test at ``alpha`` detects with ``power``, from the
    observed spread: ``(t_{1-alpha/2} + t_{power}) * sd / sqrt(n)`` with Student-t quantiles
    (n - 1 degrees of freedom; they tend to the normal ones for large n)."""
    units = np.asarray(units, dtype=float)
    n = units.size
    if n < 2:
        return float("nan")
    df = n - 1
    factor = stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df)
    return float(factor * units.std(ddof=1) / np.sqrt(n))
