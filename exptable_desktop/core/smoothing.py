"""Smoothing of scalar series for the Scalars plots (feature inventory 4.3), in numpy.

Every function takes a 1-D float array and returns a new array of the same
length. Non-finite values (NaN, inf) do not poison the rest of the curve: they
are skipped (the previous finite value is carried over) before smoothing.
"""
from __future__ import annotations

import math

import numpy as np

NO_SMOOTHING = "none"
EMA = "ema"
RUNNING_AVERAGE = "running_average"
GAUSSIAN = "gaussian"
METHODS = (NO_SMOOTHING, EMA, RUNNING_AVERAGE, GAUSSIAN)
METHOD_LABELS = {
    NO_SMOOTHING: "No smoothing",
    EMA: "Exp. moving average",
    RUNNING_AVERAGE: "Running average",
    GAUSSIAN: "Gaussian",
}

# Ranges of the reference's settings bar.
EMA_ALPHA_RANGE = (0.0, 0.999)
RUNNING_WINDOW_RANGE = (3, 35)
GAUSSIAN_KERNEL_RANGE = (3, 15)
GAUSSIAN_SIGMA_RANGE = (0.5, 3.0)


def _forward_filled(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if finite.all() or not finite.any():
        return values
    index = np.where(finite, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    # Leading non-finite values have no predecessor: take the first finite one.
    first = int(np.argmax(finite))
    filled[:first] = values[first]
    return filled


def exponential_moving_average(values: np.ndarray, alpha: float) -> np.ndarray:
    """Debiased EMA, ``alpha`` being the weight of the past (0 = no smoothing).

    y[t] = alpha * y[t-1] + (1 - alpha) * x[t], divided by (1 - alpha**(t+1)) so
    the curve starts at the first value instead of at zero. The recursion is
    evaluated block-wise in closed form so a million points take milliseconds.
    """
    x = _forward_filled(values)
    n = len(x)
    if n == 0 or alpha <= 0.0 or not np.isfinite(x).any():
        return x.copy()
    alpha = min(float(alpha), 0.999999)
    log_a = math.log(alpha)
    # Within a block, alpha**-k must stay far from overflow.
    block = max(1, min(n, int(200.0 / -log_a)))
    out = np.empty(n)
    carry = 0.0
    for start in range(0, n, block):
        chunk = x[start:start + block]
        k = np.arange(len(chunk), dtype=np.float64)
        decay = np.exp(log_a * (k + 1))  # alpha**(k+1)
        growth = np.exp(-log_a * k)  # alpha**-k
        weighted = np.cumsum(chunk * growth) * (1.0 - alpha) * np.exp(log_a * k)
        out[start:start + len(chunk)] = decay * carry + weighted
        carry = out[start + len(chunk) - 1]
    debias = 1.0 - np.exp(log_a * (np.arange(n, dtype=np.float64) + 1))
    return out / debias


def running_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving mean over ``window`` points (odd); the window shrinks at the ends."""
    x = _forward_filled(values)
    n = len(x)
    window = int(window)
    if n == 0 or window <= 1:
        return x.copy()
    half = window // 2
    csum = np.concatenate(([0.0], np.cumsum(x)))
    idx = np.arange(n)
    lo = np.clip(idx - half, 0, n)
    hi = np.clip(idx + half + 1, 0, n)
    return (csum[hi] - csum[lo]) / (hi - lo)


def gaussian_kernel(size: int, sigma: float) -> np.ndarray:
    size = max(1, int(size) | 1)
    offsets = np.arange(size, dtype=np.float64) - size // 2
    kernel = np.exp(-0.5 * (offsets / float(sigma)) ** 2)
    return kernel / kernel.sum()


def gaussian(values: np.ndarray, kernel_size: int = 7, sigma: float = 1.0) -> np.ndarray:
    """Gaussian-weighted centred mean; weights are renormalised where the kernel overhangs an end."""
    x = _forward_filled(values)
    n = len(x)
    if n == 0 or kernel_size <= 1 or sigma <= 0:
        return x.copy()
    kernel = gaussian_kernel(kernel_size, sigma)
    smoothed = np.convolve(x, kernel, mode="same")
    weight = np.convolve(np.ones(n), kernel, mode="same")
    return smoothed / weight


def smooth(values: np.ndarray, method: str, *, alpha: float = 0.6, window: int = 5,
           kernel_size: int = 7, sigma: float = 1.0) -> np.ndarray:
    if method == NO_SMOOTHING:
        return np.asarray(values, dtype=np.float64)
    if method == EMA:
        return exponential_moving_average(values, alpha)
    if method == RUNNING_AVERAGE:
        return running_average(values, window)
    if method == GAUSSIAN:
        return gaussian(values, kernel_size, sigma)
    raise ValueError(f"unknown smoothing {method!r}; expected one of {', '.join(METHODS)}")
