"""Op rows: special functions (``chainrule/ops/special.py``)."""
import numpy as np

from tests.op_db_base import F64, UNARY, Const, Fixed, Op


def _sp(name, fn, domain, **kw):
    return Op(name, fn, UNARY, domain=domain, gradgrad=True, **kw)


ROWS = [
    _sp("lgamma", lambda m, x: m.lgamma(x), "pos"),
    _sp("lgamma.neg", lambda m, x: m.lgamma(x), (-2.9, -2.1)),
    _sp("lgamma.wide", lambda m, x: m.lgamma(x), (0.1, 8.0)),
    _sp("digamma", lambda m, x: m.digamma(x), "pos"),
    _sp("digamma.neg", lambda m, x: m.digamma(x), (-1.9, -1.1)),
    _sp("polygamma.1", lambda m, x: m.polygamma(1, x), "pos"),
    _sp("polygamma.2", lambda m, x: m.polygamma(2, x), (0.3, 5.0)),
    _sp("polygamma.0", lambda m, x: m.polygamma(0, x), "pos"),
    _sp("erfinv", lambda m, x: m.erfinv(x), (-0.9, 0.9)),
    Op("erfinv.edges", lambda m, x: m.erfinv(x), [(Fixed([-1.0, 0.0, 1.0]),)],
       grad=False, fd=False),
    # differentiable in x only (as in PyTorch): the shape a is a constant
    Op("igamma", lambda m, a, x: m.igamma(a, x),
       [(Const(np.array([[0.4, 2.5, 1.0], [7.0, 3.0, 0.8]])), (2, 3)),
        (Const(np.array([1.5])), (4,))], domain="pos", dtypes=(F64,),
       gradgrad=True),
]
