"""Constraints: where a parameter or a sample may lie (``check`` -> bool tensor).

The names and printed forms are PyTorch's (``constraints.positive`` prints
``GreaterThan(lower_bound=0.0)``), so validation messages read the same.
"""
import chainrule as cr


class Constraint:
    """A region; ``check(value)`` is a bool tensor of the batch shape."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Real(Constraint):
    def check(self, value):
        return value == value  # False only for NaN


class _Boolean(Constraint):
    is_discrete = True

    def check(self, value):
        return (value == 0) | (value == 1)


class _NonNegativeInteger(Constraint):
    is_discrete = True

    def check(self, value):
        return (value % 1 == 0) & (value >= 0)


class _IntegerInterval(Constraint):
    is_discrete = True

    def __init__(self, lower_bound, upper_bound):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound

    def check(self, value):
        inside = (value >= self.lower_bound) & (value <= self.upper_bound)
        return (value % 1 == 0) & inside

    def __repr__(self):
        return (f"IntegerInterval(lower_bound={self.lower_bound}, "
                f"upper_bound={self.upper_bound})")


class _GreaterThan(Constraint):
    def __init__(self, lower_bound):
        self.lower_bound = lower_bound

    def check(self, value):
        return self.lower_bound < value

    def __repr__(self):
        return f"GreaterThan(lower_bound={self.lower_bound})"


class _GreaterThanEq(_GreaterThan):
    def check(self, value):
        return self.lower_bound <= value

    def __repr__(self):
        return f"GreaterThanEq(lower_bound={self.lower_bound})"


class _Interval(Constraint):
    def __init__(self, lower_bound, upper_bound, half_open=False):
        self.lower_bound, self.upper_bound = lower_bound, upper_bound
        self.half_open = half_open

    def check(self, value):
        hi = self.upper_bound
        upper = value < hi if self.half_open else value <= hi
        return (self.lower_bound <= value) & upper

    def __repr__(self):
        name = "HalfOpenInterval" if self.half_open else "Interval"
        return f"{name}(lower_bound={self.lower_bound}, upper_bound={self.upper_bound})"


class _Simplex(Constraint):
    event_dim = 1

    def check(self, value):
        ok = (value >= 0).all(-1)
        return ok & ((value.sum(-1) - 1).abs() < 1e-6)


class _OneHot(Constraint):
    is_discrete = True
    event_dim = 1

    def check(self, value):
        return ((value == 0) | (value == 1)).all(-1) & (value.sum(-1) == 1)


class _LowerCholesky(Constraint):
    event_dim = 2

    def check(self, value):
        lower = (value.tril() == value).flatten(-2).all(-1)
        return lower & (value.diagonal(0, -2, -1) > 0).all(-1)


class _PositiveDefinite(Constraint):
    event_dim = 2

    def check(self, value):
        sym = ((value - value.mT).abs() < 1e-6).flatten(-2).all(-1)
        return sym & (cr.linalg.eigvalsh(value.detach()) > 0).all(-1)


class _IndependentConstraint(Constraint):
    def __init__(self, base, ndims):
        self.base, self.reinterpreted_batch_ndims = base, ndims
        self.event_dim = base.event_dim + ndims
        self.is_discrete = base.is_discrete

    def check(self, value):
        ok = self.base.check(value)
        for _ in range(self.reinterpreted_batch_ndims):
            ok = ok.all(-1)
        return ok

    def __repr__(self):
        return f"IndependentConstraint({self.base}, {self.reinterpreted_batch_ndims})"


class _Dependent(Constraint):
    """Support that depends on the parameters (checked by the distribution)."""

    def check(self, value):
        raise ValueError("cannot check a dependent constraint")


real = _Real()
real_vector = _IndependentConstraint(real, 1)
boolean = _Boolean()
nonnegative_integer = _NonNegativeInteger()
positive = _GreaterThan(0.0)
nonnegative = _GreaterThanEq(0.0)
unit_interval = _Interval(0.0, 1.0)
simplex = _Simplex()
one_hot = _OneHot()
lower_cholesky = _LowerCholesky()
positive_definite = _PositiveDefinite()
dependent = _Dependent()
integer_interval = _IntegerInterval
interval = _Interval
greater_than = _GreaterThan
independent = _IndependentConstraint


def half_open_interval(lower_bound, upper_bound):
    return _Interval(lower_bound, upper_bound, half_open=True)
