"""Tensor methods that PyTorch programs call, checked against PyTorch:
values and gradients of the method spellings, and format specs."""
import numpy as np
import pytest
import torch

import chainrule as cr

from .oracle import check_against_torch

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
X32 = X.astype(np.float32)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("x", [X, X32], ids=["f64", "f32"])
def test_softmax_methods(name, dim, x):
    fn = lambda t: getattr(t, name)(dim)  # noqa: E731
    check_against_torch(fn, fn, [x])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_methods_dtype_and_0d(name):
    check_against_torch(lambda t: getattr(t, name)(1, dtype=cr.float64),
                        lambda t: getattr(t, name)(1, dtype=torch.float64), [X32])
    check_against_torch(lambda t: getattr(t, name)(0), lambda t: getattr(t, name)(0),
                        [np.array(1.5)])


def test_masked_fill_softmax_pattern():
    # Causal attention as PyTorch code writes it.
    mask = np.triu(np.ones((4, 4), bool), 1)
    att = RNG.standard_normal((2, 4, 4))
    check_against_torch(
        lambda a: a.masked_fill(cr.tensor(mask), float("-inf")).softmax(-1),
        lambda a: a.masked_fill(torch.tensor(mask), float("-inf")).softmax(-1), [att])


@pytest.mark.parametrize("data", [1.5, -2, True, 3.0e-7, [2.5], [[1.0, 2.0]]], ids=str)
@pytest.mark.parametrize("spec", ["", ".6f", ">10", "e", "+.3g", "d"])
def test_format_like_torch(data, spec):
    c, t = cr.tensor(data), torch.tensor(data)
    try:
        want = format(t, spec)
    except (TypeError, ValueError) as e:
        with pytest.raises(type(e), match=str(e).split(" for object")[0][:30]):
            format(c, spec)
        return
    if t.ndim == 0:
        assert format(c, spec) == want
    else:  # the empty spec gives str(), whose layout is chainrule's own
        assert format(c, spec) == str(c)


def test_format_requires_grad_and_str_format():
    loss = cr.tensor(0.123456789, requires_grad=True) * 2
    assert "{:.6f}".format(loss) == "{:.6f}".format(torch.tensor(0.123456789) * 2)
    assert f"{loss:.3e}" == "2.469e-01"


# -- the composites of chainrule/_extra.py and their method spellings ------------------
A = RNG.standard_normal((3, 4))
B = RNG.standard_normal((3, 4))
P = RNG.uniform(0.05, 0.95, (3, 4))
SQ = RNG.standard_normal((3, 3)) + 3 * np.eye(3)
V3 = RNG.standard_normal(3)
V4 = RNG.standard_normal(4)
BA = RNG.standard_normal((2, 3, 4))
BB = RNG.standard_normal((2, 4, 5))
WITH_SPECIAL = np.array([[0.0, -1.5, np.nan], [np.inf, -np.inf, 2.0]])
IDX = np.array([2, 0])


def both(name, *args, **kwargs):
    """``(chainrule fn, torch fn)`` calling function ``name`` with extra args."""
    def call(mod):
        return lambda *t: getattr(mod, name)(*t, *args, **kwargs)
    return call(cr), call(torch)


def meth(name, *args, **kwargs):
    return (lambda t, *r: getattr(t, name)(*r, *args, **kwargs),) * 2


ROWS = [
    ("arccos", meth("arccos"), [P]), ("arcsinh", both("arcsinh"), [A]),
    ("arctanh", meth("arctanh"), [P]), ("arccosh", meth("arccosh"), [P + 1.5]),
    ("positive", both("positive"), [A]), ("hypot", both("hypot"), [A, B]),
    ("logaddexp", both("logaddexp"), [A * 30, B]),
    ("logaddexp2", meth("logaddexp2"), [A, B]),
    ("copysign", (lambda a: cr.copysign(a, cr.tensor(B)),
                                       lambda a: torch.copysign(a, torch.tensor(B))),
                          [A]),
    ("deg2rad", both("deg2rad"), [A]), ("rad2deg", meth("rad2deg"), [A]),
    ("heaviside", both("heaviside"), [np.array([-1.0, 0.0, 2.0]),
                                       np.array([0.5, 0.25, 0.75])], False),
    ("signbit", both("signbit"), [A]), ("sinc", both("sinc"), [np.r_[A.ravel(), 0.0]]),
    ("logit", both("logit"), [P]), ("logit_eps", both("logit", eps=0.1), [P]),
    ("nan_to_num", both("nan_to_num"), [WITH_SPECIAL]),
    ("nan_to_num_args", meth("nan_to_num", 1.0, 9.0, -9.0), [WITH_SPECIAL]),
    ("ldexp", both("ldexp"), [A, np.array([1.0, 2.0, -1.0, 0.0])]),
    ("angle", both("angle"), [A]), ("conj", meth("conj"), [A]),
    ("resolve_conj", both("resolve_conj"), [A]), ("isreal", both("isreal"), [A]),
    ("nanmean", both("nanmean", 1), [np.where(A > 1, np.nan, A)]),
    ("logcumsumexp", both("logcumsumexp", 1), [A * 20]),
    ("msort", both("msort"), [A]), ("ravel", meth("ravel"), [A.T]),
    ("select", both("select", 1, -2), [A]),
    ("take", (lambda a: a.take(cr.tensor(IDX)), lambda a: a.take(torch.tensor(IDX))),
     [A]),
    ("narrow_copy", both("narrow_copy", 1, 1, 2), [A]),
    ("rot90", both("rot90", 1, (0, 1)), [A]),
    ("rot90_3", meth("rot90", 3, [1, 0]), [A]),
    ("rot90_2", both("rot90", 2), [BA]),
    ("diff", both("diff"), [A]), ("diff_n2_dim0", both("diff", 2, 0), [BA]),
    ("kron", both("kron"), [A, SQ]), ("kron_1d", both("kron"), [V3, V4]),
    ("diagflat", both("diagflat", 1), [V3]),
    ("hardshrink", meth("hardshrink", 0.3), [A]),
    ("prelu", both("prelu"), [BA, np.array([0.1, 0.2, 0.3])]),
    ("addmv", both("addmv", beta=0.5, alpha=2.0), [V3, A, V4]),
    ("addr", meth("addr"), [A, V3, V4]),
    ("addbmm", both("addbmm", alpha=0.5), [RNG.standard_normal((3, 5)), BA, BB]),
    ("baddbmm", meth("baddbmm", beta=0.5), [RNG.standard_normal((2, 3, 5)), BA, BB]),
    ("dist", both("dist"), [A, B]), ("dist_p1", meth("dist", p=1), [A, B]),
    ("matrix_power", both("matrix_power", 3), [SQ]),
    ("matrix_power_neg", meth("matrix_power", -2), [SQ]),
    ("matrix_power_0", both("matrix_power", 0), [SQ]),
    ("index_copy", (lambda x, s: x.index_copy(1, cr.tensor(IDX), s),
                    lambda x, s: x.index_copy(1, torch.tensor(IDX), s)),
     [A, RNG.standard_normal((3, 2))]),
    ("select_scatter", both("select_scatter", 0, 1), [A, V4]),
    ("slice_scatter", both("slice_scatter", 1, 1, 4, 2),
     [A, RNG.standard_normal((3, 2))]),
    ("unfold", meth("unfold", 1, 2, 1), [A]),
    ("unfold_step", meth("unfold", 0, 2, 2), [BA]),
    ("sum_to_size", meth("sum_to_size", 1, 4), [A]),
    ("cross", meth("cross", dim=1),
     [RNG.standard_normal((4, 3)), RNG.standard_normal((4, 3))]),
    ("adjoint", both("adjoint"), [BA]), ("real", both("real"), [A]),
    ("cdist", both("cdist"), [A, B[:2]]),
    ("cdist_p1", both("cdist", p=1.0), [A, B[:2]]),
    ("trapezoid", both("trapezoid"), [A]), ("trapz_dx", both("trapz", dx=0.5), [A]),
    ("trapezoid_x",
     (lambda y, x: cr.trapezoid(y, x), lambda y, x: torch.trapezoid(y, x)),
     [A, np.cumsum(np.abs(V4))]),
    ("cumulative_trapezoid", both("cumulative_trapezoid", dim=0), [A]),
    # torch.vander's own backward fails (it writes in place), so values only.
    ("vander", both("vander", 4), [V3], False),
    ("vander_inc", both("vander", increasing=True), [V3], False),
    ("chain_matmul", (lambda *t: cr.chain_matmul(*t), lambda *t: torch.linalg.multi_dot(
        t)), [A, B.T, SQ]),
    ("block_diag", both("block_diag"), [A, V3, SQ]),
    ("cartesian_prod", both("cartesian_prod"), [V3, V4]),
    ("column_stack", (lambda *t: cr.column_stack(t), lambda *t: torch.column_stack(t)),
     [V3, A[:, :2]]),
    ("dstack", (lambda *t: cr.dstack(t), lambda *t: torch.dstack(t)), [A, B]),
    ("row_stack", (lambda *t: cr.row_stack(t), lambda *t: torch.row_stack(t)), [A, B]),
    ("meshgrid_xy", (lambda a, b: cr.meshgrid(a, b, indexing="xy"),
                     lambda a, b: torch.meshgrid(a, b, indexing="xy")), [V3, V4]),
    ("meshgrid_ij", (lambda a, b, c: cr.meshgrid([a, b, c], indexing="ij"),
                     lambda a, b, c: torch.meshgrid([a, b, c], indexing="ij")),
     [V3, V4, V3]),
    ("hsplit", both("hsplit", 2), [A]), ("vsplit", meth("vsplit", [1]), [A]),
    ("dsplit", both("dsplit", 2), [BA]),
    ("split_with_sizes", meth("split_with_sizes", [1, 3], 1), [A]),
    ("unsafe_chunk", both("unsafe_chunk", 2, 1), [A]),
    ("softmax_fn", both("softmax", 0), [A]), ("log_softmax_fn", both("log_softmax", 1),
                                               [A]),
    ("detach_copy", both("detach_copy"), [A]), ("permute_copy", both("permute_copy",
                                                                      (1, 0)), [A]),
    ("slice_copy", both("slice_copy", 1, 1, 3), [A]),
    ("transpose_copy", both("transpose_copy", 0, 1), [A]),
    ("expand_copy", both("expand_copy", (2, 3, 4)), [A]),
    ("fill", both("fill", 2.5), [A]), ("isin", both("isin"), [np.array([1, 2, 3, 2]),
                                                              np.array([2, 5])]),
    ("searchsorted", both("searchsorted"), [np.array([1.0, 2.0, 2.0, 4.0]),
                                            np.array([0.5, 2.0, 3.0, 9.0])]),
    ("searchsorted_right", both("searchsorted", right=True),
     [np.sort(A, 1), B]),
    ("bucketize", (lambda x, b: cr.bucketize(x, b), lambda x, b: torch.bucketize(x, b)),
     [A, np.array([-1.0, 0.0, 1.0])]),
    ("conv1d_alias", both("conv1d"), [BA, RNG.standard_normal((2, 3, 2))]),
    ("cosine_similarity_alias", both("cosine_similarity"), [A, B]),
    ("dropout_eval_alias", both("dropout", 0.5, False), [A]),
]


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_composite_against_torch(row):
    name, fns, inputs, *grads = row
    check_against_torch(fns[0], fns[1], inputs, grads=grads[0] if grads else True)


INPLACE = [("hypot_", [A, B]), ("logit_", [P]), ("arccos_", [P]), ("tan_", [A]),
           ("eq_", [A, A.round()]), ("lt_", [A, B]), ("cumsum_", [A], 1),
           ("tril_", [SQ]), ("addmv_", [V3, A, V4]), ("nan_to_num_", [WITH_SPECIAL]),
           ("xlogy_", [P, P])]


@pytest.mark.parametrize("row", INPLACE, ids=[r[0] for r in INPLACE])
def test_inplace_methods_against_torch(row):
    name, inputs, *extra = row

    def run(mod, fn):
        def f(x, *rest):
            y = x * 1  # not a leaf, so it may change in place
            return getattr(y, name)(*rest, *extra)
        return f
    check_against_torch(run(cr, None), run(torch, None), inputs)


def test_index_put_and_fill_diagonal_inplace():
    for wrap in (False, True):
        c, t = cr.zeros(7, 3), torch.zeros(7, 3)
        c.fill_diagonal_(2.0, wrap=wrap)
        t.fill_diagonal_(2.0, wrap=wrap)
        np.testing.assert_array_equal(c.numpy(), t.numpy())
    c, t = cr.zeros(3, 3, 3), torch.zeros(3, 3, 3)
    np.testing.assert_array_equal(c.fill_diagonal_(1.0).numpy(),
                                  t.fill_diagonal_(1.0).numpy())
    idx = (np.array([0, 2]), np.array([1, 3]))
    c, t = cr.tensor(A), torch.tensor(A)
    c.index_put_(tuple(cr.tensor(i) for i in idx),
                 cr.tensor([5.0, 6.0], dtype=cr.float64))
    t.index_put_(tuple(torch.tensor(i) for i in idx),
                 torch.tensor([5.0, 6.0], dtype=torch.float64))
    np.testing.assert_array_equal(c.numpy(), t.numpy())


def test_top_level_inplace_and_constants():
    c, t = cr.tensor(A), torch.tensor(A)
    np.testing.assert_allclose(cr.sigmoid_(c).numpy(), torch.sigmoid_(t).numpy(),
                               rtol=1e-12)
    assert (cr.pi, cr.e, cr.inf) == (torch.pi, torch.e, torch.inf)
    assert np.isnan(cr.nan) and cr.newaxis is None


@pytest.mark.parametrize("fn,args", [
    ("range", (1, 4)), ("range", (0, 1, 0.25)), ("hann_window", (6,)),
    ("hann_window", (5, False)), ("hamming_window", (7,)), ("blackman_window", (8,)),
    ("bartlett_window", (5,)), ("bartlett_window", (6, False)),
    ("tril_indices", (4, 3, 1)), ("triu_indices", (3, 5, -1)),
    ("scalar_tensor", (2.5,)),
])
def test_creation_against_torch(fn, args):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.range is deprecated
        want = getattr(torch, fn)(*args)
    got = getattr(cr, fn)(*args)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7)
    assert got.dtype.name == str(want.dtype).split(".")[-1]


def test_predicates_metadata_and_info():
    c, t = cr.tensor(A), torch.tensor(A)
    for a, b in ((c, t), (c.t(), t.t()), (c[:, 1:3], t[:, 1:3]),
                 (c[None].expand(2, 3, 4), t[None].expand(2, 3, 4))):
        assert a.stride() == b.stride() and a.is_contiguous() == b.is_contiguous()
        assert a.stride(-1) == b.stride(-1)
    assert c.is_signed() == t.is_signed() and not cr.tensor([True]).is_signed()
    assert c.is_same_size(c * 2) and not c.is_same_size(c.t())
    assert cr.tensor([3.0]).is_nonzero() and not cr.tensor(0).is_nonzero()
    with pytest.raises(cr.ArgumentError, match="is_nonzero: Boolean value"):
        c.is_nonzero()
    assert (c.is_cpu, c.is_sparse, c.is_quantized, c.is_meta, c.get_device()) == (
        t.is_cpu, t.is_sparse, t.is_quantized, t.is_meta, t.get_device())
    assert not (c.is_complex() or c.is_conj() or c.is_neg())
    assert cr.finfo(cr.float32).eps == torch.finfo(torch.float32).eps
    assert cr.finfo().max == torch.finfo().max
    assert cr.iinfo(cr.int32).max == torch.iinfo(torch.int32).max
    assert cr.result_type(c, 1) == cr.float64
    assert [x.tolist() for x in cr.unravel_index(cr.tensor([5, 7]), (3, 4))] == [
        x.tolist() for x in torch.unravel_index(torch.tensor([5, 7]), (3, 4))]


def test_random_fills_have_the_right_distribution():
    n = 40000
    x = cr.empty(n, dtype=cr.float64)
    assert abs(x.exponential_(2.0).mean().item() - 0.5) < 0.02
    med = x.cauchy_(1.0, 2.0).median().item()
    assert abs(med - 1.0) < 0.1
    assert abs(x.log_normal_(0.5, 0.25).log().mean().item() - 0.5) < 0.01
    g = x.geometric_(0.25)
    assert g.min().item() == 1 and abs(g.mean().item() - 4.0) < 0.1


def test_extra_errors_name_the_op():
    with pytest.raises(cr.ShapeError, match="unfold: maximum size"):
        cr.tensor(A).unfold(1, 5, 1)
    with pytest.raises(cr.ShapeError, match="sum_to_size: size"):
        cr.tensor(A).sum_to_size(2, 4)
    with pytest.raises(cr.ShapeError, match="matrix_power: expected a square"):
        cr.tensor(A).matrix_power(2)
    with pytest.raises(cr.ShapeError, match="prelu: weight of 2"):
        cr.prelu(cr.tensor(BA), cr.tensor([0.1, 0.2]))
    with pytest.raises(cr.ArgumentError, match="geometric_: expects p"):
        cr.zeros(2).geometric_(0.0)
