"""Distributions the paired tests need, numpy and the standard library only (checked against scipy and mpmath in the
tests): Student t tails and quantiles, binomial and hypergeometric (Fisher) tails, the normal tail, the regularised
incomplete beta function they rest on."""

from __future__ import annotations

import functools
import math
from statistics import NormalDist

import numpy as np

_NORMAL = NormalDist()


def student_t_sf(t: np.ndarray, df: float | np.ndarray) -> np.ndarray:
    """P(T > t) for Student's t with `df` degrees of freedom (a number, or one per t), elementwise (NaN stays NaN,
    +-inf give 0 and 1)."""
    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # P(|T| > |t|) = I_x(df/2, 1/2) with x = df / (df + t^2); where the continued fraction needs the other
        # side, 1 - I_y(1/2, df/2) with y = t^2 / (df + t^2) computed directly (1 - x loses digits near t = 0)
        x = np.where(np.isinf(t), 0.0, df / (df + t * t))
        y = np.where(np.isinf(t), 1.0, t * t / (df + t * t))
        near = x > (df / 2 + 1) / (df / 2 + 2.5)
    both = np.empty(t.shape)
    both[near] = 1 - betainc(0.5, df[near] / 2, y[near])
    both[~near] = betainc(df[~near] / 2, 0.5, x[~near])
    tail = 0.5 * both
    return np.where(np.isnan(t), np.nan, np.where(t > 0, tail, 1 - tail))


@functools.lru_cache(maxsize=4096)
def t_quantile(q: float, df: float) -> float:
    """The `q` quantile of Student's t, q > 0.5, for `df` > 0 degrees of freedom (`t_quantiles` for one)."""
    _check_upper(q)
    return float(_t_quantiles(q, np.array([float(df)]))[0])


def t_quantiles(q: float, df: np.ndarray) -> np.ndarray:
    """`t_quantile` for many degrees of freedom at once (NaN or below 1 gives NaN), vectorised over `df`."""
    _check_upper(q)
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    usable = df >= 1
    out[usable] = _t_quantiles(q, df[usable])
    return out


def _check_upper(q: float) -> None:
    if not 0.5 < q < 1:
        raise ValueError(f"t quantiles are for upper quantiles, 0.5 < q < 1, got {q}")


def _t_quantiles(q: float, df: np.ndarray) -> np.ndarray:
    """Newton's method on the distribution function from the normal quantile, which lies below it; the distribution
    function is concave there, so the steps climb monotonically. From 10,000 degrees of freedom, the Cornish-Fisher
    expansion (error of order df^-3, below 1e-11 there)."""
    z = _NORMAL.inv_cdf(q)
    out = np.empty(df.shape)
    large = df >= 10_000
    out[large] = z + (z**3 + z) / (4 * df[large]) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df[large] ** 2)
    if (~large).any():
        nu = df[~large]
        lgamma = np.vectorize(math.lgamma, otypes=[float])
        log_norm = lgamma((nu + 1) / 2) - lgamma(nu / 2) - 0.5 * np.log(nu * math.pi)
        t = np.full(nu.shape, z)
        for _ in range(200):
            density = np.exp(log_norm - (nu + 1) / 2 * np.log1p(t * t / nu))
            step = (student_t_sf(t, nu) - (1 - q)) / density
            t = t + step
            if (np.abs(step) <= 1e-13 * np.maximum(1.0, t)).all():
                break
        out[~large] = t
    return out


def fisher_tail(worse: np.ndarray, n: np.ndarray, total_worse: np.ndarray, total: np.ndarray) -> np.ndarray:
    """One-sided Fisher's exact test, per element: P(X >= worse) for X ~ Hypergeometric(total, total_worse, n), the
    chance that a slice of `n` samples drawn from `total` (of which `total_worse` had the bad outcome) holds at least
    `worse` bad ones. The terms come from the first one by their ratios, summed in log space."""
    out = []
    for x, m, k, t in zip(*(np.atleast_1d(np.asarray(v, dtype=float)) for v in (worse, n, total_worse, total))):
        top = min(m, k)
        if x <= max(0.0, m - (t - k)):
            out.append(1.0)
            continue
        if x > top:
            out.append(0.0)
            continue
        log_first = _log_choose(k, x) + _log_choose(t - k, m - x) - _log_choose(t, m)
        j = np.arange(x, top)  # pmf(j + 1) / pmf(j)
        ratios = np.log((k - j) * (m - j)) - np.log((j + 1) * (t - k - m + j + 1))
        logs = log_first + np.concatenate([[0.0], np.cumsum(ratios)])
        peak = logs.max()
        out.append(float(min(1.0, math.exp(peak) * np.exp(logs - peak).sum())))
    return np.asarray(out)


def _log_choose(n: float, k: float) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def normal_sf(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=float)
    erfc = np.vectorize(math.erfc, otypes=[float])
    return 0.5 * erfc(z / math.sqrt(2))


def betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The regularised incomplete beta function I_x(a, b), elementwise: a continued fraction (modified Lentz), on
    whichever of I_x(a, b) and 1 - I_{1-x}(b, a) converges fast, so that small tails keep their relative precision.
    """
    a, b, x = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(a, b, x))
    out = np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, np.nan))
    inside = (x > 0) & (x < 1)
    if not inside.any():
        return out
    a, b, x = a[inside], b[inside], x[inside]
    swap = x > (a + 1) / (a + b + 2)
    a, b, x = np.where(swap, b, a), np.where(swap, a, b), np.where(swap, 1 - x, x)
    log_front = a * np.log(x) + b * np.log1p(-x) - _log_beta(a, b)
    value = np.exp(log_front) * _beta_fraction(a, b, x) / a
    out[inside] = np.where(swap, 1 - value, value)
    return out


def _log_beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log B(a, b). With a large argument, lgamma(big) - lgamma(big + small) from Stirling's series, without the
    cancellation of two huge log-gammas (which would cost ~1e-9 relative precision at a million pairs)."""
    lgamma = np.vectorize(math.lgamma, otypes=[float])
    big, small = np.maximum(a, b), np.minimum(a, b)
    plain = lgamma(a) + lgamma(b) - lgamma(a + b)
    safe = np.maximum(big, 10.0)  # only used where big >= 10

    def correction(v: np.ndarray) -> np.ndarray:  # lgamma(v) - Stirling's leading terms, for v >= 10
        return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * v**2)) / v**2) / v**2) / v**2) / v

    ratio = -(safe - 0.5) * np.log1p(small / safe) - small * np.log(safe + small) + small
    stirling = lgamma(small) + ratio + correction(safe) - correction(safe + small)
    return np.where(big >= 10, stirling, plain)


def _beta_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The continued fraction of I_x(a, b) (Numerical Recipes' betacf), vectorised; it converges in about
    sqrt(max(a, b)) steps when x < (a + 1) / (a + b + 2)."""
    tiny, eps = 1e-300, 1e-15

    def guard(v: np.ndarray) -> np.ndarray:
        return np.where(np.abs(v) < tiny, tiny, v)

    qab, qap, qam = a + b, a + 1, a - 1
    c = np.ones_like(x)
    d = 1 / guard(1 - qab * x / qap)
    h = d.copy()
    limit = int(20 * math.sqrt(float(np.max(np.maximum(a, b))))) + 200
    done = np.zeros(x.shape, dtype=bool)
    for m in range(1, limit + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 / guard(1 + aa * d)
        c = guard(1 + aa / c)
        h = np.where(done, h, h * d * c)
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 / guard(1 + aa * d)
        c = guard(1 + aa / c)
        step = d * c
        h = np.where(done, h, h * step)
        done |= np.abs(step - 1) < eps
        if done.all():
            break
    return h
