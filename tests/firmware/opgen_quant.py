"""The random quantisation choices of the op generator (opgen.py), each aimed at a corner of the
requantisation arithmetic: scales over 2^-20..2^4, output scales that put the multiplier's shift
anywhere in [-33, 30] with its mantissa at either end ([2^30, 2^31)), zero points over the whole
int8 range and at its edges, weights at their extremes, and biases that carry the accumulator to
the int32 edges (and, rarely, past them: both sides wrap)."""

from __future__ import annotations

import json

import numpy as np

INT32_MAX = 2**31 - 1
# Draw.bias's weights of its modes (none, small, medium, large, edge, wrap, zero, fast_edge): all
# of them, or mostly within the DSP kernels' fast requantisation (|bias| + the sums' bound < 2^30).
BIAS_MODES = (2, 5, 3, 2, 3, 1, 1, 2)
FAST_BIAS_MODES = (2, 5, 3, 0.3, 0.5, 0.2, 1, 2)
# Draw.out_scale's exponents in 'shift' mode: all the requantisation takes, or the fast form's
# right shifts 1..22 (kernels/requant_fast.h).
ALL_SHIFTS, FAST_SHIFTS = (-33, 30), (-22, -1)
NONE, RELU, RELU_N1_TO_1, RELU6 = 0, 1, 2, 3
SAME, VALID = 0, 1


def f32(x: float) -> float:
    """x rounded to float32, as the model stores it."""
    return float(np.float32(x))


class Draw:
    """A seeded source of choices that records each one in `params` (for failure messages)."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.params: dict = {}

    def note(self, **kw) -> None:
        """Record choices as JSON values (tuples as lists), so a saved case reloads equal."""
        self.params.update(json.loads(json.dumps(kw, default=lambda o: o.tolist())))

    def pick(self, options, weights=None):
        """One of `options` (weights: relative, any scale)."""
        p = None if weights is None else np.asarray(weights, float) / np.sum(weights)
        return options[int(self.rng.choice(len(options), p=p))]

    def int(self, lo: int, hi: int) -> int:
        """Uniform in [lo, hi] (both ends included)."""
        return int(self.rng.integers(lo, hi + 1))

    # ---- quantisation ----
    def scale(self, lo: float = -20, hi: float = 4) -> float:
        """2^u, u uniform in [lo, hi]; one in eight an exact power of two."""
        u = self.rng.uniform(lo, hi)
        return f32(2.0 ** (round(u) if self.rng.random() < 0.125 else u))

    def zp(self) -> int:
        return self.pick([self.int(-128, 127), -128, 127, 0, self.int(-5, 5)], [6, 1, 1, 1, 1])

    def act(self) -> int:
        return self.pick([NONE, RELU, RELU_N1_TO_1, RELU6])

    def out_scale(self, real_in: float, spread: float, name: str = "out", shifts=ALL_SHIFTS) -> float:
        """An output scale for an op whose real multiplier is real_in / out_scale and whose
        accumulators spread over about +-spread: 'fit' maps them over the int8 range, 'shift'
        puts the multiplier at 2^e * mantissa (e in `shifts`, the mantissa random or at
        either end of [0.5, 1)), 'free' draws it like any scale."""
        mode = self.pick(["fit", "shift", "free"], [5, 4, 1])
        if mode == "fit":
            real = 2.0 ** self.rng.uniform(-1.5, 1.5) * 100.0 / max(spread, 1.0)
        elif mode == "shift":
            e = self.int(*shifts)
            mant = self.pick([self.rng.uniform(0.5, 1.0), 0.5, 1 - 2.0**-24, 0.5 + 2.0**-24, 1 - 2.0**-33])
            real = mant * 2.0**e
        else:
            real = real_in / self.scale()
        out = f32(min(max(real_in / real, 2.0**-100), 2.0**100))
        self.note(**{f"{name}_scale_mode": mode, f"{name}_scale": out, f"{name}_real_multiplier": real_in / out})
        return out

    # ---- constants ----
    def weights(self, shape, lo: int = -127) -> np.ndarray:
        mode = self.pick(["uniform", "extreme", "sparse", "small", "constant"], [6, 2, 1, 1, 1])
        self.note(weights=mode)
        r = self.rng
        if mode == "uniform":
            return r.integers(lo, 128, shape)
        if mode == "extreme":
            return np.where(r.random(shape) < 0.5, lo, 127)
        if mode == "sparse":
            return np.where(r.random(shape) < 0.85, 0, r.integers(lo, 128, shape))
        if mode == "small":
            return r.integers(-3, 4, shape)
        return np.full(shape, self.pick([lo, 127, 1, -1]))

    def bias(self, bound: np.ndarray, allow_none: bool = True, weights=BIAS_MODES) -> np.ndarray | None:
        """Per output channel; bound[c] = the largest |sum of products| channel c can reach.
        'edge' puts bias + sum at the int32 edges without wrapping; 'wrap' past them; 'fast_edge'
        puts |bias| + bound on either side of 2^30, the DSP kernels' fast requantisation limit.
        weights: of the modes, as BIAS_MODES ('none' only when allow_none)."""
        n = len(bound)
        mode = self.pick(["none", "small", "medium", "large", "edge", "wrap", "zero", "fast_edge"],
                         [weights[0] if allow_none else 0, *weights[1:]])
        self.note(bias=mode)
        r = self.rng
        if mode == "none":
            return None
        if mode == "small":
            return r.integers(-2000, 2001, n)
        if mode == "medium":
            return (r.integers(-1, 2, n) * np.minimum(bound, INT32_MAX // 2) * r.random(n)).astype(np.int64)
        if mode == "large":
            return r.integers(-INT32_MAX, INT32_MAX + 1, n)
        if mode == "edge":
            mag = np.maximum(INT32_MAX - np.asarray(bound, np.int64) - r.integers(0, 3, n), 0)
            return np.where(r.random(n) < 0.5, mag, -mag)
        if mode == "fast_edge":
            mag = np.maximum((1 << 30) - np.asarray(bound, np.int64) + r.integers(-2, 2, n), 0)
            return np.where(r.random(n) < 0.5, mag, -mag)
        if mode == "wrap":
            return np.where(r.random(n) < 0.5, INT32_MAX - r.integers(0, 100, n), -INT32_MAX + r.integers(0, 100, n))
        return np.zeros(n, np.int64)


def x_span(in_zp: int) -> int:
    """Largest |x - in_zp| over int8 x."""
    return max(127 - in_zp, in_zp + 128)


def conv_out(n: int, k: int, stride: int, dil: int, pad: int) -> int:
    eff = (k - 1) * dil + 1
    return (n + stride - 1) // stride if pad == SAME else (n - eff + stride) // stride
