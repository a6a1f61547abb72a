"""Padding and packing (``nn.utils.rnn``) and recurrent layers on packed input,
against PyTorch: values, batch sizes, permutations and gradients."""
import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn

import chainrule as cr
from chainrule import nn
from chainrule.autograd import gradcheck
from chainrule.errors import ArgumentError, ShapeError
from chainrule.nn.utils import rnn as crnn
from tests.nn_compare import load_torch_weights
from tests.oracle import assert_close

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

LENGTHS = [3, 5, 1, 4]  # unsorted on purpose; distinct so sort orders agree


def _pair(shape, seed=0, dtype=np.float64):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return (cr.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True))


def _grads_match(c_out, t_out, c_leaves, t_leaves, seed=1):
    """Compare the gradients of ``sum(out * w)`` for a random ``w``."""
    w = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    (c_out * cr.tensor(w.astype(c_out.dtype.name))).sum().backward()
    (t_out * torch.tensor(w, dtype=t_out.dtype)).sum().backward()
    for c, t in zip(c_leaves, t_leaves):
        assert_close(c.grad, t.grad, rtol=1e-9, atol=1e-11, what="grad")


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_sequence(batch_first, side):
    pairs = [_pair((n, 2), seed=n) for n in LENGTHS]
    c = crnn.pad_sequence([p[0] for p in pairs], batch_first, -1.0, side)
    t = trnn.pad_sequence([p[1] for p in pairs], batch_first, -1.0, side)
    assert_close(c, t)
    _grads_match(c, t, [p[0] for p in pairs], [p[1] for p in pairs])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_pad_roundtrip(batch_first, enforce_sorted):
    lens = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    cx, tx = _pair(shape)
    cp = crnn.pack_padded_sequence(cx, lens, batch_first, enforce_sorted)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lens), batch_first, enforce_sorted)
    assert_close(cp.data, tp.data)
    assert cp.batch_sizes.tolist() == tp.batch_sizes.tolist()
    for a, b in ((cp.sorted_indices, tp.sorted_indices),
                 (cp.unsorted_indices, tp.unsorted_indices)):
        assert (a is None and b is None) or a.tolist() == b.tolist()
    cpad, clen = crnn.pad_packed_sequence(cp, batch_first, 7.0, total_length=7)
    tpad, tlen = trnn.pad_packed_sequence(tp, batch_first, 7.0, total_length=7)
    assert_close(cpad, tpad)
    assert clen.tolist() == tlen.tolist() and clen.dtype == cr.int64
    _grads_match(cpad, tpad, [cx], [tx])


def test_pack_sequence_and_unpack():
    pairs = [_pair((n, 2), seed=n) for n in LENGTHS]
    cp = crnn.pack_sequence([p[0] for p in pairs], enforce_sorted=False)
    tp = trnn.pack_sequence([p[1] for p in pairs], enforce_sorted=False)
    assert_close(cp.data, tp.data)
    back = crnn.unpack_sequence(cp)
    for b, (c, _) in zip(back, pairs):
        assert_close(b, c)
    _grads_match(cp.data, tp.data, [p[0] for p in pairs], [p[1] for p in pairs])


def test_pack_gradcheck():
    x = cr.tensor(np.random.default_rng(0).standard_normal((5, 3, 2)),
                  requires_grad=True)

    def f(x):
        p = crnn.pack_padded_sequence(x, [2, 5, 4], enforce_sorted=False)
        return crnn.pad_packed_sequence(p, padding_value=0.5)[0]

    assert gradcheck(f, (x,))


CONFIGS = [dict(), dict(num_layers=2, bidirectional=True),
           dict(batch_first=True, bias=False)]


def _cases():
    for kind in ("RNN", "LSTM", "GRU"):
        for cfg in CONFIGS:
            yield kind, cfg
    yield "LSTM", dict(proj_size=2, bidirectional=True)


@pytest.mark.parametrize("with_hx", [False, True])
@pytest.mark.parametrize("kind,cfg", list(_cases()))
def test_layers_on_packed_input(kind, cfg, with_hx):
    torch.manual_seed(0)
    tm, m = getattr(torch.nn, kind)(3, 4, **cfg), getattr(nn, kind)(3, 4, **cfg)
    load_torch_weights(m, tm, np.float64)
    batch_first = cfg.get("batch_first", False)
    cx, tx = _pair((4, 5, 3) if batch_first else (5, 4, 3))
    lens = [2, 5, 1, 4]
    cp = crnn.pack_padded_sequence(cx, lens, batch_first, enforce_sorted=False)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lens), batch_first,
                                   enforce_sorted=False)
    c_leaves, t_leaves = [cx], [tx]
    chx = thx = None
    if with_hx:
        lead = cfg.get("num_layers", 1) * (2 if cfg.get("bidirectional") else 1)
        shapes = [(lead, 4, cfg.get("proj_size") or 4)]
        if kind == "LSTM":
            shapes.append((lead, 4, 4))
        pairs = [_pair(s, seed=10 + i) for i, s in enumerate(shapes)]
        chx = tuple(p[0] for p in pairs) if kind == "LSTM" else pairs[0][0]
        thx = tuple(p[1] for p in pairs) if kind == "LSTM" else pairs[0][1]
        c_leaves += [p[0] for p in pairs]
        t_leaves += [p[1] for p in pairs]
    cout, ch = m(cp, chx)
    tout, th = tm(tp, thx)
    assert isinstance(cout, crnn.PackedSequence)
    assert cout.batch_sizes.tolist() == tout.batch_sizes.tolist()
    assert_close(cout.data, tout.data, rtol=1e-9, atol=1e-11)
    ch = ch if kind == "LSTM" else (ch,)
    th = th if kind == "LSTM" else (th,)
    for a, b in zip(ch, th):
        assert_close(a, b, rtol=1e-9, atol=1e-11, what="h_n")
    c_total = cout.data.sum() * 0.5 + sum((s * s).sum() for s in ch)
    t_total = tout.data.sum() * 0.5 + sum((s * s).sum() for s in th)
    c_total.backward()
    t_total.backward()
    for c, t in zip(c_leaves, t_leaves):
        assert_close(c.grad, t.grad, rtol=1e-8, atol=1e-10, what="input grad")
    for (name, p), (_, tp_) in zip(m.named_parameters(), tm.named_parameters()):
        assert_close(p.grad, tp_.grad, rtol=1e-8, atol=1e-10, what=name)


def test_packed_output_equals_per_sequence_runs():
    # A packed run gives each sequence what it would get alone.
    m = nn.GRU(2, 3, dtype=cr.float64)
    seqs = [cr.tensor(np.random.default_rng(n).standard_normal((n, 2))) for n in (4, 2)]
    out, h = m(crnn.pack_sequence(seqs))
    padded, _ = crnn.pad_packed_sequence(out)
    for b, s in enumerate(seqs):
        alone, h_alone = m(s)
        assert_close(padded[: s.shape[0], b], alone)
        assert_close(h[:, b], h_alone)


def test_errors():
    x = cr.zeros(4, 2, 1)
    with pytest.raises(ArgumentError, match="sorted in decreasing order"):
        crnn.pack_padded_sequence(x, [1, 3])
    with pytest.raises(ArgumentError, match="greater than 0"):
        crnn.pack_padded_sequence(x, [3, 0])
    with pytest.raises(ShapeError, match="expected 2 lengths"):
        crnn.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ShapeError, match="exceed the 4 time steps"):
        crnn.pack_padded_sequence(x, [5, 2])
    p = crnn.pack_padded_sequence(x, [3, 2])
    with pytest.raises(ArgumentError, match="total_length to be at least"):
        crnn.pad_packed_sequence(p, total_length=2)
    with pytest.raises(ShapeError, match="must be \\(sum\\(lengths\\), 5\\)"):
        nn.LSTM(5, 3)(p)
    with pytest.raises(ShapeError, match="same trailing dims"):
        crnn.pad_sequence([cr.zeros(2, 3), cr.zeros(2, 4)])
