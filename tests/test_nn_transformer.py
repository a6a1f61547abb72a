"""Transformer encoder/decoder layers, their stacks and ``Transformer`` against
PyTorch: same weights, same inputs, outputs and all gradients."""
import math

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from tests.nn_compare import Const, compare_modules, load_torch_weights

DTYPES = [np.float32, np.float64]
# torch's note that its nested-tensor fast path is off for these configurations
pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")

ACTIVATIONS = {
    "relu": ("relu", "relu"),
    "gelu": ("gelu", "gelu"),
    "callable": (nn.functional.silu, torch.nn.functional.silu),
    "module": (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
}


def _pair(cls_name, dtype, *args, activation="relu", **kw):
    torch.manual_seed(0)
    ours_act, torch_act = ACTIVATIONS[activation]
    tm = getattr(torch.nn, cls_name)(*args, activation=torch_act, **kw)
    m = getattr(nn, cls_name)(*args, activation=ours_act, **kw)
    load_torch_weights(m, tm, dtype)
    return m, tm


def _rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


def _layout(args, batch_first, unbatched):
    if unbatched:
        return [a[:, 0] for a in args]
    if batch_first:
        return [np.ascontiguousarray(a.transpose(1, 0, 2)) for a in args]
    return args


def _masks(kind, rng, S, N, dtype):
    if kind == "none":
        return {}
    if kind == "causal":
        return dict(src_mask=Const(np.triu(np.ones((S, S), bool), 1)), is_causal=True)
    if kind == "float_mask":
        return dict(src_mask=_rand(rng, (S, S), dtype))
    pad = rng.random((N, S)) > 0.6
    pad[:, 0] = False
    if kind == "padding":
        return dict(src_key_padding_mask=Const(pad))
    if kind == "bool_mask_and_padding":
        m = rng.random((S, S)) > 0.7
        np.fill_diagonal(m, False)
        return dict(src_mask=Const(m), src_key_padding_mask=Const(pad))
    raise AssertionError(kind)


ENC_CASES = [
    ("post_ln", {}, "none"),
    ("pre_ln", dict(norm_first=True), "padding"),
    ("gelu", dict(activation="gelu"), "causal"),
    ("callable_act", dict(activation="callable"), "float_mask"),
    ("module_act", dict(activation="module", norm_first=True), "bool_mask_and_padding"),
    ("no_bias", dict(bias=False), "bool_mask_and_padding"),
    ("eps", dict(layer_norm_eps=1e-3), "padding"),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", ["seq_first", "batch_first", "unbatched"])
@pytest.mark.parametrize("case", ENC_CASES, ids=[c[0] for c in ENC_CASES])
def test_encoder_layer_matches_torch(case, layout, dtype):
    _, kw, mask_kind = case
    kw = dict(kw)
    if layout == "unbatched" and mask_kind in ("padding", "bool_mask_and_padding"):
        mask_kind = "float_mask"
    m, tm = _pair("TransformerEncoderLayer", dtype, 8, 2, 16, dropout=0.0,
                  batch_first=layout == "batch_first", **kw)
    rng = np.random.default_rng(0)
    S, N = 5, 3
    (x,) = _layout([_rand(rng, (S, N, 8), dtype)], layout == "batch_first",
                   layout == "unbatched")
    compare_modules(m, tm, [x], dtype, _masks(mask_kind, rng, S, N, dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm", [False, True], ids=["no_norm", "final_norm"])
@pytest.mark.parametrize("mask_kind", ["padding", "causal"])
def test_encoder_stack_matches_torch(mask_kind, norm, dtype):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=norm)
    tnorm = torch.nn.LayerNorm(8) if norm else None
    tm = torch.nn.TransformerEncoder(tl, 2, norm=tnorm, enable_nested_tensor=False)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, norm_first=norm)
    m = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8) if norm else None)
    load_torch_weights(m, tm, dtype)
    rng = np.random.default_rng(1)
    kw = _masks(mask_kind, rng, 6, 2, dtype)
    kw = {{"src_mask": "mask"}.get(k, k): v for k, v in kw.items()}
    compare_modules(m, tm, [_rand(rng, (6, 2, 8), dtype)], dtype, kw)


@pytest.mark.parametrize("dtype", DTYPES)
def test_encoder_eval_mode_with_dropout_matches_torch(dtype):
    torch.manual_seed(0)
    tl = torch.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3, batch_first=True)
    tm = torch.nn.TransformerEncoder(tl, 2)
    m = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.3,
                                                         batch_first=True), 2)
    load_torch_weights(m, tm, dtype)
    m.eval()
    tm.eval()
    rng = np.random.default_rng(2)
    pad = np.zeros((3, 5), bool)
    pad[0, 3:] = True
    compare_modules(m, tm, [_rand(rng, (3, 5, 8), dtype)], dtype,
                    dict(src_key_padding_mask=Const(pad)))


def test_dropout_is_active_in_training_only():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, dtype=cr.float64)
    x = cr.randn(5, 3, 8, dtype=cr.float64)
    a, b = layer(x), layer(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    layer.eval()
    c, d = layer(x), layer(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())
    for sub in (layer.dropout, layer.dropout1, layer.dropout2,
                layer.self_attn):
        assert sub.training is False


def test_encoder_deep_copies_the_layer_like_torch():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3)
    torch_enc = torch.nn.TransformerEncoder(
        torch.nn.TransformerEncoderLayer(8, 2, 16), 3, enable_nested_tensor=False)
    assert [(k, tuple(v.shape)) for k, v in enc.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in torch_enc.state_dict().items()]
    assert list(enc.state_dict())[0] == "layers.0.self_attn.in_proj_weight"
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and w0 is not layer.linear1.weight
    np.testing.assert_array_equal(w0.detach().numpy(), w1.detach().numpy())
    with cr.no_grad():
        w0.add_(1.0)
    assert not np.allclose(w0.detach().numpy(), w1.detach().numpy())
    assert len(list(enc.parameters())) == 3 * 12


# -- decoder and the full Transformer -------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_ln", "pre_ln"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_decoder_layer_matches_torch(batch_first, norm_first, dtype):
    m, tm = _pair("TransformerDecoderLayer", dtype, 8, 2, 16, dropout=0.0,
                  batch_first=batch_first, norm_first=norm_first, activation="gelu")
    rng = np.random.default_rng(3)
    T, S, N = 4, 6, 2
    tgt, mem = _layout([_rand(rng, (T, N, 8), dtype), _rand(rng, (S, N, 8), dtype)],
                       batch_first, False)
    mpad = rng.random((N, S)) > 0.6
    mpad[:, 0] = False
    kw = dict(tgt_mask=Const(np.triu(np.ones((T, T), bool), 1)), tgt_is_causal=True,
              memory_key_padding_mask=Const(mpad),
              memory_mask=Const(rng.random((T, S)) > 0.8))
    compare_modules(m, tm, [tgt, mem], dtype, kw)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_transformer_matches_torch(batch_first, dtype):
    torch.manual_seed(0)
    cfg = dict(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=1,
               dim_feedforward=16, dropout=0.0, batch_first=batch_first)
    tm, m = torch.nn.Transformer(**cfg), nn.Transformer(**cfg)
    load_torch_weights(m, tm, dtype)
    rng = np.random.default_rng(4)
    S, T, N = 5, 4, 2
    src, tgt = _layout([_rand(rng, (S, N, 8), dtype), _rand(rng, (T, N, 8), dtype)],
                       batch_first, False)
    pad = np.zeros((N, S), bool)
    pad[1, 3:] = True
    causal = torch.nn.Transformer.generate_square_subsequent_mask(T).numpy()
    kw = dict(tgt_mask=Const(causal.astype(dtype)), src_key_padding_mask=Const(pad),
              memory_key_padding_mask=Const(pad))
    compare_modules(m, tm, [src, tgt], dtype, kw)


def test_square_subsequent_mask_and_init_match_torch():
    ours = nn.Transformer.generate_square_subsequent_mask(4)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.dtype == cr.float32
    m = nn.Transformer(16, 2, 1, 1, 32)
    t = torch.nn.Transformer(16, 2, 1, 1, 32)
    assert [(k, tuple(v.shape)) for k, v in m.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in t.state_dict().items()]
    w = m.encoder.layers[0].linear1.weight.detach().numpy()  # (32, 16): Glorot
    bound = math.sqrt(6 / (16 + 32))
    assert w.min() >= -bound and w.max() <= bound and w.max() > 0.9 * bound


def test_errors_name_the_layer_and_sizes():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    with pytest.raises(cr.ShapeError, match=r"TransformerEncoderLayer: expected src of "
                                            r"shape \(S, N, d_model=8\).*\[5, 3, 6\]"):
        layer(cr.randn(5, 3, 6))
    enc = nn.TransformerEncoder(layer, 2)
    with pytest.raises(cr.ShapeError, match=r"layers\.0 \(TransformerEncoderLayer\)"):
        enc(cr.randn(5, 3, 6))
    with pytest.raises(cr.ArgumentError, match="activation should be 'relu' or 'gelu'"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(cr.ShapeError, match="batch size of src and tgt must be equal"):
        nn.Transformer(8, 2, 1, 1, 16)(cr.randn(5, 3, 8), cr.randn(4, 2, 8))
    with pytest.raises(cr.ShapeError, match="feature size of src and tgt must be "
                                            "d_model=8"):
        nn.Transformer(8, 2, 1, 1, 16)(cr.randn(5, 3, 8), cr.randn(4, 3, 6))
    dec = nn.TransformerDecoderLayer(8, 2, 16)
    with pytest.raises(cr.ShapeError, match="TransformerDecoderLayer: expected memory"):
        dec(cr.randn(4, 3, 8), cr.randn(5, 3, 4))
