"""Recurrent layers and cells against PyTorch.

Each test builds the torch module, loads its state_dict into ours and
compares outputs, final states and the gradients of every parameter, the
input and the initial states, in float32 and float64.
"""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule import nn
from chainrule.autograd import count_ops as _counting
from tests.nn_compare import compare_modules, load_torch_weights
from tests.oracle import assert_close, numeric_grad_check

# torch's own notice that it falls back to its reference LSTM for projections
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

def _build(kind, dtype, *args, **kw):
    """A torch module (seeded) and ours with the same weights and dtype."""
    torch.manual_seed(0)
    if kind.startswith("RNN_"):
        kw["nonlinearity"] = kind[4:]
        kind = "RNN"
    tm, m = getattr(torch.nn, kind)(*args, **kw), getattr(nn, kind)(*args, **kw)
    load_torch_weights(m, tm, dtype)
    return m, tm


_compare = compare_modules


# -- layers ----------------------------------------------------------------------------
LAYER_CONFIGS = [
    dict(),
    dict(num_layers=2),
    dict(bidirectional=True),
    dict(num_layers=2, bidirectional=True, batch_first=True),
    dict(bias=False, batch_first=True),
]
LSTM_ONLY = [dict(proj_size=2), dict(proj_size=2, num_layers=2, bidirectional=True)]


def _layer_cases():
    for kind in ("RNN_tanh", "RNN_relu", "LSTM", "GRU"):
        for cfg in LAYER_CONFIGS + (LSTM_ONLY if kind == "LSTM" else []):
            yield pytest.param(kind, cfg, id=f"{kind}-" + (
                "-".join(f"{k}={v}" for k, v in cfg.items()) or "default"))


def _state_shapes(kind, cfg, batch, hidden=5):
    lead = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
    b = () if batch is None else (batch,)
    h = (lead,) + b + (cfg.get("proj_size") or hidden,)
    if kind == "LSTM":
        return [h, (lead,) + b + (hidden,)]
    return [h]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
@pytest.mark.parametrize("kind,cfg", list(_layer_cases()))
def test_layer_matches_torch(kind, cfg, with_h0, dtype):
    m, tm = _build(kind, dtype, 4, 5, **cfg)
    rng = np.random.default_rng(0)
    seq, batch = 6, 3
    shape = (batch, seq, 4) if cfg.get("batch_first") else (seq, batch, 4)
    x = rng.standard_normal(shape).astype(dtype)
    inputs = [x]
    if with_h0:
        states = tuple(rng.standard_normal(s).astype(dtype)
                       for s in _state_shapes(kind, cfg, batch))
        inputs.append(states if kind == "LSTM" else states[0])
    out = _compare(m, tm, inputs, dtype)
    dirs = 2 if cfg.get("bidirectional") else 1
    assert out[0].shape[-1] == dirs * (cfg.get("proj_size") or 5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_h0", [False, True], ids=["no_h0", "h0"])
@pytest.mark.parametrize("kind", ["RNN_tanh", "LSTM", "GRU"])
def test_layer_unbatched_input(kind, with_h0, dtype):
    cfg = dict(num_layers=2, bidirectional=True, batch_first=True)
    if kind == "LSTM":
        cfg["proj_size"] = 3
    m, tm = _build(kind, dtype, 4, 5, **cfg)
    rng = np.random.default_rng(2)
    inputs = [rng.standard_normal((7, 4)).astype(dtype)]
    if with_h0:
        states = tuple(rng.standard_normal(s).astype(dtype)
                       for s in _state_shapes(kind, cfg, None))
        inputs.append(states if kind == "LSTM" else states[0])
    out = _compare(m, tm, inputs, dtype)
    assert out[0].shape == (7, 2 * (cfg.get("proj_size") or 5))
    assert out[1].shape == (4, cfg.get("proj_size") or 5)


@pytest.mark.parametrize("kind", ["RNN_tanh", "LSTM", "GRU"])
def test_layer_eval_mode_with_dropout_matches_torch(kind):
    m, tm = _build(kind, np.float64, 3, 4, num_layers=3, dropout=0.5)
    m.eval()
    tm.eval()
    x = np.random.default_rng(3).standard_normal((5, 2, 3))
    _compare(m, tm, [x], np.float64)


def test_layer_state_dict_keys_and_shapes_match_torch():
    for kw in (dict(num_layers=2, bidirectional=True, proj_size=3),
               dict(num_layers=3, bias=False)):
        ours, theirs = nn.LSTM(6, 7, **kw), torch.nn.LSTM(6, 7, **kw)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == [
            (k, tuple(v.shape)) for k, v in theirs.state_dict().items()]
    ours, theirs = nn.GRU(6, 7, 2, bidirectional=True), torch.nn.GRU(
        6, 7, 2, bidirectional=True)
    assert [(k, tuple(v.shape)) for k, v in ours.named_parameters()] == [
        (k, tuple(v.shape)) for k, v in theirs.named_parameters()]
    assert len(ours.all_weights) == 4 and len(ours.all_weights[0]) == 4
    assert repr(nn.LSTM(6, 7, 2, batch_first=True)) == repr(
        torch.nn.LSTM(6, 7, 2, batch_first=True))


# -- dropout between layers ------------------------------------------------------------
def _identity_relu_rnn(p, num_layers=2):
    """A relu RNN whose layers copy their input: x -> relu(x) per layer, so the
    output is x scaled by the dropout masks between layers."""
    m = nn.RNN(200, 200, num_layers=num_layers, nonlinearity="relu", dropout=p,
               dtype=cr.float64)
    with cr.no_grad():
        for name, w in m.named_parameters():
            w.zero_()
            if name.startswith("weight_ih"):
                w.copy_(cr.eye(200, dtype=cr.float64))
    return m


def test_dropout_between_layers_is_active_in_training_only():
    p = 0.3
    m = _identity_relu_rnn(p)
    x = cr.rand(4, 50, 200, dtype=cr.float64) + 0.5  # positive: relu keeps it
    out, _ = m(x)
    ratio = (out / x).detach().numpy()
    # One mask between the two layers: each element is 0 (prob p) or 1/(1-p).
    zero = np.isclose(ratio, 0.0)
    assert np.allclose(ratio[~zero], 1 / (1 - p))
    assert abs(zero.mean() - p) < 0.01  # 40,000 draws: std of the rate ~0.0023
    m.eval()
    out, _ = m(x)
    assert_close(out, x, rtol=0, atol=0)


def test_dropout_is_not_applied_after_the_last_layer():
    m = _identity_relu_rnn(0.5, num_layers=3)
    x = cr.rand(4, 50, 200, dtype=cr.float64) + 0.5
    out, h_n = m(x)
    ratio = (out / x).detach().numpy()
    # Two masks (between layers 1-2 and 2-3): kept with prob 0.25, scaled by 4.
    kept = ~np.isclose(ratio, 0.0)
    assert np.allclose(ratio[kept], 4.0)
    assert abs(kept.mean() - 0.25) < 0.01
    assert_close(h_n[-1], out[-1], rtol=0, atol=0)


def test_dropout_warning_for_a_single_layer_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


# -- cells -----------------------------------------------------------------------------
CELL_CASES = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("LSTMCell", {}),
              ("GRUCell", {}), ("GRUCell", {"bias": False}),
              ("LSTMCell", {"bias": False})]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("kind,kw", CELL_CASES,
                         ids=[f"{k}-{kw}" for k, kw in CELL_CASES])
def test_cell_matches_torch(kind, kw, with_hx, batched, dtype):
    m, tm = _build(kind, dtype, 4, 5, **kw)
    rng = np.random.default_rng(0)
    lead = (3,) if batched else ()
    inputs = [rng.standard_normal(lead + (4,)).astype(dtype)]
    if with_hx:
        n = 2 if kind == "LSTMCell" else 1
        states = tuple(rng.standard_normal(lead + (5,)).astype(dtype) for _ in range(n))
        inputs.append(states if n == 2 else states[0])
    _compare(m, tm, inputs, dtype)


def test_cell_unrolled_over_a_sequence_matches_torch():
    m, tm = _build("LSTMCell", np.float64, 3, 4)
    xs = np.random.default_rng(0).standard_normal((5, 2, 3))

    def unroll(mod, x):
        state = None
        outs = []
        for t in range(x.shape[0]):
            state = mod(x[t], state)
            outs.append(state[0])
        return outs

    _compare(m, tm, [xs], np.float64, call=unroll)


# -- default initialisation ------------------------------------------------------------
def test_default_init_is_uniform_in_plus_minus_one_over_sqrt_hidden():
    m = nn.LSTM(64, 256, bidirectional=True)
    k = 1 / np.sqrt(256)
    for name, p in m.named_parameters():
        a = p.detach().numpy()
        assert a.dtype == np.float32
        assert a.min() >= -k and a.max() <= k, name
    w = m.weight_hh_l0.detach().numpy()  # 262,144 draws
    assert abs(w.mean()) < 0.01 * k
    assert abs(w.std() - k / np.sqrt(3)) < 0.01 * k
    cell = nn.GRUCell(10, 100)
    assert np.abs(cell.weight_ih.detach().numpy()).max() <= 0.1
    assert np.abs(cell.weight_ih.detach().numpy()).max() > 0.09


# -- structure: one matmul for the inputs, one per step --------------------------------
def _count_prims(fn):
    with _counting() as counts:
        fn()
    return dict(counts)


def test_layer_uses_one_input_matmul_and_one_matmul_per_step():
    m = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    counts = _count_prims(lambda: m(cr.randn(9, 2, 3)))
    # 2 layers x 2 directions x (1 projection + 9 steps)
    assert counts["matmul"] == 4 * (1 + 9)
    assert "getitem" not in counts  # the per-step slices come from one node


def test_lstm_layer_is_one_input_matmul_and_one_fused_sequence_primitive():
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    x = cr.randn(9, 2, 3, requires_grad=True)
    forward = _count_prims(lambda: m(x))
    assert forward["matmul"] == 4 and forward["lstm_seq"] == 4
    out = m(x)[0].sum()
    backward = _count_prims(out.backward)
    assert backward["lstm_seq_backward"] == 4 and "lstm_seq" not in backward


# -- finite differences ----------------------------------------------------------------
def test_lstm_gradients_match_finite_differences():
    m = nn.LSTM(2, 3, num_layers=2, bidirectional=True, proj_size=2, dtype=cr.float64)
    names = ["weight_ih_l0", "weight_hh_l1_reverse", "bias_hh_l0", "weight_hr_l1"]
    init = [getattr(m, n).detach().numpy().copy() for n in names]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2))
    h0 = rng.standard_normal((4, 2, 2))
    c0 = rng.standard_normal((4, 2, 3))

    def fn(x, h0, c0, *params):
        saved = {n: m._parameters[n] for n in names}
        try:
            m._parameters.update(zip(names, params))  # swap in the probed tensors
            out, (h_n, c_n) = m(x, (h0, c0))
        finally:
            m._parameters.update(saved)
        return cr.cat([out.reshape(-1), h_n.reshape(-1), c_n.reshape(-1)])

    numeric_grad_check(fn, [x, h0, c0] + init)


# -- errors ----------------------------------------------------------------------------
def test_wrong_input_size_names_layer_and_sizes():
    with pytest.raises(cr.ShapeError, match=r"LSTM.*input_size.*Expected 10, got 7"):
        nn.LSTM(10, 20)(cr.randn(5, 3, 7))
    with pytest.raises(cr.ShapeError, match=r"GRU.*Expected 4, got 3"):
        nn.GRU(4, 2, batch_first=True)(cr.randn(2, 5, 3))
    with pytest.raises(cr.ShapeError, match=r"LSTMCell.*got 7, expected 10"):
        nn.LSTMCell(10, 20)(cr.randn(3, 7))
    with pytest.raises(cr.ShapeError, match=r"RNN.*2-D.*3-D.*got 4-D"):
        nn.RNN(3, 2)(cr.randn(1, 2, 3, 3))


def test_wrong_initial_state_names_expected_and_given_shape():
    with pytest.raises(cr.ShapeError,
                       match=r"GRU.*hidden size \[2, 3, 5\].*\[1, 3, 5\]"):
        nn.GRU(4, 5, num_layers=2)(cr.randn(6, 3, 4), cr.randn(1, 3, 5))
    with pytest.raises(cr.ShapeError, match=r"LSTM.*hidden\[1\] size \[1, 3, 5\]"):
        nn.LSTM(4, 5)(cr.randn(6, 3, 4), (cr.randn(1, 3, 5), cr.randn(1, 3, 4)))
    with pytest.raises(cr.ShapeError, match=r"unbatched 2-D.*3-D"):
        nn.RNN(4, 5)(cr.randn(6, 4), cr.randn(1, 1, 5))
    with pytest.raises(cr.ArgumentError, match="tuple"):
        nn.LSTM(4, 5)(cr.randn(6, 3, 4), cr.randn(1, 3, 5))
    with pytest.raises(cr.ShapeError, match=r"GRUCell.*batch size 3.*batch size 2"):
        nn.GRUCell(4, 5)(cr.randn(3, 4), cr.randn(2, 5))


def test_dtype_mismatch_is_a_clear_error():
    with pytest.raises(cr.DTypeError, match=r"LSTM: input dtype float64.*float32"):
        nn.LSTM(3, 4)(cr.randn(2, 1, 3, dtype=cr.float64))
    with pytest.raises(cr.DTypeError, match=r"RNNCell: input dtype float64"):
        nn.RNNCell(3, 4)(cr.randn(2, 3, dtype=cr.float64))


def test_bad_constructor_arguments():
    with pytest.raises(cr.ArgumentError, match="proj_size.*smaller than hidden_size"):
        nn.LSTM(3, 4, proj_size=4)
    with pytest.raises(cr.ArgumentError, match="proj_size is only supported by LSTM"):
        nn.RNNBase("GRU", 3, 4, proj_size=2)
    with pytest.raises(cr.ArgumentError, match=r"dropout.*\[0, 1\]"):
        nn.GRU(3, 4, num_layers=2, dropout=1.5)
    with pytest.raises(cr.ArgumentError, match="num_layers"):
        nn.RNN(3, 4, num_layers=0)
    with pytest.raises(cr.ArgumentError, match="nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(cr.ArgumentError, match="hidden_size must be greater than zero"):
        nn.LSTMCell(3, 0)


# -- the slicing primitive the layers walk the sequence with ---------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbind_copy_and_split_copy_match_torch(dtype):
    a = np.random.default_rng(0).standard_normal((4, 3, 6)).astype(dtype)
    for cfn, tfn in [
        (lambda x: cr.unbind_copy(x, 1), lambda x: torch.unbind_copy(x, 1)),
        (lambda x: cr.split_copy(x, 4, 2), lambda x: torch.split_copy(x, 4, 2)),
        (lambda x: cr.split_copy(x, [1, 0, 3], 0),
         lambda x: torch.split_with_sizes_copy(x, [1, 0, 3], 0)),
    ]:
        c, t = cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        cs, ts = cfn(c), tfn(t)
        assert len(cs) == len(ts)
        for cp, tp in zip(cs, ts):
            assert_close(cp, tp)
        # Only some pieces take part: the others must get zero gradient.
        w = [np.full(tuple(tp.shape), i + 1.0, dtype) for i, tp in enumerate(ts)]
        sum(((cp * cr.tensor(wi)).sum() for cp, wi in list(zip(cs, w))[::2]),
            cr.tensor(0.0, dtype=cs[0].dtype)).backward()
        sum((tp * torch.from_numpy(wi)).sum() for tp, wi in list(zip(ts, w))[::2]
            ).backward()
        assert_close(c.grad, t.grad)


def test_split_copy_pieces_are_copies_and_second_order_works():
    x = cr.randn(3, 4, requires_grad=True)
    a, b = cr.split_copy(x, 2, 1)
    with cr.no_grad():
        a.zero_()
    assert np.all(x.detach().numpy() != 0)
    y = cr.tensor(np.random.default_rng(0).standard_normal((3, 4)), dtype=cr.float32,
                  requires_grad=True)
    xt, yt = torch.tensor(x.detach().numpy(), requires_grad=True), torch.tensor(
        y.detach().numpy(), requires_grad=True)
    for m, xx, yy in ((cr, x, y), (torch, xt, yt)):
        pa, pb = (m.split_copy(xx * yy, 2, 1))
        loss = (pa * pa).sum() + (pb.sin()).sum()
        (g,) = m.autograd.grad(loss, [xx], create_graph=True)
        (g * g).sum().backward()
    assert_close(y.grad, yt.grad)
    with pytest.raises(cr.ShapeError, match=r"split_copy.*sum exactly to 4"):
        cr.split_copy(x, [1, 2], 1)
