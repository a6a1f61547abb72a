"""Search spaces: ``{"lr": Float(1e-4, 1e-1, log=True), "width": Int(8, 64)}``.

An entry may be *conditional*: ``Float(0.0, 0.9, when={"optimizer": "sgd"})``
exists only in trials where ``optimizer`` took the value ``"sgd"`` (or one of
a tuple of values); otherwise it is left out of the trial's ``params``.
Conditions refer to entries listed before them in the space dict.

These objects hold hyper-parameters (Python numbers), not tensor data, so the
random draws use Python's and NumPy's generators seeded by the search.
"""
import math
import numbers

from ..errors import ArgumentError


class _Dim:
    when = None

    def _set_when(self, when, who):
        if when is not None and not isinstance(when, dict):
            raise ArgumentError(f"{who}: when must be a dict {{name: value or tuple}}, "
                                f"got {type(when).__name__}")
        self.when = when

    def active(self, params):
        """Whether this entry exists given the values chosen before it."""
        if not self.when:
            return True
        for name, want in self.when.items():
            vals = want if isinstance(want, (tuple, list, set)) else (want,)
            if name not in params or params[name] not in vals:
                return False
        return True


class Float(_Dim):
    """A real number in [lo, hi]; ``log=True`` searches log-uniformly (lo > 0)."""

    def __init__(self, lo, hi, log=False, *, when=None):
        for v, n in ((lo, "lo"), (hi, "hi")):
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not \
                    math.isfinite(v):
                raise ArgumentError(f"tune.Float: {n} must be a finite number, got "
                                    f"{v!r}")
        if not lo < hi:
            raise ArgumentError(f"tune.Float: need lo < hi, got lo={lo}, hi={hi}")
        if log and lo <= 0:
            raise ArgumentError(f"tune.Float: log=True needs lo > 0, got lo={lo}")
        self.lo, self.hi, self.log = float(lo), float(hi), bool(log)
        self._set_when(when, "tune.Float")

    def _to_unit(self, v):
        if self.log:
            return (math.log(v) - math.log(self.lo)) / (math.log(self.hi) -
                                                          math.log(self.lo))
        return (v - self.lo) / (self.hi - self.lo)

    def _from_unit(self, u):
        u = min(max(u, 0.0), 1.0)
        if self.log:
            return math.exp(math.log(self.lo) + u * (math.log(self.hi) -
                                                     math.log(self.lo)))
        return self.lo + u * (self.hi - self.lo)

    def sample(self, rng):
        return self._from_unit(rng.random())

    def grid(self, n):
        return [self._from_unit(i / (n - 1)) for i in range(n)] if n > 1 else [
            self._from_unit(0.5)]

    def narrow(self, values, margin):
        """The sub-range spanned by ``values``, widened by ``margin`` (a fraction
        of the current width) on each side, clipped to this range."""
        us = [self._to_unit(v) for v in values]
        lo, hi = min(us) - margin, max(us) + margin
        lo, hi = max(lo, 0.0), min(hi, 1.0)
        if hi - lo < 1e-9:
            return self
        new = Float(self._from_unit(lo), self._from_unit(hi), self.log, when=self.when)
        return new

    def __repr__(self):
        return f"Float({self.lo:g}, {self.hi:g}{', log=True' if self.log else ''})"


class Int(Float):
    """An integer in [lo, hi] (both included); ``log=True`` as for Float."""

    def __init__(self, lo, hi, log=False, *, when=None):
        for v, n in ((lo, "lo"), (hi, "hi")):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ArgumentError(f"tune.Int: {n} must be an int, got {v!r}")
        if not lo <= hi:
            raise ArgumentError(f"tune.Int: need lo <= hi, got lo={lo}, hi={hi}")
        if log and lo <= 0:
            raise ArgumentError(f"tune.Int: log=True needs lo > 0, got lo={lo}")
        self.lo, self.hi, self.log = int(lo), int(hi), bool(log)
        self._set_when(when, "tune.Int")

    def _from_unit(self, u):
        # Stretch the range to [lo, hi + 1) and floor, so that every integer,
        # the end points included, gets an equal share (in log space if log).
        u = min(max(u, 0.0), 1.0)
        if self.log:
            a, b = math.log(self.lo), math.log(self.hi + 1)
            v = math.exp(a + u * (b - a))
        else:
            v = self.lo + u * (self.hi - self.lo + 1)
        return int(min(max(math.floor(v), self.lo), self.hi))

    def _to_unit(self, v):
        if self.lo == self.hi:
            return 0.5
        return Float._to_unit(Float(self.lo, self.hi, self.log), v)

    def grid(self, n):
        if self.hi - self.lo + 1 <= n:
            return list(range(self.lo, self.hi + 1))
        f = Float(self.lo, self.hi, self.log)
        return sorted({int(round(v)) for v in f.grid(n)})

    def narrow(self, values, margin):
        f = Float(self.lo, self.hi + 1e-9, self.log).narrow(values, margin)
        if not isinstance(f, Float) or f is self:
            return self
        return Int(int(math.floor(f.lo)), max(int(math.ceil(f.hi)), int(math.floor(
            f.lo))), self.log, when=self.when)

    def __repr__(self):
        return f"Int({self.lo}, {self.hi}{', log=True' if self.log else ''})"


class Choice(_Dim):
    """One of a list of options (numbers, strings, bools or None)."""

    def __init__(self, options, *, when=None):
        if not isinstance(options, (list, tuple)) or not options:
            raise ArgumentError(f"tune.Choice: options must be a non-empty list, got "
                                f"{options!r}")
        for o in options:
            if not (o is None or isinstance(o, (str, numbers.Number, bool))):
                raise ArgumentError(f"tune.Choice: options must be numbers, strings, "
                                    f"bools or None (stored in the study file), got "
                                    f"{type(o).__name__}")
        self.options = list(options)
        self._set_when(when, "tune.Choice")

    def sample(self, rng):
        return self.options[int(rng.integers(len(self.options)))]

    def grid(self, n):
        return list(self.options)

    def narrow(self, values, margin):
        # Options are kept: a handful of good trials says little about an
        # unordered choice, and dropping the right option cannot be undone.
        return self

    def __repr__(self):
        return f"Choice({self.options!r})"


def check_space(space):
    """Validate ``space`` (a dict name -> Float/Int/Choice); returns it."""
    if not isinstance(space, dict) or not space:
        raise ArgumentError(f"tune.search: space must be a non-empty dict of name -> "
                            f"tune.Float/Int/Choice, got {type(space).__name__}")
    seen = []
    for name, dim in space.items():
        if not isinstance(name, str):
            raise ArgumentError(f"tune.search: space keys must be str, got {name!r}")
        if not isinstance(dim, _Dim):
            raise ArgumentError(f"tune.search: space[{name!r}] must be tune.Float, "
                                f"tune.Int or tune.Choice, got {type(dim).__name__}")
        for dep in (dim.when or {}):
            if dep not in seen:
                raise ArgumentError(f"tune.search: space[{name!r}] depends on {dep!r}, "
                                    f"which must be an entry listed before it")
        seen.append(name)
    return space


def sample(space, rng):
    """One random configuration: a dict of the active entries' values."""
    params = {}
    for name, dim in space.items():
        if dim.active(params):
            params[name] = dim.sample(rng)
    return params


def grid(space, n):
    """Every configuration of the grid with ``n`` points per numeric entry.

    Conditional entries are expanded only where active, so no duplicate
    configurations arise from inactive entries."""
    configs = [{}]
    for name, dim in space.items():
        out = []
        for c in configs:
            if dim.active(c):
                out.extend(dict(c, **{name: v}) for v in dim.grid(n))
            else:
                out.append(c)
        configs = out
    return configs


def grid_size(space, n):
    return len(grid(space, n))

