"""Ranges of intermediate values: interval arithmetic over the primitive calls.

``explain`` shows, for each component of a function, the set its values live
in when the input ranges over all of R^n (``sin x`` lies in [-1, 1],
``exp x`` in (0, inf)).  An interval is ``(lo, hi, lo_closed, hi_closed)``;
infinite ends are always open.  Primitives without a rule here give R, which is
always true, just not tight.
"""
import math

INF = math.inf
REAL = (-INF, INF, False, False)


def _iv(lo, hi, lc=True, hc=True):
    """Normalise: infinite ends are open."""
    return (lo, hi, lc and math.isfinite(lo), hc and math.isfinite(hi))


def _monotone(f, iv, increasing=True):
    lo, hi, lc, hc = iv
    a, b = _safe(f, lo), _safe(f, hi)
    # An end reached only in the limit (an open or infinite end) stays open.
    if increasing:
        return _iv(a, b, lc, hc)
    return _iv(b, a, hc, lc)


def _safe(f, v):
    try:
        return f(v)
    except (ValueError, OverflowError):
        return -INF if v <= 0 else INF


def _log(v):
    return -INF if v <= 0 else math.log(v)


def _exp(v):
    if v == -INF:
        return 0.0
    return INF if v > 700 else math.exp(v)


def _periodic(f, iv, peaks):
    """sin/cos: exact extremes over a finite interval, [-1, 1] over a wide one."""
    lo, hi, lc, hc = iv
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi - lo >= 2 * math.pi:
        return (-1.0, 1.0, True, True)
    pts = [(f(lo), lc), (f(hi), hc)]
    k = math.ceil((lo - peaks) / (math.pi / 2))
    while peaks + k * math.pi / 2 <= hi:
        pts.append((f(peaks + k * math.pi / 2), True))
        k += 1
    vmin = min(p[0] for p in pts)
    vmax = max(p[0] for p in pts)
    return (vmin, vmax, any(c for v, c in pts if v == vmin),
            any(c for v, c in pts if v == vmax))


def _pow(iv, e):
    lo, hi, lc, hc = iv
    if float(e).is_integer() and int(e) % 2 == 0 and e > 0:
        if lo < 0 < hi or lo == 0 or hi == 0:
            top = max(abs(lo), abs(hi))
            closed = (hc if abs(hi) >= abs(lo) else lc) and math.isfinite(top)
            return _iv(0.0, top ** e if math.isfinite(top) else INF, True, closed)
        if hi < 0:
            return _monotone(lambda v: v ** e, iv, increasing=False)
        return _monotone(lambda v: v ** e, iv)
    if float(e).is_integer() and e > 0:
        return _monotone(lambda v: v ** e, iv)
    if e > 0 and lo >= 0:
        return _monotone(lambda v: v ** e, iv)
    return REAL


def _mul(a, b):
    prods = [_prod(x, y) for x in (a[0], a[1]) for y in (b[0], b[1])]
    closed = a[2] and a[3] and b[2] and b[3]
    return _iv(min(prods), max(prods), closed, closed)


def _prod(x, y):
    if x == 0 or y == 0:
        return 0.0
    return x * y


def _add(a, b):
    return _iv(a[0] + b[0], a[1] + b[1], a[2] and b[2], a[3] and b[3])


def _scale(iv, n):
    """Sum of ``n`` values from ``iv``."""
    lo, hi, lc, hc = iv
    return _iv(lo * n if lo else 0.0, hi * n if hi else 0.0, lc, hc)


def _matmul_const(w, iv):
    """Range of each ``sum_j w_ij u_j`` with every ``u_j`` in ``iv``."""
    lo, hi, lc, hc = iv
    los, his = [], []
    for row in w:
        a = b = 0.0
        for wij in row:
            if wij > 0:
                a, b = a + _prod(wij, lo), b + _prod(wij, hi)
            elif wij < 0:
                a, b = a + _prod(wij, hi), b + _prod(wij, lo)
        los.append(a)
        his.append(b)
    return _iv(min(los), max(his), lc and hc, lc and hc)


def of_values(values):
    """The smallest closed interval holding a list of numbers (a constant)."""
    return _iv(min(values), max(values))


def propagate(name, params, ivs, same, const_rows, fan_in):
    """Interval of a primitive's output from its inputs' intervals.

    ``same``: the first two operands are one tensor (``a * a``).
    ``const_rows``: for ``matmul`` with a constant left operand, its rows.
    ``fan_in``: for ``sum``, how many input values make one output value.
    """
    x = ivs[0]
    if name == "sum":
        return _scale(x, fan_in)
    if name == "sin":
        return _periodic(math.sin, x, math.pi / 2)
    if name == "cos":
        return _periodic(math.cos, x, 0.0)
    if name == "exp":
        return _monotone(_exp, x)
    if name == "log":
        return _monotone(_log, x)
    if name == "tanh":
        return _monotone(math.tanh, x)
    if name == "sigmoid":
        return _monotone(lambda v: 1 / (1 + _exp(-v)) if v != -INF else 0.0, x)
    if name == "sqrt":
        return _monotone(lambda v: math.sqrt(max(v, 0.0)), x)
    if name == "relu":
        return _monotone(lambda v: max(v, 0.0), x)
    if name == "neg":
        return _monotone(lambda v: -v, x, increasing=False)
    if name == "abs":
        return _abs(x)
    if name == "pow_scalar":
        return _pow(x, params["exponent"])
    if name == "mul":
        return _pow(x, 2) if same else _mul(x, ivs[1])
    if name == "add":
        return _add(x, ivs[1])
    if name == "sub":
        return _add(x, _monotone(lambda v: -v, ivs[1], increasing=False))
    if name in ("reshape", "clone", "permute", "expand"):
        return x
    if name == "matmul" and const_rows is not None:
        return _matmul_const(const_rows, ivs[1])
    return REAL


def _abs(iv):
    lo, hi, lc, hc = iv
    if lo >= 0:
        return iv
    if hi <= 0:
        return _monotone(lambda v: -v, iv, increasing=False)
    top = max(-lo, hi)
    return _iv(0.0, top, True, hc if hi >= -lo else lc)


_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _num(v):
    if v == INF:
        return "∞"
    if v == -INF:
        return "-∞"
    return f"{v:.4g}"


def fmt(iv, shape):
    """'[-1, 1]', '(0, ∞)³', 'ℝ^(2×3)': the interval to the power of the shape."""
    lo, hi, lc, hc = iv
    if lo == -INF and hi == INF:
        base = "ℝ"
    else:
        base = ("[" if lc else "(") + f"{_num(lo)}, {_num(hi)}" + ("]" if hc else ")")
    if not shape:
        return base
    if len(shape) == 1:
        return base + str(shape[0]).translate(_SUP)
    return base + "^(" + "×".join(str(s) for s in shape) + ")"
