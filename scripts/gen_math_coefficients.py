#!/usr/bin/python3
"""Generate the polynomial coefficients of include/ctnn/core/math.hpp.

Run from anywhere (each takes about a minute):

    /usr/bin/python3 scripts/gen_math_coefficients.py            # print the tables
    /usr/bin/python3 scripts/gen_math_coefficients.py --write    # update them in math.hpp
    /usr/bin/python3 scripts/gen_math_coefficients.py --check    # exit 1 if math.hpp's are stale

The tables land in the generated part of the `coefficients<float>` / `coefficients<double>`
specializations of include/ctnn/core/math.hpp. Nothing is copied from another library: every table
is a weighted minimax fit computed here. The intervals (|r| <= ln2/2, the erf split at 0.875 and
its cut-off at 4 / 6, the tanh split at 0.3125) and the way each polynomial is used are tied to the
C++ code; change both together.

Method. The reference functions are evaluated with the standard library's `decimal` module at 90
significant digits (series for erf and atanh, Decimal.exp), so the fits are exact far below double
precision. Each polynomial is a weighted minimax approximation found by the Remez exchange algorithm
on a dense Chebyshev grid (linear systems solved in Decimal). The weight turns the polynomial's error
into the relative error of the function the C++ code returns, so the "fit error" printed with each
table is in units of that function's ulp (2^-24 for float, 2^-53 for double; a correctly rounded
result is within 0.5). Coefficients are then rounded to the target type one at a time and the
remaining ones refitted after each rounding (greedy rounding; lowest degree first and highest
degree first are both tried, the better kept), which keeps the fit close to minimax despite the
rounding. numpy is used only for the float64 bookkeeping of the error curve.
"""

import argparse
import math
import os
import sys
from decimal import Decimal as D, getcontext, ROUND_HALF_EVEN

import numpy as np

getcontext().prec = 90
PRECISION = {"float": 24, "double": 53}
TANH_SMALL = "0.3125"


# --------------------------------------------------------------------------------------------
# reference functions in Decimal


def d_pi():
    """pi by Machin's formula."""
    def arctan_inv(n):
        x = D(1) / n
        x2 = x * x
        s, term, k = D(0), x, 0
        while abs(term) > D(10) ** -(getcontext().prec + 2):
            s += term / (2 * k + 1) if k % 2 == 0 else -term / (2 * k + 1)
            term *= x2
            k += 1
        return s
    return 16 * arctan_inv(5) - 4 * arctan_inv(239)


PI = d_pi()
SQRT_PI = PI.sqrt()
LN2 = D(2).ln()


def d_erf(x):
    """erf by its Taylor series; 90 digits leave > 60 after the cancellation for |x| <= 6."""
    x2 = x * x
    s, term, n = D(0), x, 0  # term = (-1)^n x^(2n+1) / n!
    while True:
        c = term / (2 * n + 1)
        s += c
        if abs(c) < D(10) ** -80:
            break
        n += 1
        term = -term * x2 / n
    return 2 * s / SQRT_PI


def d_atanh(s):
    s2 = s * s
    r, term, k = D(0), s, 0
    while abs(term) > D(10) ** -85:
        r += term / (2 * k + 1)
        term *= s2
        k += 1
    return r


def d_expm1(x):
    if abs(x) > D("0.5"):
        return x.exp() - 1
    s, term, n = D(0), x, 1
    while abs(term) > D(10) ** -85:
        s += term
        n += 1
        term = term * x / n
    return s


# --------------------------------------------------------------------------------------------
# weighted Remez exchange over a set of monomials


def solve(a, b):
    """Gaussian elimination with partial pivoting, in Decimal."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            if f:
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    x = [D(0)] * n
    for r in reversed(range(n)):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def ipow(t, j):
    return D(1) if j == 0 else t ** j


class Problem:
    """Approximate f(t) on [a, b] by sum c_j t^j (j in powers), minimizing max |w(t) (f - p)|."""

    def __init__(self, name, f, w, a, b, grid=2500):
        self.name = name
        a, b = D(a), D(b)
        self.a, self.b = a, b
        # Chebyshev-distributed grid (denser at the ends, where the extrema crowd)
        self.t = [(a + b) / 2 - (b - a) / 2 * D(math.cos(math.pi * i / (grid - 1))) for i in range(grid)]
        self.t[0], self.t[-1] = a, b
        self.w = [w(t) for t in self.t]
        self.t = [t for t, wt in zip(self.t, self.w) if wt != 0]  # zero weight: no constraint
        self.w = [wt for wt in self.w if wt != 0]
        self.f = [f(t) for t in self.t]
        self.powers = {}

    def power(self, j):
        if j not in self.powers:
            self.powers[j] = [ipow(t, j) for t in self.t]
        return self.powers[j]

    def error(self, coef, powers, fixed):
        terms = [(c, self.power(j)) for c, j in zip(coef, powers)] + [(c, self.power(j)) for j, c in fixed.items()]
        out = np.empty(len(self.t))
        for i in range(len(self.t)):
            p = sum(c * tj[i] for c, tj in terms)
            out[i] = float(self.w[i] * (self.f[i] - p))
        return out

    def remez(self, powers, fixed, iterations=30):
        m = len(powers)
        n = len(self.t)
        # initial reference: Chebyshev extrema among the grid points
        ref = sorted({min(range(n), key=lambda i: abs(float(self.t[i]) - x)) for x in
                      [float((self.a + self.b) / 2 - (self.b - self.a) / 2 * D(math.cos(math.pi * k / m))) for k in range(m + 1)]})
        if len(ref) < m + 1:
            ref = [round(k * (n - 1) / m) for k in range(m + 1)]
        coef = None
        for _ in range(iterations):
            a, b = [], []
            for s, i in enumerate(ref):
                t = self.t[i]
                a.append([ipow(t, j) for j in powers] + [D((-1) ** s) / self.w[i]])
                b.append(self.f[i] - sum(c * ipow(t, j) for j, c in fixed.items()))
            sol = solve(a, b)
            coef = sol[:m]
            e = self.error(coef, powers, fixed)
            # local extrema of alternating sign
            ext = []
            i = 0
            while i < n:
                if e[i] == 0:
                    i += 1
                    continue
                j = i
                best = i
                while j < n and np.sign(e[j]) == np.sign(e[i]):
                    if abs(e[j]) > abs(e[best]):
                        best = j
                    j += 1
                ext.append(best)
                i = j
            if len(ext) < m + 1:
                break
            gmax = max(ext, key=lambda k: abs(e[k]))
            g = ext.index(gmax)
            windows = [ext[s:s + m + 1] for s in range(max(0, g - m), min(g, len(ext) - m - 1) + 1)]
            new = max(windows, key=lambda win: min(abs(e[k]) for k in win))
            lo = min(abs(e[k]) for k in new)
            if new == ref or abs(e[gmax]) - lo <= 1e-3 * abs(e[gmax]):
                ref = new
                break
            ref = new
        return coef

    def fit(self, powers, precision):
        """Greedy rounding: round one coefficient, refit the others, repeat. Both orders are tried
        (lowest degree first, and highest first, which keeps the basis a Haar system when the
        interval contains 0); the better result is kept."""
        best = None
        for order in (list(powers), list(reversed(powers))):
            fixed = {}
            todo = order
            while todo:
                coef = self.remez(sorted(todo), fixed)
                j = todo[0]
                fixed[j] = round_to(coef[sorted(todo).index(j)], precision)
                todo = todo[1:]
            err = float(np.max(np.abs(self.error([], [], fixed)))) * 2.0 ** precision
            if best is None or err < best[1]:
                best = ([fixed[j] for j in powers], err)
        return best


def round_to(x, bits):
    """Round a Decimal to the nearest binary floating-point number with `bits` significant bits."""
    if x == 0:
        return D(0)
    e = math.floor(math.log2(abs(float(x))))
    scale = D(2) ** (bits - 1 - e)
    return (x * scale).quantize(D(1), rounding=ROUND_HALF_EVEN) / scale


def literal(x, ctype):
    v = float(x)
    if ctype == "float":
        v32 = np.float32(v)
        assert float(v32) == v, "coefficient not representable as float"
        return "%.9e" % v + "f"
    return "%.17e" % v


# --------------------------------------------------------------------------------------------
# the approximations of math.hpp


def problems(ctype):
    """(name, problem, powers, comment) for one target type."""
    out = []
    # exp/expm1: e^r = 1 + r + r^2 q(r) on |r| <= ln2/2 (with a margin for the rounded k);
    # weight = relative error of e^r - 1, the stricter of the two users.
    R = D("0.34658")
    out.append(("exp_q", Problem("exp_q", lambda r: (d_expm1(r) - r) / (r * r) if r else D("0.5"),
                                 lambda r: r * r / abs(d_expm1(r)) if r else D(0), -R, R),
                {"float": 6, "double": 11}[ctype],
                "e^r = 1 + r + r^2 q(r), |r| <= ln2/2; relative error of e^r - 1"))
    # log: log(1+f) = 2s + s R(z), s = f/(2+f), z = s^2 <= (3 - 2 sqrt2)^2; R(z) = z R1(z).
    zmax = (3 - 2 * D(2).sqrt()) ** 2 * D("1.0001")

    def r1(z):
        s = z.sqrt()
        return (2 * d_atanh(s) - 2 * s) / (s * z)

    def wlog(z):
        s = z.sqrt()
        return s * z / (2 * d_atanh(s)) if z else D(0)
    out.append(("log_r", Problem("log_r", lambda z: r1(z) if z else D(2) / 3, wlog, 0, zmax),
                {"float": 3, "double": 7}[ctype],
                "log(1+f) = 2s + s z R(z), s = f/(2+f), z = s^2; relative error of log(1+f)"))
    # tanh, small |x| < c: tanh(x) = x + x^3 T(x^2); weight = relative error of tanh.
    c = D(TANH_SMALL)

    def d_tanh(x):
        e = d_expm1(2 * x)
        return e / (e + 2)

    def t_small(u):
        x = u.sqrt()
        return (d_tanh(x) - x) / (u * x) if u else D(-1) / 3

    def w_tanh(u):
        x = u.sqrt()
        return u * x / d_tanh(x) if u else D(0)
    out.append(("tanh_small", Problem("tanh_small", t_small, w_tanh, 0, c * c * D("1.0001")),
                {"float": 4, "double": 8}[ctype],
                "tanh(x) = x + x^3 T(x^2), |x| < %s; relative error of tanh" % TANH_SMALL))
    # erf, small |x| < a: erf(x) = x + x S(x^2); weight = relative error of erf.
    a = D({"float": "0.875", "double": "0.875"}[ctype])

    def s_small(u):
        x = u.sqrt()
        return d_erf(x) / x - 1 if u else 2 / SQRT_PI - 1

    def w_small(u):
        x = u.sqrt()
        return x / d_erf(x) if u else SQRT_PI / 2
    out.append(("erf_small", Problem("erf_small", s_small, w_small, 0, a * a * D("1.0001")),
                {"float": 7, "double": 12}[ctype],
                "erf(x) = x + x S(x^2), |x| < 0.875; relative error of erf"))
    # erf, a <= |x| <= b: erfc(x) = exp(-x^2) P(t), t = 1/(1 + x/2); weight = error of erf = 1 - erfc.
    b = D({"float": "4", "double": "6"}[ctype])

    def x_of(t):
        return 2 * (1 / t - 1)

    def erfcx(t):
        x = x_of(t)
        return (1 - d_erf(x)) * (x * x).exp()

    def w_large(t):
        x = x_of(t)
        return (-(x * x)).exp() / d_erf(x)
    out.append(("erfc_p", Problem("erfc_p", erfcx, w_large, 1 / (1 + b / 2), 1 / (1 + a / 2 * D("0.9999"))),
                {"float": 6, "double": 13}[ctype],
                "erfc(x) = exp(-x^2) P(t), t = 1/(1 + x/2), 0.875 <= x <= %s; error of erf in its ulps" % b))
    return out


HEADER = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "include", "ctnn", "core",
                                      "math.hpp"))


def tables(ctype):
    """The C++ lines of one coefficients<ctype> specialization's generated part."""
    lines = []
    for name, prob, ncoef, comment in problems(ctype):
        coef, err = prob.fit(list(range(ncoef)), PRECISION[ctype])
        lines.append(f"// {comment}: fit error {err:.3f} ulp")
        lines.append(f"static constexpr {ctype} {name}[] = {{")
        lines += [f"    {literal(c, ctype)}," for c in coef]
        lines.append("};")
    return lines


def splice(text, ctype, lines):
    """Replace the generated part of coefficients<ctype> in math.hpp's text."""
    start = text.index("struct coefficients<%s> {\n" % ctype)
    a = text.index("do not edit by hand\n", start) + len("do not edit by hand\n")
    b = text.index("    // range reduction", start)
    return text[:a] + "".join("    " + line + "\n" for line in lines) + text[b:]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true", help="update the tables in include/ctnn/core/math.hpp")
    ap.add_argument("--check", action="store_true", help="exit 1 if math.hpp's tables are stale")
    args = ap.parse_args()
    generated = {ctype: tables(ctype) for ctype in ("float", "double")}
    if not (args.write or args.check):
        for ctype, lines in generated.items():
            print(f"// ---- coefficients<{ctype}>")
            print("\n".join(lines))
        # range-reduction constants: ln2 = hi + lo, hi short enough that k*hi is exact for every k used
        for ctype, hibits in (("float", 16), ("double", 32)):
            hi = round_to(LN2, hibits)
            lo = round_to(LN2 - hi, PRECISION[ctype])
            print(f"// {ctype}: ln2_hi = {literal(hi, ctype)}, ln2_lo = {literal(lo, ctype)}, "
                  f"log2e = {literal(round_to(1 / LN2, PRECISION[ctype]), ctype)}")
        return 0
    with open(HEADER) as f:
        text = f.read()
    new = text
    for ctype, lines in generated.items():
        new = splice(new, ctype, lines)
    if args.check:
        if new != text:
            print(f"{HEADER}: the coefficient tables are stale; run {sys.argv[0]} --write", file=sys.stderr)
            return 1
        print("math.hpp coefficient tables are up to date")
        return 0
    with open(HEADER, "w") as f:
        f.write(new)
    print(f"wrote {HEADER}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
