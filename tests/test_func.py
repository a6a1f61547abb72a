"""``chainrule.func`` against ``torch.func``: values, Jacobians, Hessians,
nesting, the lecture examples and the cost model of the two modes."""
import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule as cr
import chainrule.nn as nn
from chainrule import func as cf
from chainrule.autograd import count_ops as _counting

pytestmark = pytest.mark.filterwarnings("ignore:.*torch.jit.script:DeprecationWarning")


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def both(a):
    """The same float64 values as a chainrule and a torch tensor."""
    return cr.tensor(a), torch.tensor(a)


def close(a, b, rtol=1e-9, atol=1e-12):
    """Compare (nested tuples of) chainrule and torch tensors."""
    if isinstance(b, (tuple, list)):
        assert isinstance(a, (tuple, list)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            close(x, y, rtol, atol)
        return
    if isinstance(b, dict):
        assert set(a) == set(b)
        for k in b:
            close(a[k], b[k], rtol, atol)
        return
    assert tuple(a.shape) == tuple(b.shape), (a.shape, b.shape)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol,
                               atol=atol)


A_ = arr(3, 3, seed=9)


def f_pair(m, x, y):
    """Scalar function of two arguments, written once for both libraries."""
    A = m.tensor(A_)
    return ((A @ x).tanh() * y.sin()).sum() + (x * y * y).sum()


def g_vec(m, x, y):
    """Vector output: R^3 x R^3 -> R^2."""
    A = m.tensor(A_)
    z = (A @ x).sin() * y.exp()
    return m.stack([z.sum(), (z * z).sum()]) * x[0]


def g_tuple(m, x, y):
    """Two outputs of different shapes."""
    return x.exp() * y, (x * y).sum().tanh()


def T(fn):
    return lambda *a: fn(torch, *a)


def C(fn):
    return lambda *a: fn(cr, *a)


# -- grad ------------------------------------------------------------------------------
@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1, 0), -1])
def test_grad_matches_torch_for_argnums(argnums):
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    close(cf.grad(C(f_pair), argnums)(x, y), tf.grad(T(f_pair), argnums)(xt, yt))


def test_grad_and_value_and_has_aux():
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))

    def aux_f(m):
        return lambda a, b: (f_pair(m, a, b), {"sq": a * a})

    g, (v, aux) = cf.grad_and_value(aux_f(cr), has_aux=True)(x, y)
    gt, (vt, auxt) = tf.grad_and_value(aux_f(torch), has_aux=True)(xt, yt)
    close((g, v), (gt, vt))
    close(aux, auxt)
    g2, aux2 = cf.grad(aux_f(cr), argnums=(0, 1), has_aux=True)(x, y)
    close(g2, tf.grad(aux_f(torch), argnums=(0, 1), has_aux=True)(xt, yt)[0])
    assert not g.requires_grad and not v.requires_grad
    assert not aux["sq"].requires_grad


def test_grad_over_a_dict_of_parameters():
    p = {"w": cr.tensor(arr(3)), "b": cr.tensor(arr(1, seed=1))}
    pt = {k: torch.tensor(v.numpy()) for k, v in p.items()}
    x = arr(5, 3, seed=2)

    def loss(m, params, data):
        return ((m.tensor(data) @ params["w"] + params["b"]).tanh() ** 2).mean()

    close(cf.grad(lambda q: loss(cr, q, x))(p),
          tf.grad(lambda q: loss(torch, q, x))(pt))


def test_grad_of_unused_input_is_zero():
    x, y = cr.tensor(arr(3)), cr.tensor(arr(2))
    gx, gy = cf.grad(lambda a, b: (a * a).sum(), argnums=(0, 1))(x, y)
    assert gy.shape == (2,) and gy.abs().sum().item() == 0
    const = cf.grad(lambda a: cr.tensor(1.0, dtype=cr.float64))(x)
    assert const.abs().sum().item() == 0


def test_grad_works_inside_no_grad_and_leaves_inputs_alone():
    x = cr.tensor(arr(3))
    with cr.no_grad():
        g = cf.grad(lambda a: (a ** 3).sum())(x)
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    assert not x.requires_grad and x.grad is None


def test_grad_errors():
    x = cr.tensor(arr(3))
    with pytest.raises(cr.ShapeError, match=r"scalar Tensor, got shape \[3\].*vjp or "
                                            "jacrev"):
        cf.grad(lambda a: a * 2)(x)
    with pytest.raises(cr.ArgumentError, match="argnums=2.*only 1 positional"):
        cf.grad(lambda a: a.sum(), argnums=2)(x)
    with pytest.raises(cr.ArgumentError, match="argnums must be unique"):
        cf.grad(lambda a, b: a.sum(), argnums=(0, 0))(x, x)
    with pytest.raises(cr.DTypeError, match="only floating-point Tensors"):
        cf.grad(lambda a: a.sum())(cr.tensor([1, 2]))
    with pytest.raises(cr.DTypeError, match="argument 0 to be Tensors"):
        cf.grad(lambda a: a)(3.0)
    with pytest.raises(cr.ArgumentError, match=r"pair \(output, aux\)"):
        cf.grad(lambda a: a.sum(), has_aux=True)(x)


# -- vjp and jvp -----------------------------------------------------------------------
def test_vjp_matches_torch_for_tuple_outputs_and_repeated_calls():
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    out, fn = cf.vjp(C(g_tuple), x, y)
    outt, fnt = tf.vjp(T(g_tuple), xt, yt)
    close(out, outt)
    for seed in (3, 4):
        (u, ut), (s, st) = both(arr(3, seed=seed)), both(arr(seed=seed))
        close(fn((u, s)), fnt((ut, st)))
    assert not out[0].requires_grad
    with pytest.raises(cr.ShapeError, match=r"shape of its output \[3\], got \[2\]"):
        fn((cr.tensor(arr(2)), s))
    with pytest.raises(cr.ArgumentError, match="same structure"):
        fn(u)


def test_vjp_has_aux():
    (x, xt) = both(arr(3))
    out, fn, aux = cf.vjp(lambda a: (a.sin(), a.cos()), x, has_aux=True)
    outt, fnt, auxt = tf.vjp(lambda a: (a.sin(), a.cos()), xt, has_aux=True)
    (u, ut) = both(arr(3, seed=5))
    close((out, fn(u), aux), (outt, fnt(ut), auxt))


def test_jvp_matches_torch():
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    (u, ut), (v, vt) = both(arr(3, seed=2)), both(arr(3, seed=3))
    close(cf.jvp(C(g_vec), (x, y), (u, v)), tf.jvp(T(g_vec), (xt, yt), (ut, vt)))
    close(cf.jvp(C(g_tuple), (x, y), (u, v)), tf.jvp(T(g_tuple), (xt, yt), (ut, vt)))
    o, t, aux = cf.jvp(lambda a: (a.exp(), a * 2), (x,), (u,), has_aux=True)
    close((o, t), (xt.exp(), xt.exp() * ut))
    close(aux, xt * 2)


def test_jvp_errors():
    x = cr.tensor(arr(3))
    with pytest.raises(cr.ArgumentError, match="expected primals to be a tuple"):
        cf.jvp(cr.sin, x, (x,))
    with pytest.raises(cr.ShapeError, match=r"got \[2\] for a primal of shape \[3\]"):
        cf.jvp(cr.sin, (x,), (cr.tensor(arr(2)),))
    with pytest.raises(cr.ArgumentError, match="same structure"):
        cf.jvp(cr.sin, (x,), (x, x))


# -- Jacobians and Hessians ------------------------------------------------------------
@pytest.mark.parametrize("jac", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
@pytest.mark.parametrize("fn", [g_vec, g_tuple], ids=["vector", "tuple"])
def test_jacobians_match_torch(jac, argnums, fn):
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    ours = getattr(cf, jac)(C(fn), argnums)(x, y)
    theirs = getattr(tf, jac)(T(fn), argnums)(xt, yt)
    close(ours, theirs)


def test_jacobian_of_matrix_function_and_has_aux():
    (X, Xt) = both(arr(2, 3))
    for jac in ("jacrev", "jacfwd"):
        J, aux = getattr(cf, jac)(lambda a: (a.T @ a, a.sum()), has_aux=True)(X)
        Jt, auxt = getattr(tf, jac)(lambda a: (a.T @ a, a.sum()), has_aux=True)(Xt)
        assert J.shape == (3, 3, 2, 3)
        close((J, aux), (Jt, auxt))


@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_hessian_matches_torch(argnums):
    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    close(cf.hessian(C(f_pair), argnums)(x, y), tf.hessian(T(f_pair), argnums)(xt, yt))


# -- nesting ---------------------------------------------------------------------------
def test_nested_transforms_match_torch():
    (x, xt), (v, vt) = both(arr(3)), both(arr(3, seed=4))
    y, yt = both(arr(3, seed=1))

    def f(m):
        return lambda a: f_pair(m, a, m.tensor(y.numpy()))

    fc, ft = f(cr), f(torch)
    # grad of grad (third derivative contraction) and jacobians of jacobians.
    close(cf.grad(lambda a: cf.grad(fc)(a).sin().sum())(x),
          tf.grad(lambda a: tf.grad(ft)(a).sin().sum())(xt))
    H = tf.hessian(ft)(xt)
    for outer in (cf.jacfwd, cf.jacrev):
        for inner in (cf.jacfwd, cf.jacrev):
            close(outer(inner(cf.grad(fc)))(x)[0], tf.jacfwd(tf.jacrev(tf.grad(ft)))(
                xt)[0])
            close(outer(inner(fc))(x), H)
    # Hessian-vector products: forward-over-reverse and reverse-over-reverse.
    hvp_fwd = cf.jvp(cf.grad(fc), (x,), (v,))[1]
    hvp_rev = cf.grad(lambda a: (cf.grad(fc)(a) * v).sum())(x)
    hvp_vjp = cf.vjp(cf.grad(fc), x)[1](v)[0]
    for h in (hvp_fwd, hvp_rev, hvp_vjp):
        close(h, H @ vt)
    # Reverse over forward: gradient of a directional derivative.
    close(cf.grad(lambda a: cf.jvp(fc, (a,), (v,))[1])(x), H @ vt)
    # jvp of jvp: a second directional derivative.
    close(cf.jvp(lambda a: cf.jvp(fc, (a,), (v,))[1], (x,), (v,))[1], vt @ H @ vt)


def test_nested_grad_keeps_outer_variable_connected():
    # d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x: the inner result depends on x.
    x, y = cr.tensor(1.5, dtype=cr.float64), cr.tensor(0.3, dtype=cr.float64)
    g = cf.grad(lambda a: a * cf.grad(lambda b: a * b)(y))(x)
    assert g.item() == pytest.approx(3.0)


def test_results_connect_to_tensors_that_require_grad():
    x = cr.tensor(arr(3), requires_grad=True)
    g = cf.grad(lambda a: (a ** 3).sum())(x)
    assert g.requires_grad
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.detach().numpy())


# -- the lecture examples --------------------------------------------------------------
def test_lecture_log_sin_squared():
    x = cr.tensor(np.linspace(0.3, 2.8, 7))
    d = cf.grad(lambda a: cr.log(cr.sin(a) ** 2).sum())(x)
    np.testing.assert_allclose(d.numpy(), 2 / np.tan(x.numpy()), rtol=1e-12)
    _, t = cf.jvp(lambda a: cr.log(cr.sin(a) ** 2), (x,), (cr.ones_like(x),))
    np.testing.assert_allclose(t.numpy(), 2 / np.tan(x.numpy()), rtol=1e-12)


def test_lecture_weighted_exp_sum():
    W, x = arr(4, 3, seed=1), arr(3, seed=2)
    d = cf.grad(lambda a: (cr.tensor(W) @ cr.exp(a)).sum())(cr.tensor(x))
    np.testing.assert_allclose(d.numpy(), (W.T @ np.ones(4)) * np.exp(x), rtol=1e-12)


def test_lecture_quadratic_form():
    A, x = arr(4, 4, seed=3), arr(4, seed=4)
    f = lambda a: a @ cr.tensor(A) @ a  # noqa: E731
    np.testing.assert_allclose(cf.grad(f)(cr.tensor(x)).numpy(), (A + A.T) @ x,
                               rtol=1e-12)
    for hess in (cf.hessian(f), cf.jacrev(cf.jacrev(f)), cf.jacfwd(cf.jacfwd(f))):
        np.testing.assert_allclose(hess(cr.tensor(x)).numpy(), A + A.T, rtol=1e-12)


def test_lecture_logistic_regression_hessian_is_symmetric_psd():
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    y = (rng.uniform(size=40) < 0.5).astype(np.float64)

    def loss(m, w):
        z = m.tensor(X) @ w
        # log(1 + e^z) - y z, written stably.
        return (z.relu() + (-z.abs()).exp().log1p() - m.tensor(y) * z).mean()

    w = arr(3, seed=6)
    H = cf.hessian(lambda a: loss(cr, a))(cr.tensor(w)).numpy()
    close(cr.tensor(H), tf.hessian(lambda a: loss(torch, a))(torch.tensor(w)))
    np.testing.assert_allclose(H, H.T, atol=1e-14)
    assert np.linalg.eigvalsh(H).min() >= -1e-12
    # It is X^T diag(p (1 - p)) X / n.
    p = 1 / (1 + np.exp(-X @ w))
    np.testing.assert_allclose(H, X.T @ (X * (p * (1 - p))[:, None]) / 40, rtol=1e-10)


# -- the cost model --------------------------------------------------------------------
def count_ops(fn):
    with _counting() as counts:
        fn()
    return dict(counts)


def test_jacfwd_costs_n_passes_and_jacrev_m_passes():
    n, m = 6, 2
    W = cr.tensor(arr(m, n, seed=7))
    f = lambda a: cr.sin(W @ a)  # noqa: E731   R^6 -> R^2
    x = cr.tensor(arr(n))
    fwd = count_ops(lambda: cf.jacfwd(f)(x))
    rev = count_ops(lambda: cf.jacrev(f)(x))
    # Forward mode: f runs once per input direction; each pass runs sin's jvp
    # rule (one cos) alongside.
    assert fwd["sin"] == n and fwd["cos"] == n
    # Reverse mode: f runs once; each of the m backward passes runs sin's vjp.
    assert rev["sin"] == 1 and rev["cos"] == m
    assert fwd["matmul"] == 2 * n and rev["matmul"] == 1 + m


# -- vmap ------------------------------------------------------------------------------
def test_vmap_matches_torch():
    (X, Xt), (Y, Yt) = both(arr(4, 3)), both(arr(3, 4, seed=1))
    (b, bt) = both(arr(3, seed=2))
    f = lambda m: (lambda x, y, c: ((x * y).sin() + c, x.sum()))  # noqa: E731
    close(cf.vmap(f(cr), in_dims=(0, 1, None))(X, Y, b),
          tf.vmap(f(torch), in_dims=(0, 1, None))(Xt, Yt, bt))
    close(cf.vmap(f(cr), in_dims=(0, 1, None), out_dims=(1, 0))(X, Y, b),
          tf.vmap(f(torch), in_dims=(0, 1, None), out_dims=(1, 0))(Xt, Yt, bt))
    # Nested vmap: an outer product.
    close(cf.vmap(cf.vmap(lambda u, v: u * v, (None, 0)), (0, None))(X[:, 0], b),
          torch.outer(Xt[:, 0], bt))


def test_vmap_of_grad_gives_per_example_gradients():
    (X, Xt), (w, wt) = both(arr(5, 3)), both(arr(3, seed=1))
    loss = lambda m: (lambda w_, x: (x @ w_).tanh() ** 2)  # noqa: E731
    close(cf.vmap(cf.grad(loss(cr)), in_dims=(None, 0))(w, X),
          tf.vmap(tf.grad(loss(torch)), in_dims=(None, 0))(wt, Xt))


def test_vmap_errors():
    with pytest.raises(cr.ShapeError, match="same size in the mapped dimension"):
        cf.vmap(lambda a, b: a + b)(cr.ones(3), cr.ones(4))
    with pytest.raises(cr.ArgumentError, match="in_dims has 1 entries"):
        cf.vmap(lambda a, b: a, in_dims=(0,))(cr.ones(3), cr.ones(3))


# -- functional_call -------------------------------------------------------------------
class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(3, 2).double()
        self.register_buffer("scale", cr.tensor([2.0], dtype=cr.float64))

    def forward(self, x):
        return self.lin(x).tanh() * self.scale


def test_functional_call_swaps_and_restores():
    model = Scaled()
    original = {k: v for k, v in model.named_parameters()}
    new = {"lin.weight": cr.tensor(arr(2, 3)), "lin.bias": cr.tensor(arr(2, seed=1)),
           "scale": cr.tensor([3.0], dtype=cr.float64)}
    x = cr.tensor(arr(4, 3, seed=2))
    out = cf.functional_call(model, new, (x,))
    expect = np.tanh(x.numpy() @ new["lin.weight"].numpy().T + new["lin.bias"].numpy())
    np.testing.assert_allclose(out.numpy(), 3.0 * expect)
    assert all(model.get_parameter(k) is v for k, v in original.items())
    assert model.scale.item() == 2.0

    class Boom(Exception):
        pass

    def fail(*a):
        raise Boom()

    model.lin.register_forward_hook(fail)
    with pytest.raises(Boom):
        cf.functional_call(model, new, x)
    assert all(model.get_parameter(k) is v for k, v in original.items())


def test_grad_through_functional_call_matches_torch():
    model = Scaled()
    tmodel = torch.nn.Linear(3, 2).double()
    with torch.no_grad():
        tmodel.weight.copy_(torch.tensor(model.lin.weight.detach().numpy()))
        tmodel.bias.copy_(torch.tensor(model.lin.bias.detach().numpy()))
    (x, xt) = both(arr(4, 3, seed=2))
    params = {k: v.detach() for k, v in model.lin.named_parameters()}
    tparams = {k: v.detach() for k, v in tmodel.named_parameters()}
    g = cf.grad(lambda p: (cf.functional_call(model.lin, p, x) ** 2).sum())(params)
    gt = tf.grad(lambda p: (tf.functional_call(tmodel, p, xt) ** 2).sum())(tparams)
    close(g, gt)


def test_functional_call_tied_weights_and_strict():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 2, bias=False).double()
            self.b = nn.Linear(2, 2, bias=False).double()
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    model = Tied()
    W = cr.tensor(arr(2, 2))
    x = cr.tensor(arr(2, seed=1))
    out = cf.functional_call(model, {"a.weight": W}, (x,))
    np.testing.assert_allclose(out.detach().numpy(), W.numpy() @ W.numpy() @ x.numpy())
    out2 = cf.functional_call(model, {"a.weight": W}, (x,), tie_weights=False)
    Wm = model.a.weight.detach().numpy()
    np.testing.assert_allclose(out2.detach().numpy(), Wm @ W.numpy() @ x.numpy())
    with pytest.raises(cr.ArgumentError, match="tied in the module but were given "
                                               "different values"):
        cf.functional_call(model, {"a.weight": W, "b.weight": W * 2}, (x,))
    with pytest.raises(cr.ArgumentError, match=r"strict=True.*unexpected: \['c'\]"):
        cf.functional_call(model, {"a.weight": W, "c": W}, (x,), strict=True)
    with pytest.raises(cr.ArgumentError, match="has no submodule 'zz'"):
        cf.functional_call(model, {"zz.weight": W}, (x,))


# -- the documentation runs ------------------------------------------------------------
def test_docs_derivatives_examples_run(capsys):
    import pathlib
    import re

    doc = pathlib.Path(__file__).parent.parent / "docs" / "derivatives.md"
    text = doc.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 10
    exec(compile("\n".join(blocks), "docs/derivatives.md", "exec"), {})
    out = capsys.readouterr().out
    assert "jacfwd 6 evaluations of f, 6 derivative passes" in out
    assert "jacrev 1 evaluations of f, 2 derivative passes" in out
    assert "Jacobian mismatch for output 0 with respect to input 0" in out
    assert "Function 'log' returned inf values" in out


# -- chainrule.autograd.functional -----------------------------------------------------
def test_autograd_functional_matches_torch():
    import torch.autograd.functional as taf

    import chainrule.autograd.functional as caf

    (x, xt), (y, yt) = both(arr(3)), both(arr(3, seed=1))
    (v, vt), (w, wt) = both(arr(3, seed=2)), both(arr(3, seed=3))
    for strategy in ("reverse-mode", "forward-mode"):
        close(caf.jacobian(C(g_vec), (x, y), strategy=strategy),
              taf.jacobian(T(g_vec), (xt, yt), strategy=strategy, vectorize=True))
        close(caf.jacobian(C(g_tuple), (x, y), strategy=strategy),
              taf.jacobian(T(g_tuple), (xt, yt), strategy=strategy, vectorize=True))
    close(caf.jacobian(lambda a: a.sin(), x), taf.jacobian(lambda a: a.sin(), xt))
    close(caf.hessian(C(f_pair), (x, y)), taf.hessian(T(f_pair), (xt, yt)))
    close(caf.vjp(C(g_tuple), (x, y), (v, cr.tensor(1.5, dtype=cr.float64))),
          taf.vjp(T(g_tuple), (xt, yt), (vt, torch.tensor(1.5, dtype=torch.float64))))
    close(caf.jvp(C(g_vec), (x, y), (v, w)), taf.jvp(T(g_vec), (xt, yt), (vt, wt)))
    close(caf.hvp(C(f_pair), (x, y), (v, w)), taf.hvp(T(f_pair), (xt, yt), (vt, wt)))
    close(caf.vhp(C(f_pair), (x, y), (v, w)), taf.vhp(T(f_pair), (xt, yt), (vt, wt)))
    single = lambda m: (lambda a: (a.exp() * a).sum())  # noqa: E731
    close(caf.hvp(single(cr), x, v), taf.hvp(single(torch), xt, vt))
    close(caf.vhp(single(cr), x, v), taf.vhp(single(torch), xt, vt))
    xg = cr.tensor(arr(3), requires_grad=True)
    assert caf.jacobian(lambda a: a ** 2, xg, create_graph=True).requires_grad
    assert not caf.jacobian(lambda a: a ** 2, xg).requires_grad
