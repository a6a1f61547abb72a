"""Op rows: reductions, norms, cumulative ops, sorting and top-k."""
from tests.op_db_base import Const, Fixed, Op

_INF = float("inf")
# Reductions run over 0-d, 1-d, size-1 and 3-d inputs.
ALLDIMS = [((),), ((5,),), ((1, 3),), ((2, 3, 4),)]
DIM1 = [((4, 3),), ((2, 3, 4),), ((1, 3),)]
_ZEROS = Fixed([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5], [1.0, 2.0, -0.5, 0.7]])
_TIES = Fixed([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
_BOOLS = Const([[True, False, True], [True, True, True]])
_NUMS = Const([[0.0, 1.5, -2.0], [1.0, 1.0, 3.0]])


def _red(name, fn, samples=DIM1, **kw):
    return Op(name, fn, samples, gradgrad=True, **kw)


def _nondiff(name, fn, samples):
    return Op(name, fn, samples, dtypes=(None,), grad=False, fd=False)


SUM_MEAN = [
    _red("sum", lambda m, x: m.sum(x), ALLDIMS),
    _red("sum.dim", lambda m, x: x.sum(1)),
    _red("sum.negdim_keepdim", lambda m, x: m.sum(x, -1, keepdim=True)),
    _red("sum.tuple", lambda m, x: x.sum((0, 2)), [((2, 3, 4),), ((1, 2, 1),)]),
    _red("sum.tuple_neg_keepdim", lambda m, x: m.sum(x, dim=(-1, -3), keepdim=True),
         [((2, 3, 4),)]),
    _red("sum.0d_dim0", lambda m, x: x.sum(0), [((),)]),
    # (torch's var/std backward mishandles dim=(), so only values are compared)
    _red("sum_mean.empty_dims", lambda m, x: (x.sum(()), m.mean(x, dim=[])),
         [((2, 3),), ((4,),)]),
    Op("var_std.empty_dims", lambda m, x: (x.std(()), m.var(x, ())),
       [((2, 3),), ((4,),)], grad=False),
    _nondiff("sum.int", lambda m, x: (x.sum(), x.sum(0)),
             [(Const([[1, 2], [3, 4]]),), (_BOOLS,)]),
    _red("mean", lambda m, x: m.mean(x), ALLDIMS),
    _red("mean.dim", lambda m, x: x.mean(-1)),
    _red("mean.tuple_keepdim", lambda m, x: m.mean(x, (0, 1), keepdim=True),
         [((2, 3, 4),), ((1, 3),)]),
    _red("nansum", lambda m, x: m.nansum(x), ALLDIMS),
    _red("nansum.dim_dtype", lambda m, x: m.nansum(x, 1, dtype=m.float64), DIM1),
    Op("nansum.nan", lambda m, x: (m.nansum(x), x.nansum(0)),
       [(Fixed([[1.0, float("nan")], [2.5, -1.0]]),)], fd=False),
]

PROD = [
    _red("prod", lambda m, x: m.prod(x), ALLDIMS + [(_ZEROS,)]),
    _red("prod.dim", lambda m, x: x.prod(1), DIM1 + [(_ZEROS,)]),
    _red("prod.keepdim", lambda m, x: m.prod(x, -1, keepdim=True),
         DIM1 + [(_ZEROS,)]),
    _red("prod.0d_dim0", lambda m, x: x.prod(0), [((),)]),
]

VAR_STD = [
    _red("var", lambda m, x: m.var(x), ALLDIMS[1:]),
    _red("var.dim", lambda m, x: x.var(1)),
    _red("var.unbiased_false", lambda m, x: m.var(x, 1, unbiased=False, keepdim=True)),
    _red("var.correction", lambda m, x: m.var(x, dim=(0, 1), correction=0),
         [((4, 3),), ((2, 3, 4),)]),
    _red("var.correction2", lambda m, x: m.var(x, -1, correction=2),
         [((3, 5),), ((2, 3, 4),)]),
    _red("std", lambda m, x: m.std(x), ALLDIMS[1:]),
    _red("std.dim_keepdim", lambda m, x: x.std(0, keepdim=True), DIM1[:2]),
    _red("std.unbiased_false", lambda m, x: m.std(x, -1, False)),
    _red("std.correction", lambda m, x: m.std(x, (0, -1), correction=0),
         [((4, 3),), ((2, 3, 4),)]),
    _red("var_mean", lambda m, x: m.var_mean(x, 1), DIM1),
    _red("std_mean", lambda m, x: m.std_mean(x, -1, correction=0), DIM1),
]

MAX_MIN = [
    _red("max", lambda m, x: m.max(x), ALLDIMS),
    _red("max.dim", lambda m, x: x.max(1), DIM1),
    _red("max.dim_keepdim", lambda m, x: m.max(x, -1, keepdim=True), DIM1),
    _red("max.0d", lambda m, x: m.max(x, 0), [((),)]),
    _red("max.binary", lambda m, x, y: m.max(x, y), [((2, 3), (3,))]),
    _red("min", lambda m, x: x.min(), ALLDIMS),
    _red("min.dim", lambda m, x: m.min(x, 0), DIM1),
    _red("min.dim_keepdim", lambda m, x: x.min(-2, keepdim=True), DIM1),
    _red("min.binary", lambda m, x, y: m.min(x, y), [((2, 3), (2, 1))]),
    _red("amax", lambda m, x: m.amax(x), ALLDIMS),
    _red("amax.tuple", lambda m, x: m.amax(x, (0, -1)), [((2, 3, 4),)]),
    _red("amax.keepdim", lambda m, x: x.amax(1, keepdim=True), DIM1),
    _red("amin", lambda m, x: m.amin(x, -1), DIM1),
    _red("amin.tuple_keepdim", lambda m, x: m.amin(x, (1, 2), True), [((2, 3, 4),)]),
    # Ties share the gradient equally in amax/amin and the whole-tensor max/min.
    _red("amax.ties", lambda m, x: (m.amax(x, 1), m.amax(x)), [(_TIES,)], fd=False),
    _red("amin.ties", lambda m, x: (m.amin(x, 0), x.min()), [(_TIES,)], fd=False),
    _nondiff("argmax", lambda m, x: (m.argmax(x), x.argmax(1), m.argmax(x, -1, True)),
             [(_NUMS,), (Const([[1, 5, 5], [2, 2, 0]]),)]),
    _nondiff("argmin", lambda m, x: (m.argmin(x), x.argmin(0), m.argmin(x, 1, True)),
             [(_NUMS,), (Const([[1, 5, 5], [2, 2, 0]]),)]),
    _nondiff("max.int", lambda m, x: (x.max(), x.max(1), x.min(0)),
             [(Const([[1, 5, 3], [2, 0, 4]]),)]),
    _red("aminmax", lambda m, x: m.aminmax(x, dim=1), DIM1),
    _red("logsumexp", lambda m, x: m.logsumexp(x, 1), DIM1),
    _red("logsumexp.tuple_keepdim", lambda m, x: m.logsumexp(x, (0, -1), keepdim=True),
         [((2, 3, 4),), ((1, 3),)]),
    _red("logsumexp.large", lambda m, x: m.logsumexp(x, -1),
         [(Fixed([[1000.0, 1001.0, 999.0], [-1000.0, -1002.0, -999.0]]),)]),
    _red("logsumexp.0d", lambda m, x: m.logsumexp(x, 0), [((),)]),
]

NORMS = [
    _red("norm", lambda m, x: m.norm(x), ALLDIMS),
    _red("norm.p1_dim", lambda m, x: m.norm(x, p=1, dim=1), DIM1, domain="nonzero"),
    _red("norm.inf", lambda m, x: m.norm(x, p=_INF), DIM1),
    _red("norm.p3_keepdim", lambda m, x: x.norm(3, dim=-1, keepdim=True), DIM1),
    _red("norm.fro_tuple", lambda m, x: m.norm(x, dim=(0, 1)),
         [((4, 3),), ((2, 3, 4),)]),
    _red("norm.nuc", lambda m, x: m.norm(x, p="nuc"), [((4, 3),), ((2, 3),)]),
    _red("vector_norm", lambda m, x: m.linalg.vector_norm(x), ALLDIMS),
    _red("vector_norm.ord1", lambda m, x: m.linalg.vector_norm(x, 1, dim=-1),
         DIM1, domain="nonzero"),
    _red("vector_norm.inf", lambda m, x: m.linalg.vector_norm(x, _INF, (0, 1)), DIM1),
    _red("vector_norm.neginf", lambda m, x: m.linalg.vector_norm(x, -_INF, 1), DIM1),
    _red("vector_norm.ord0", lambda m, x: m.linalg.vector_norm(x, 0, 1), DIM1),
    _red("vector_norm.ord3", lambda m, x: m.linalg.vector_norm(x, 3, 1, keepdim=True),
         DIM1),
    _red("vector_norm.ord_half", lambda m, x: m.linalg.vector_norm(x, 0.5, -1),
         DIM1, domain="nonzero"),
    _red("vector_norm.ord_neg1", lambda m, x: m.linalg.vector_norm(x, -1, -1),
         DIM1, domain="nonzero"),
    _red("vector_norm.dtype", lambda m, x: m.linalg.vector_norm(x, dtype=m.float64),
         DIM1),
    # At 0 the 2-norm's gradient is 0 (a subgradient), not NaN.  (PyTorch's
    # second derivative there is NaN: nothing worth matching.)
    Op("vector_norm.zero", lambda m, x: m.linalg.vector_norm(x, dim=1),
       [(Fixed([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]]),)], fd=False),
]

CUMULATIVE = [
    _red("cumsum", lambda m, x: x.cumsum(0), DIM1),
    _red("cumsum.negdim", lambda m, x: m.cumsum(x, dim=-1), DIM1 + [((),)]),
    _nondiff("cumsum.int", lambda m, x: m.cumsum(x, 0), [(Const([1, 2, 3]),),
                                                         (_BOOLS,)]),
    _red("cumprod", lambda m, x: x.cumprod(1), DIM1),
    _red("cumprod.negdim", lambda m, x: m.cumprod(x, -1), DIM1 + [((),)]),
    # Zeros in the input: the gradient must not come from dividing by x.
    _red("cumprod.zeros", lambda m, x: m.cumprod(x, 1),
         [(_ZEROS,), (Fixed([[0.0, 2.0, 3.0]]),), (Fixed([[2.0, 3.0, 0.0]]),)]),
    _red("cumprod.zeros_dim0", lambda m, x: m.cumprod(x, 0), [(_ZEROS,)]),
    _red("cummax", lambda m, x: m.cummax(x, 1), DIM1),
    _red("cummin", lambda m, x: x.cummin(0), DIM1),
]

LOGIC = [
    _nondiff("all", lambda m, x: (m.all(x), x.all(1), m.all(x, 0, keepdim=True)),
             [(_BOOLS,), (_NUMS,)]),
    _nondiff("all_any.empty_dims", lambda m, x: (x.all(()), m.any(x, dim=())),
             [(_BOOLS,), (_NUMS,)]),
    _nondiff("any", lambda m, x: (m.any(x), x.any(0), m.any(x, -1, keepdim=True)),
             [(_BOOLS,), (_NUMS,), (Const([[0, 0, 0], [0, 1, 0]]),)]),
    _nondiff("count_nonzero", lambda m, x: (m.count_nonzero(x), m.count_nonzero(x, 1)),
             [(_NUMS,), (_BOOLS,)]),
]

SORTING = [
    _red("sort", lambda m, x: m.sort(x), DIM1 + [((5,),)]),
    _red("sort.dim_desc", lambda m, x: x.sort(0, descending=True), DIM1),
    _red("sort.stable", lambda m, x: m.sort(x, stable=True),
         [(Fixed([[2.0, 1.0, 2.0, 1.0, 0.0]]),)], fd=False),
    _nondiff("sort.stable_desc", lambda m, x: m.sort(x, descending=True, stable=True),
             [(Const([[2.0, 1.0, 2.0, 1.0, 0.0]]),), (Const([3, 1, 3, 3, 0]),)]),
    _nondiff("argsort", lambda m, x: (m.argsort(x), x.argsort(0, descending=True)),
             [(_NUMS,), (Const([[4, 1, 7], [0, 9, 3]]),)]),
    _red("topk", lambda m, x: m.topk(x, 2), DIM1),
    _red("topk.smallest", lambda m, x: x.topk(2, dim=0, largest=False), DIM1[:2]),
    _red("topk.k_all", lambda m, x: m.topk(x, 3, -1), [((4, 3),), ((3,),)]),
    _red("topk.0d", lambda m, x: m.topk(x, 1), [((),)]),
    _red("kthvalue", lambda m, x: m.kthvalue(x, 2, 1), DIM1),
    _red("median", lambda m, x: (m.median(x), x.median(0)), [((4, 3),), ((5, 2),)]),
    # Whole-tensor median shares the gradient among ties, like amax.
    _red("median.ties", lambda m, x: m.median(x), [(Fixed([2.0, 2.0, 1.0, 3.0]),)],
         fd=False),
]

ROWS = SUM_MEAN + PROD + VAR_STD + MAX_MIN + NORMS + CUMULATIVE + LOGIC + SORTING
