"""Scaled dot-product attention and MultiheadAttention against PyTorch."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule as cr
from chainrule import nn
from chainrule.nn import functional as F
from tests.nn_compare import (
    Const, compare_calls, compare_modules, load_torch_weights,
)
from tests.oracle import numeric_grad_check

DTYPES = [np.float32, np.float64]


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# -- scaled_dot_product_attention ------------------------------------------------------
def _sdpa_cases():
    """(id, q shape, k shape, v shape, kwargs builder(rng, dtype))."""
    b4 = ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6))
    yield "plain", b4, lambda r, d: {}
    yield "3d", ((2, 4, 8), (2, 5, 8), (2, 5, 8)), lambda r, d: {}
    yield "2d", ((4, 8), (5, 8), (5, 3)), lambda r, d: {}
    yield "bool_mask_2d", b4, lambda r, d: dict(attn_mask=Const(r.random((4, 5)) > 0.3))
    yield "bool_mask_4d", b4, lambda r, d: dict(
        attn_mask=Const(r.random((2, 3, 4, 5)) > 0.3))
    yield "bool_mask_bcast", b4, lambda r, d: dict(
        attn_mask=Const(r.random((2, 1, 1, 5)) > 0.3))
    yield "float_mask", b4, lambda r, d: dict(attn_mask=_rand(r, (4, 5), d))
    yield "float_mask_inf", b4, lambda r, d: dict(
        attn_mask=Const(np.where(r.random((3, 4, 5)) > 0.3, 0.0, -np.inf).astype(d)))
    sq = ((2, 3, 5, 8),) * 3
    yield "causal_square", sq, lambda r, d: dict(is_causal=True)
    yield "causal_rect", b4, lambda r, d: dict(is_causal=True)
    yield "scale", b4, lambda r, d: dict(scale=0.3)
    yield "dropout_zero", b4, lambda r, d: dict(dropout_p=0.0)
    yield "gqa", ((2, 4, 3, 8), (2, 2, 5, 8), (2, 2, 5, 8)), lambda r, d: dict(
        enable_gqa=True)


SDPA = list(_sdpa_cases())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", SDPA, ids=[c[0] for c in SDPA])
def test_sdpa_matches_torch(case, dtype):
    _, shapes, make_kw = case
    rng = np.random.default_rng(0)
    q, k, v = (_rand(rng, s, dtype) for s in shapes)
    kw = make_kw(rng, dtype)

    compare_calls(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
                  [q, k, v], dtype, kw)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_fully_masked_rows_give_zeros_like_torch(dtype):
    rng = np.random.default_rng(1)
    q, k, v = _rand(rng, (2, 4, 8), dtype), _rand(rng, (2, 5, 8), dtype), _rand(
        rng, (2, 5, 8), dtype)
    mask = rng.random((2, 4, 5)) > 0.4
    mask[0, 1] = False  # query 1 of batch 0 may attend to nothing
    out = compare_calls(F.scaled_dot_product_attention, TF.scaled_dot_product_attention,
                        [q, k, v], dtype, dict(attn_mask=Const(mask)))
    assert np.all(out[0].detach().numpy()[0, 1] == 0)


def test_sdpa_dropout_statistics():
    # Equal scores give weights 1/S; with v = I the output is the weight matrix,
    # so each entry is 0 (dropped) or 2/S (kept, scaled by 1/(1-p)).
    s = 40
    q = cr.zeros(50, s, 4, dtype=cr.float64)
    k = cr.zeros(50, s, 4, dtype=cr.float64)
    v = cr.eye(s, dtype=cr.float64).expand(50, s, s)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    dropped = out == 0
    assert np.allclose(out[~dropped], 2.0 / s)
    assert abs(dropped.mean() - 0.5) < 0.01  # 80,000 draws
    same = F.scaled_dot_product_attention(q, k, v).numpy()
    assert np.allclose(same, 1.0 / s)


def test_sdpa_finite_differences():
    rng = np.random.default_rng(0)
    mask = cr.tensor(rng.random((3, 4)) > 0.3)
    numeric_grad_check(
        lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=mask) +
        F.scaled_dot_product_attention(q, k, v, attn_mask=m, scale=0.7),
        [rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 4, 5)),
         rng.standard_normal((2, 4, 2)), rng.standard_normal((3, 4))])


def test_sdpa_errors():
    q, k, v = cr.randn(2, 4, 8), cr.randn(2, 5, 8), cr.randn(2, 5, 6)
    with pytest.raises(cr.ShapeError, match=r"scaled_dot_product_attention.*query and "
                                            r"key.*\[2, 4, 8\].*\[2, 5, 7\]"):
        F.scaled_dot_product_attention(q, cr.randn(2, 5, 7), v)
    with pytest.raises(cr.ShapeError, match="key and value must have the same seq"):
        F.scaled_dot_product_attention(q, k, cr.randn(2, 6, 6))
    with pytest.raises(cr.ShapeError, match=r"attn_mask of shape \[4, 4\].*S=5"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(4, 4, dtype=cr.bool))
    with pytest.raises(cr.ArgumentError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(4, 5, dtype=cr.bool),
                                       is_causal=True)
    with pytest.raises(cr.DTypeError, match="same floating-point dtype"):
        F.scaled_dot_product_attention(q, k.double(), v)
    with pytest.raises(cr.DTypeError, match="bool and floating-point masks"):
        F.scaled_dot_product_attention(q, k, v, attn_mask=cr.ones(4, 5, dtype=cr.int64))


# -- MultiheadAttention ----------------------------------------------------------------
def _mha(dtype, embed=8, heads=2, **kw):
    torch.manual_seed(0)
    tm = torch.nn.MultiheadAttention(embed, heads, **kw)
    m = nn.MultiheadAttention(embed, heads, **kw)
    load_torch_weights(m, tm, dtype)
    return m, tm


def _mha_cases():
    """(id, module kwargs, forward builder(rng, dtype, L, S, N) -> (args, kwargs))."""
    def self_attn(extra=lambda r, d, L, S, N: {}):
        def build(r, d, L, S, N):
            x = _rand(r, (L, N, 8), d)
            return [x, x, x], extra(r, d, L, L, N)
        return build

    def cross(kd=8, vd=8, extra=lambda r, d, L, S, N: {}):
        def build(r, d, L, S, N):
            return ([_rand(r, (L, N, 8), d), _rand(r, (S, N, kd), d),
                     _rand(r, (S, N, vd), d)], extra(r, d, L, S, N))
        return build

    def kpm_bool(r, d, L, S, N):
        m = r.random((N, S)) > 0.7
        m[:, 0] = False  # keep one key per row so no row is fully masked
        return dict(key_padding_mask=Const(m))

    def kpm_float(r, d, L, S, N):
        return dict(key_padding_mask=_rand(r, (N, S), d))

    def am_bool(r, d, L, S, N):
        m = r.random((L, S)) > 0.7
        m[:, 0] = False
        return dict(attn_mask=Const(m))

    def am_float3d(r, d, L, S, N):
        return dict(attn_mask=_rand(r, (N * 2, L, S), d))

    def both(r, d, L, S, N):
        return {**am_bool(r, d, L, S, N), **kpm_bool(r, d, L, S, N)}

    def causal(r, d, L, S, N):
        return dict(attn_mask=Const(np.triu(np.ones((L, S), bool), 1)), is_causal=True)

    def no_weights(r, d, L, S, N):
        return dict(need_weights=False, **both(r, d, L, S, N))

    def per_head(r, d, L, S, N):
        return dict(average_attn_weights=False, **kpm_float(r, d, L, S, N))

    yield "self", {}, self_attn()
    yield "cross", {}, cross()
    yield "kpm_bool", {}, self_attn(kpm_bool)
    yield "kpm_float", {}, cross(extra=kpm_float)
    yield "attn_mask_bool", {}, cross(extra=am_bool)
    yield "attn_mask_float_3d", {}, self_attn(am_float3d)
    yield "both_masks", {}, cross(extra=both)
    yield "causal", {}, self_attn(causal)
    yield "no_weights", {}, self_attn(no_weights)
    yield "no_weights_cross", {}, cross(extra=no_weights)
    yield "per_head_weights", {}, self_attn(per_head)
    yield "kdim_vdim", dict(kdim=5, vdim=3), cross(5, 3, both)
    yield "kdim_vdim_no_weights", dict(kdim=5, vdim=3), cross(5, 3, no_weights)
    yield "no_bias", dict(bias=False), cross(extra=both)
    yield "bias_kv_zero_attn", dict(add_bias_kv=True, add_zero_attn=True), cross(
        extra=both)
    yield "bias_kv_no_weights", dict(add_bias_kv=True), self_attn(no_weights)
    yield "zero_attn_3d_mask", dict(add_zero_attn=True), self_attn(am_float3d)


MHA = list(_mha_cases())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["seq_first", "batch_first", "unbatched"])
@pytest.mark.parametrize("case", MHA, ids=[c[0] for c in MHA])
def test_mha_matches_torch(case, layout, dtype):
    _, mkw, build = case
    m, tm = _mha(dtype, batch_first=layout == "batch_first", **mkw)
    rng = np.random.default_rng(0)
    L, S, N = 4, 5, 3
    if layout == "unbatched":
        N = 1
    args, kw = build(rng, dtype, L, S, N)
    if layout == "unbatched":
        if "attn_mask" in kw and np.ndim(_val(kw["attn_mask"])) == 3:
            pytest.skip("a 3-D attn_mask is (N * heads, L, S): batched only")
        cache = {}
        args = [cache.setdefault(id(a), a[:, 0]) for a in args]
        if "key_padding_mask" in kw:
            kw["key_padding_mask"] = _map(kw["key_padding_mask"], lambda a: a[0])
    elif layout == "batch_first":
        cache = {}
        args = [cache.setdefault(id(a), np.ascontiguousarray(a.transpose(1, 0, 2)))
                for a in args]
    compare_modules(m, tm, args, dtype, kw)


def _val(x):
    return x.value if isinstance(x, Const) else x


def _map(x, f):
    return Const(f(x.value)) if isinstance(x, Const) else f(x)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_eval_mode_with_dropout_matches_torch(dtype):
    m, tm = _mha(dtype, dropout=0.5)
    m.eval()
    tm.eval()
    rng = np.random.default_rng(0)
    x = _rand(rng, (4, 3, 8), dtype)
    compare_modules(m, tm, [x, x, x], dtype)


def test_mha_dropout_is_active_in_training():
    m = nn.MultiheadAttention(8, 2, dropout=0.5, dtype=cr.float64)
    x = cr.randn(30, 20, 8, dtype=cr.float64)
    _, w = m(x, x, x, average_attn_weights=False)
    w = w.detach().numpy()
    assert abs((w == 0).mean() - 0.5) < 0.01  # 36,000 draws
    m.eval()
    _, w = m(x, x, x)
    assert np.allclose(w.detach().numpy().sum(-1), 1.0)
    assert np.all(w.detach().numpy() > 0)


def test_mha_fully_masked_query_is_finite():
    # PyTorch gives NaN here when need_weights=True and zeros when it is
    # False; we give the zero-attention result in both.
    m, tm = _mha(np.float64)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 2, 8))
    kpm = np.zeros((2, 4), bool)
    kpm[1] = True  # every key of sample 1 is padding
    xc = cr.tensor(x)
    ours, w = m(xc, xc, xc, key_padding_mask=cr.tensor(kpm))
    t = torch.tensor(x)
    theirs, _ = tm(t, t, t, key_padding_mask=torch.tensor(kpm), need_weights=False)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    assert np.all(w.detach().numpy()[1] == 0)


def test_mha_is_causal_without_a_mask_builds_the_causal_mask():
    m = nn.MultiheadAttention(8, 2)
    x = cr.randn(5, 2, 8)
    causal = cr.tensor(np.triu(np.ones((5, 5), bool), 1))
    a, wa = m(x, x, x, is_causal=True)
    b, wb = m(x, x, x, attn_mask=causal)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert np.all(np.triu(wa.detach().numpy()[0], 1) == 0)


def test_mha_state_dict_and_init_match_torch():
    for kw in (dict(), dict(kdim=5, vdim=3), dict(add_bias_kv=True, bias=False)):
        ours, theirs = nn.MultiheadAttention(8, 2, **kw), torch.nn.MultiheadAttention(
            8, 2, **kw)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
        assert [k for k, _ in ours.named_parameters()] == [
            k for k, _ in theirs.named_parameters()]
    assert repr(nn.MultiheadAttention(8, 2)) == repr(torch.nn.MultiheadAttention(8, 2))
    m = nn.MultiheadAttention(64, 4)
    w = m.in_proj_weight.detach().numpy()
    bound = math.sqrt(6 / (64 + 3 * 64))  # Glorot on (3E, E)
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.95 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.02 * bound
    assert not np.any(m.in_proj_bias.detach().numpy())
    assert not np.any(m.out_proj.bias.detach().numpy())
    k = 1 / math.sqrt(64)  # out_proj keeps Linear's U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(m.out_proj.weight.detach().numpy()).max() <= k


def test_mha_functional_finite_differences():
    rng = np.random.default_rng(0)
    kpm = cr.tensor(np.array([[False, True, False], [False, False, True]]))

    def fn(q, k, v, w_in, b_in, w_out, b_out):
        out, w = F.multi_head_attention_forward(
            q, k, v, 4, 2, w_in, b_in, None, None, False, 0.0, w_out, b_out,
            key_padding_mask=kpm)
        return cr.cat([out.reshape(-1), w.reshape(-1)])

    numeric_grad_check(fn, [rng.standard_normal(s) for s in
                            [(2, 2, 4), (3, 2, 4), (3, 2, 4), (12, 4), (12,), (4, 4),
                             (4,)]])


def test_mha_errors_name_the_layer_and_sizes():
    m = nn.MultiheadAttention(8, 2, kdim=6)
    x = cr.randn(4, 3, 8)
    with pytest.raises(cr.ShapeError, match=r"MultiheadAttention: query should have "
                                            r"embed_dim=8.*\[4, 3, 7\]"):
        m(cr.randn(4, 3, 7), x, x)
    with pytest.raises(cr.ShapeError, match=r"key should have kdim=6.*\[5, 3, 8\]"):
        m(x, cr.randn(5, 3, 8), x)
    m = nn.MultiheadAttention(8, 2)
    with pytest.raises(cr.ShapeError, match=r"2-D attn_mask is \[4, 5\].*\[4, 4\]"):
        m(x, x, x, attn_mask=cr.ones(4, 5, dtype=cr.bool))
    with pytest.raises(cr.ShapeError, match=r"key_padding_mask should have shape "
                                            r"\[3, 4\]"):
        m(x, x, x, key_padding_mask=cr.ones(4, 3, dtype=cr.bool))
    with pytest.raises(cr.ArgumentError, match=r"embed_dim \(8\) must be divisible by "
                                               r"num_heads \(3\)"):
        nn.MultiheadAttention(8, 3)
    with pytest.raises(cr.DTypeError, match="query dtype float64"):
        m(x.double(), x, x)
