#!/usr/bin/python3
"""Fit the rational function of ctnn::math::fast_tanh (include/ctnn/core/math.hpp).

    /usr/bin/python3 scripts/gen_fast_tanh.py

fast_tanh(x) = x P(u) / Q(u), u = x^2, P of degree 3 and Q of degree 4, |x| clamped at 8.
The fit minimizes the largest relative error against tanh on (0, 8] (tanh(x)/x as a function of u):
Loeb's linearization (the residual P - f Q weighted by 1 / (f Q_previous)) with Lawson's iteratively
reweighted least squares for the minimax of each linearized problem, on a Chebyshev grid plus a
uniform one, with P(0) = Q(0) = 1. Both are then scaled by c = 1/q4, rounded to float: Q becomes monic,
so its first Horner step is an addition, which runs off the multiply-add units, and P(0) = Q(0) = c
stay the same float. The coefficients are rounded to float, and a coordinate search moves them by a
few float ulps where that lowers the largest error of the float evaluation (Horner with fma, one
multiply, one division: emulated here in float64, whose single products of floats are exact) on
every 97th float of [0.25, 9]. Measured in C++ over every float: 7.2 ulp with FMA, 7.9 without (the
fit itself is 2.4 ulp: most of the error is the float arithmetic's). Degrees 4 and 4 gave 4.9 / 5.8
ulp for one multiply-add more per register; 3 and 3 fit no better than 45 ulp (relative error
2.7e-6). Q(0) = 1 with a power of two for q4 (2^-22, the nearest) instead fit to 3.1 ulp and
evaluated to 10 ulp on the sample; no c but a power of two gives fl(fl(x c) / c) = x for every x.
Nothing is copied from another library. numpy only.
"""
import numpy as np

M, N, CLAMP = 3, 4, 8.0


def fit(m, n, c, npts=6000, outer=60, inner=30):
    k = np.arange(npts)
    x = np.concatenate([c * (0.5 - 0.5 * np.cos(np.pi * (k + 0.5) / npts)), np.linspace(1e-4, c, npts)])
    u, f = x * x, np.tanh(x) / x
    a = np.zeros((len(u), m + 1 + n))
    for j in range(m + 1):
        a[:, j] = u**j
    for j in range(1, n + 1):
        a[:, m + j] = -f * u**j
    q_prev, best = np.ones_like(u), None
    for _ in range(outer):
        scale, w = 1.0 / (f * q_prev), np.ones_like(u)
        for _ in range(inner):
            sw = np.sqrt(w)
            sol = np.linalg.lstsq(a * (scale * sw)[:, None], f * scale * sw, rcond=None)[0]
            r = (a @ sol - f) * scale
            w = w * np.abs(r)
            w /= w.sum()
        p, q = sol[: m + 1], np.concatenate([[1.0], sol[m + 1 :]])
        pu, qu = np.polyval(p[::-1], u), np.polyval(q[::-1], u)
        err = np.max(np.abs(pu / qu / f - 1))
        q_prev = qu
        if best is None or err < best[0]:
            best = (err, p, q)
    return best


def float_error(p, q, x, ref):
    """Largest error in ulps of the float evaluation of x P(x^2) / Q(x^2) (x already in range)."""
    u = (x * x).astype(np.float32)

    def horner(c):
        acc = np.full_like(u, c[-1])
        for v in c[-2::-1]:
            acc = (acc.astype(np.float64) * u + np.float64(v)).astype(np.float32)  # fmaf
        return acc

    y = ((x * horner(p)).astype(np.float32) / horner(q)).astype(np.float32)
    if np.any(np.abs(y) > 1):
        return np.inf
    ulp = 2.0 ** (np.floor(np.log2(ref)) - 23)
    return float(np.max(np.abs(y - ref) / ulp))


def nudge(v, k):
    return (np.array([v], np.float32).view(np.uint32) + np.uint32(k) if k > 0 else
            np.array([v], np.float32).view(np.uint32) - np.uint32(-k)).view(np.float32)[0]


def search(p, q):
    lo, hi = np.array([0.25, 9.0], np.float32).view(np.uint32)
    x = np.arange(lo, hi, 97, dtype=np.uint32).view(np.float32)
    x = np.minimum(x, np.float32(CLAMP))
    ref = np.tanh(x.astype(np.float64))
    cur, improved = float_error(p, q, x, ref), True
    while improved:
        improved = False
        for c, j in [(c, j) for c in (p, q) for j in range(1, len(c) - (c is q))]:  # keep c and the monic 1
            for k in (-8, -4, -2, -1, 1, 2, 4, 8):
                old = c[j]
                c[j] = nudge(old, k)
                e = float_error(p, q, x, ref)
                if e < cur - 1e-3:
                    cur, improved = e, True
                else:
                    c[j] = old
    return cur


if __name__ == "__main__":
    err, p, q = fit(M, N, CLAMP)
    p = p / p[0]  # P(0) = 1 exactly (it is 1 to within 1e-9 already)
    c = np.float32(1 / q[-1])
    p, q = (p * np.float64(c)).astype(np.float32), (q * np.float64(c)).astype(np.float32)
    p[0] = q[0] = c  # the same float, so tiny x give x to within an ulp
    q[-1] = 1  # monic
    print(f"// float evaluation on the sample: {search(p, q):.2f} ulp")
    print(f"// fit error {err / 2**-24:.3f} ulp (relative error in units of 2^-24), |x| <= {CLAMP}")
    print("static constexpr float p[] = {" + ", ".join(f"{np.float32(v):.9e}f" for v in p) + "};")
    print("static constexpr float q[] = {" + ", ".join(f"{np.float32(v):.9e}f" for v in q) + "};")
