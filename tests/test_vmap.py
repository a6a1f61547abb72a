"""``chainrule.func.vmap`` against ``torch.func.vmap``: per-example
gradients (MLP, CNN), composition with grad/jacrev/jacfwd/hessian and
functional_call, nesting, out_dims, chunk_size, randomness and errors."""
import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.func as cf
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.batching import VmapError

tf = torch.func


def arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def both(a):
    return cr.tensor(a), torch.tensor(a)


def close(c, t, tol=1e-9):
    if isinstance(t, dict):
        for k in t:
            close(c[k], t[k], tol)
        return
    if isinstance(t, (tuple, list)):
        assert len(c) == len(t)
        for a, b in zip(c, t):
            close(a, b, tol)
        return
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_allclose(c.detach().numpy(), t.detach().numpy(), rtol=tol,
                               atol=tol)


# -- per-example gradients -------------------------------------------------------------
def _mlp_params(sizes, seed=0):
    p = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        p[f"w{i}"] = arr(b, a, seed=seed + i) / np.sqrt(a)
        p[f"b{i}"] = arr(b, seed=seed + 10 + i) * 0.1
    return p


def _mlp_loss(m, functional):
    def loss(p, x, y):
        h = x
        n = len(p) // 2
        for i in range(n):
            h = functional.linear(h, p[f"w{i}"], p[f"b{i}"])
            if i < n - 1:
                h = m.tanh(h)
        return functional.cross_entropy(h.unsqueeze(0), y.unsqueeze(0))
    return loss


def test_per_example_gradients_of_an_mlp_match_torch():
    p = _mlp_params([40, 100, 100, 10])
    pc = {k: cr.tensor(v) for k, v in p.items()}
    pt = {k: torch.tensor(v) for k, v in p.items()}
    (x, xt), (y, yt) = both(arr(16, 40, seed=5)), both(
        np.random.default_rng(6).integers(0, 10, 16))
    g = cf.vmap(cf.grad(_mlp_loss(cr, F)), in_dims=(None, 0, 0))(pc, x, y)
    gt = tf.vmap(tf.grad(_mlp_loss(torch, torch.nn.functional)),
                 in_dims=(None, 0, 0))(pt, xt, yt)
    close(g, gt)


@pytest.mark.parametrize("route", ["linear", "matmul"])
def test_per_example_weight_gradients_at_a_large_batch_match_torch(route):
    # At this batch the per-example outer products are computed batch-last
    # (the matmul and einsum rules' fast path); check them, and their own
    # gradients (grad of vmap(grad)), against torch.
    from chainrule.batching.rules import _batch_last_pays

    assert _batch_last_pays(300, 20, 12)
    (w, wt), (b, bt), (x, xt) = both(arr(20, 12)), both(arr(20, seed=1)), both(
        arr(300, 12, seed=2))

    def layer(m, functional):
        if route == "linear":
            return lambda w_, b_, x_: m.tanh(functional.linear(x_, w_, b_)).pow(2).sum()
        return lambda w_, b_, x_: m.tanh(x_ @ w_.T + b_).pow(2).sum()

    fc, ft = layer(cr, F), layer(torch, torch.nn.functional)
    dims = (None, None, 0)
    close(cf.vmap(cf.grad(fc, argnums=(0, 1)), in_dims=dims)(w, b, x),
          tf.vmap(tf.grad(ft, argnums=(0, 1)), in_dims=dims)(wt, bt, xt))
    per_c = lambda w_: cf.vmap(cf.grad(fc), in_dims=dims)(w_, b, x)  # noqa: E731
    per_t = lambda w_: tf.vmap(tf.grad(ft), in_dims=dims)(w_, bt, xt)  # noqa: E731
    close(cf.grad(lambda w_: per_c(w_).pow(2).sum())(w),
          tf.grad(lambda w_: per_t(w_).pow(2).sum())(wt))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("n", [1, 3])
def test_per_example_cross_entropy_gradients_match_torch(reduction, n):
    # n targets per example, some ignored (never all of an example's under
    # 'mean', which would be 0/0); the scale by z.sum() sends each example
    # its own cotangent into the loss's gradient rule.
    t = np.array([[2, -100, 4], [0, 1, 3], [-100, 4, 4], [3, 3, -100]])[:, :n]
    if n == 1 and reduction == "mean":
        t = np.array([[2], [0], [4], [3]])
    (z, zt), (y, yt) = both(arr(4, n, 5, seed=3)), both(t)

    def loss(m, functional):
        def f(zi, yi):
            out = functional.cross_entropy(zi, yi, reduction=reduction,
                                           ignore_index=-100)
            return (out.sum() if reduction == "none" else out) * zi.sum()
        return f

    close(cf.vmap(cf.grad(loss(cr, F)))(z, y),
          tf.vmap(tf.grad(loss(torch, torch.nn.functional)))(zt, yt))
    close(cf.vmap(cf.grad(loss(cr, F)), in_dims=(2, 0))(z.permute(1, 2, 0), y),
          tf.vmap(tf.grad(loss(torch, torch.nn.functional)), in_dims=(2, 0))(
              zt.permute(1, 2, 0), yt))


def _layer(m, functional):
    return lambda w, b, x: m.tanh(functional.linear(x, w, b)).pow(2).sum()


@pytest.mark.filterwarnings("ignore:`torch.jit.script`:DeprecationWarning")
def test_second_order_through_one_example_linear_matches_torch():
    # Per example, linear sees a 1-D input (its own vjp); differentiate that
    # vjp again inside vmap (Hessians) and from outside (grad of vmap(grad)).
    (w, wt), (b, bt), (x, xt) = both(arr(4, 3)), both(arr(4, seed=1)), both(
        arr(5, 3, seed=2))
    fc, ft = _layer(cr, F), _layer(torch, torch.nn.functional)
    close(cf.vmap(cf.hessian(fc, argnums=2), in_dims=(None, None, 0))(w, b, x),
          tf.vmap(tf.hessian(ft, argnums=2), in_dims=(None, None, 0))(wt, bt, xt))
    pc = lambda w_: cf.vmap(cf.grad(fc, argnums=(0, 1)), in_dims=(None, None, 0))(  # noqa
        w_, b, x)
    pt = lambda w_: tf.vmap(tf.grad(ft, argnums=(0, 1)), in_dims=(None, None, 0))(  # noqa
        w_, bt, xt)
    close(cf.grad(lambda w_: sum((g ** 2).sum() for g in pc(w_)))(w),
          tf.grad(lambda w_: sum((g ** 2).sum() for g in pt(w_)))(wt))


def test_per_example_gradients_of_a_cnn_via_functional_call():
    cr.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 5)).double()
    tmodel = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 5)).double()
    params = {k: v.detach() for k, v in model.named_parameters()}
    tparams = {k: torch.tensor(v.numpy()) for k, v in params.items()}
    (x, xt) = both(arr(6, 1, 8, 8, seed=2))
    (y, yt) = both(np.random.default_rng(3).integers(0, 5, 6))

    def loss(mod, fn, m):
        def f(p, xi, yi):
            out = fn(mod, p, (xi.unsqueeze(0),))
            return m.nn.functional.cross_entropy(out, yi.unsqueeze(0))
        return f

    g = cf.vmap(cf.grad(loss(model, cf.functional_call, cr)), in_dims=(None, 0, 0))(
        params, x, y)
    gt = tf.vmap(tf.grad(loss(tmodel, tf.functional_call, torch)),
                 in_dims=(None, 0, 0))(tparams, xt, yt)
    close(g, gt)


def test_grad_of_vmap_backpropagates_through_the_batched_ops():
    (w, wt), (x, xt) = both(arr(3, 4)), both(arr(5, 4, seed=1))

    f_cr = lambda w_: cf.vmap(lambda xi: (w_ @ xi).tanh().sum() ** 2)(x).sum()  # noqa
    f_t = lambda w_: tf.vmap(lambda xi: (w_ @ xi).tanh().sum() ** 2)(xt).sum()  # noqa
    close(cf.grad(f_cr)(w), tf.grad(f_t)(wt))


# -- composition -----------------------------------------------------------------------
def _fn(m):
    return lambda x: (m.sin(x) * x.sum()).exp()


# torch's forward-mode transforms warn about its own torch.jit.script use
TORCH_FWD = pytest.mark.filterwarnings("ignore:`torch.jit.script`:DeprecationWarning")


@TORCH_FWD
@pytest.mark.parametrize("tr", ["jacrev", "jacfwd", "hessian_of_sum"])
def test_vmap_of_jacobians_matches_torch(tr):
    x, xt = both(arr(4, 3))
    if tr == "hessian_of_sum":
        c = cf.vmap(cf.hessian(lambda v: _fn(cr)(v).sum()))(x)
        t = tf.vmap(tf.hessian(lambda v: _fn(torch)(v).sum()))(xt)
    else:
        c = cf.vmap(getattr(cf, tr)(_fn(cr)))(x)
        t = tf.vmap(getattr(tf, tr)(_fn(torch)))(xt)
    close(c, t)


@TORCH_FWD
def test_jacrev_and_jacfwd_of_vmap_match_torch():
    x, xt = both(arr(4, 3))
    close(cf.jacrev(cf.vmap(_fn(cr)))(x), tf.jacrev(tf.vmap(_fn(torch)))(xt))
    close(cf.jacfwd(cf.vmap(_fn(cr)))(x), tf.jacfwd(tf.vmap(_fn(torch)))(xt))


def test_nested_vmap_in_dims_and_out_dims():
    (a, at), (b, bt) = both(arr(3, 5, 2)), both(arr(5, 4, seed=1))
    f = lambda u, v: u @ v  # noqa: E731
    c = cf.vmap(cf.vmap(f, in_dims=(0, None)), in_dims=(2, None), out_dims=1)(a, b)
    t = tf.vmap(tf.vmap(f, in_dims=(0, None)), in_dims=(2, None), out_dims=1)(at, bt)
    close(c, t)
    # several outputs, out_dims per output, an unmapped constant output
    g = lambda u: (u.sum(0), u * 2, cr.ones(2) if isinstance(u, cr.Tensor)  # noqa
                   else torch.ones(2, dtype=torch.float64))
    close(cf.vmap(g, in_dims=1, out_dims=(0, 1, None))(a),
          tf.vmap(g, in_dims=1, out_dims=(0, 1, None))(at))


def test_function_sees_per_example_shapes():
    seen = []

    def f(x):
        seen.append((tuple(x.shape), x.size(0), len(x), x.ndim))
        return x.reshape(-1).view(2, -1).t().flatten()

    x, xt = both(arr(7, 2, 3))
    close(cf.vmap(f)(x), tf.vmap(lambda v: v.reshape(-1).view(2, -1).t().flatten())(xt))
    assert seen == [((2, 3), 2, 2, 2)]


def test_chunk_size_gives_the_same_result():
    x = cr.tensor(arr(10, 3))
    f = lambda v: (v.softmax(0) * v).sum()  # noqa: E731
    close(cf.vmap(f, chunk_size=3)(x), cf.vmap(f)(x))


# -- randomness ------------------------------------------------------------------------
def test_randomness_modes():
    x = cr.zeros(4, 3)
    with pytest.raises(VmapError, match="randn.*randomness='error'"):
        cf.vmap(lambda v: v + cr.randn(3))(x)
    cr.manual_seed(0)
    diff = cf.vmap(lambda v: v + cr.randn(3), randomness="different")(x).numpy()
    assert diff.shape == (4, 3) and not np.allclose(diff[0], diff[1])
    same = cf.vmap(lambda v: v + cr.rand(3), randomness="same")(x).numpy()
    assert np.allclose(same, same[:1])
    drop = cf.vmap(lambda v: F.dropout(v + 1, 0.5), randomness="different")(
        cr.zeros(64, 50)).numpy()
    assert not np.allclose(drop, drop[:1])


# -- errors ----------------------------------------------------------------------------
def test_errors_name_the_problem():
    x = cr.ones(3, 2)
    with pytest.raises(cr.ArgumentError, match="in_dim=2 .*must be in"):
        cf.vmap(lambda v: v, in_dims=2)(x)
    with pytest.raises(cr.ArgumentError, match="at least one argument"):
        cf.vmap(lambda v: v, in_dims=None)(x)
    with pytest.raises(cr.ArgumentError, match="out_dims=None"):
        cf.vmap(lambda v: v, out_dims=None)(x)
    with pytest.raises(cr.ArgumentError, match="randomness must be one of"):
        cf.vmap(lambda v: v, randomness="maybe")
    with pytest.raises(cr.DTypeError, match="only return Tensors"):
        cf.vmap(lambda v: 3.0)(x)
    with pytest.raises(VmapError, match="values of a batched Tensor"):
        cf.vmap(lambda v: v.sum().item())(x)
    with pytest.raises(VmapError, match="nonzero"):
        cf.vmap(lambda v: v.nonzero())(x)


@TORCH_FWD
def test_grad_and_jvp_of_per_example_gradients_match_torch():
    (w, wt), (x, xt) = both(arr(3, 4)), both(arr(5, 4, seed=1))

    def f(m):
        return lambda w_, xi: (w_ @ xi).tanh().pow(2).sum()

    def pen(fn, m, xs):
        return lambda w_: fn.vmap(fn.grad(f(m)), in_dims=(None, 0))(w_, xs)

    close(cf.grad(lambda w_: pen(cf, cr, x)(w_).pow(2).sum())(w),
          tf.grad(lambda w_: pen(tf, torch, xt)(w_).pow(2).sum())(wt))
    v = arr(3, 4, seed=2)
    close(cf.jvp(pen(cf, cr, x), (w,), (cr.tensor(v),))[1],
          tf.jvp(pen(tf, torch, xt), (wt,), (torch.tensor(v),))[1])


def _same_weights(m, tm):
    """Give torch module ``tm`` the weights of chainrule module ``m``."""
    with torch.no_grad():
        for v, tv in zip(m.parameters(), tm.parameters()):
            tv.copy_(torch.tensor(v.detach().numpy()))


def test_lstm_layer_under_vmap_matches_per_example_torch():
    cr.manual_seed(0)
    m, tm = nn.LSTM(3, 4).double(), torch.nn.LSTM(3, 4).double()
    _same_weights(m, tm)
    x = arr(6, 5, 2, 3)  # 6 examples of (T=5, N=2, 3)
    got = cf.vmap(lambda xi: m(xi)[0])(cr.tensor(x))
    close(got, torch.stack([tm(torch.tensor(xi))[0] for xi in x]))


def test_lstm_cell_on_one_example_under_vmap_matches_torch():
    # a 1-D input runs the unbatched lstm_seq, whose batching rule is used here
    cr.manual_seed(0)
    m, tm = nn.LSTMCell(3, 4).double(), torch.nn.LSTMCell(3, 4).double()
    _same_weights(m, tm)
    x, h, c = arr(6, 3), arr(6, 4, seed=1), arr(6, 4, seed=2)
    got = cf.vmap(lambda a, b, d: m(a, (b, d)))(*map(cr.tensor, (x, h, c)))
    want = [torch.stack([tm(torch.tensor(x[i]), (torch.tensor(h[i]),
                                                 torch.tensor(c[i])))[k]
                         for i in range(6)]) for k in range(2)]
    close(got[0], want[0])
    close(got[1], want[1])


def test_indexing_with_a_batched_index_tensor():
    (e, et) = both(arr(7, 3))
    idx = np.array([[1, -2], [6, 0], [3, 3], [2, 5]])
    close(cf.vmap(lambda i: e[i].sum(0))(cr.tensor(idx)),
          tf.vmap(lambda i: et[i].sum(0))(torch.tensor(idx)))
    # per-example gradients through an embedding lookup
    close(cf.vmap(cf.grad(lambda w, i: w[i].tanh().sum()), in_dims=(None, 0))(
        e, cr.tensor(idx)),
        tf.vmap(tf.grad(lambda w, i: w[i].tanh().sum()), in_dims=(None, 0))(
        et, torch.tensor(idx)))
    (x, xt) = both(arr(4, 5, 8))
    close(cf.vmap(lambda a, i: a[:, i])(x, cr.tensor(idx)),
          tf.vmap(lambda a, i: a[:, i])(xt, torch.tensor(idx)))
    with pytest.raises(cr.IndexOutOfRange, match="out of bounds"):
        cf.vmap(lambda i: e[i])(cr.tensor([1, 9]))
    with pytest.raises(cr.IndexOutOfRange, match="one integer tensor index"):
        cf.vmap(lambda i: x[0][i, 1:])(cr.tensor(idx))
