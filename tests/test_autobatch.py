"""autobatch: results and gradients equal to the per-example loop (float64),
batching actually happening, control flow on shapes, reading values, and
primitives without a batching rule."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.autobatch._rules as rules
import chainrule.nn as nn
from benchmarks.autobatch import Tagger, TreeLSTM, sentences, trees
from chainrule.autobatch import AutobatchError
from chainrule.errors import ChainruleError
from chainrule.func import autobatch


def _grads(model):
    out = {k: None if p.grad is None else p.grad.numpy().copy()
           for k, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return out


def _check_equal(model, f, examples, tol=1e-6):
    ref = [f(*ex) for ex in examples]
    sum(ref).backward()
    g_ref = _grads(model)
    b = autobatch(f)
    got = b(examples)
    assert len(got) == len(ref)
    for a, r in zip(got, ref):
        assert type(a) is cr.Tensor and a.shape == r.shape
        np.testing.assert_allclose(a.detach().numpy(), r.detach().numpy(), rtol=tol,
                                   atol=tol)
    sum(got).backward()
    g = _grads(model)
    for k in g_ref:
        if g_ref[k] is None:
            assert g[k] is None or not np.any(g[k]), k
        else:
            np.testing.assert_allclose(g[k], g_ref[k], rtol=tol, atol=tol, err_msg=k)
    return b.stats


def test_tagger_equals_loop_and_batches():
    cr.manual_seed(0)
    model = Tagger(dtype=cr.float64)
    data = sentences(8, np.random.default_rng(1), lo=2, hi=9)
    stats = _check_equal(model, model.loss, data)
    # the time steps of different sentences ran together
    assert stats.groups * 5 < stats.nodes and stats.forced == 0


def test_tree_lstm_equals_loop_and_batches():
    cr.manual_seed(0)
    model = TreeLSTM(dtype=cr.float64)
    data = trees(8, np.random.default_rng(2), lo=1, hi=9)
    stats = _check_equal(model, model.loss, data)
    assert stats.groups * 3 < stats.nodes


class GraphNet(nn.Module):
    """Two rounds of message passing over a graph given as node features
    ``(n, d)`` and a Python list of edges; a graph-level score."""

    def __init__(self):
        super().__init__()
        self.msg = nn.Linear(4, 4, dtype=cr.float64)
        self.upd = nn.Linear(8, 4, dtype=cr.float64)
        self.out = nn.Linear(4, 1, dtype=cr.float64)

    def loss(self, x, edges):
        h = [x[i] for i in range(x.shape[0])]
        for _ in range(2):
            inbox = [cr.zeros(4, dtype=cr.float64) for _ in h]
            for a, b in edges:
                inbox[b] = inbox[b] + self.msg(h[a]).tanh()
            h = [self.upd(cr.cat([v, m])).relu() for v, m in zip(h, inbox)]
        return self.out(cr.stack(h).mean(0)).sum() ** 2


def test_graph_equals_loop():
    cr.manual_seed(0)
    model = GraphNet()
    rng = np.random.default_rng(3)
    data = []
    for n in (3, 5, 4, 6):
        edges = [(int(a), int(b)) for a, b in rng.integers(0, n, (2 * n, 2))]
        data.append((cr.tensor(rng.normal(size=(n, 4))), edges))
    _check_equal(model, model.loss, data)


def test_shape_dependent_control_flow():
    w = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)

    def f(x):
        if x.shape[0] > 2:  # a decision on a shape is fine
            return (x @ w).tanh().sum()
        return (x @ w).sigmoid().sum() * 2

    data = [(cr.randn(n, 3, dtype=cr.float64),) for n in (1, 2, 3, 4, 3)]
    got = autobatch(f)(data)
    for (x,), g in zip(data, got):
        np.testing.assert_allclose(g.item(), f(x).item(), rtol=1e-12)


def _value_dependent(x):
    y = x.sum()
    if y.item() > 0:  # a decision on a value
        return (x * 2).sum()
    return (x * 3).sum()


def test_value_dependent_control_flow_raises_in_error_mode():
    data = [(cr.randn(3, dtype=cr.float64),), (cr.randn(4, dtype=cr.float64),)]
    with pytest.raises(AutobatchError, match=r"value of a recorded tensor .*float64 "
                       r"\[\]. output of sum.*on_value='force'"):
        autobatch(_value_dependent, on_value="error")(data)


def test_value_dependent_control_flow_forces_evaluation():
    data = [(cr.tensor([1.0, 2.0]),), (cr.tensor([-1.0, -2.0, -3.0]),)]
    b = autobatch(_value_dependent)
    got = [g.item() for g in b(data)]
    assert got == [6.0, -18.0]
    assert b.stats.forced == 2


def test_primitive_without_rule_runs_per_node(monkeypatch):
    cr.manual_seed(0)
    model = Tagger(dtype=cr.float64)
    data = sentences(4, np.random.default_rng(4), lo=2, hi=5)
    lookup = rules.rule_for
    monkeypatch.setattr(rules, "rule_for",
                        lambda p: None if p.name == "tanh" else lookup(p))
    stats = _check_equal(model, model.loss, data)
    assert stats.single > 0 and stats.groups > 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="on_value must be 'force' or 'error'"):
        autobatch(lambda x: x, on_value="maybe")
    with pytest.raises(TypeError, match="each example must be a tuple"):
        autobatch(lambda x: x)([cr.ones(2)])


def test_in_place_on_recorded_tensor_is_an_error():
    def f(x):
        y = x * 2
        y.add_(1)
        return y.sum()

    # the recorded tensor has no storage to write into: a clear error, not a
    # silently lost write
    with pytest.raises(ChainruleError, match="in place"):
        autobatch(f)([(cr.ones(2),)])


def test_integer_results_evaluate_when_read_and_reshapes_cancel():
    # an argmax (an integer lazy tensor) used as an index is evaluated when
    # read; an unsqueeze that undoes a squeeze records nothing and changes
    # nothing
    w = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)

    def f(x):
        h = (x @ w).tanh()
        i = h.sum(1).argmax()
        return h[i].sum() * 2 + h.unsqueeze(0).squeeze(0).unsqueeze(0).sum()

    data = [(cr.randn(n, 3, dtype=cr.float64),) for n in (2, 4, 3, 4)]
    ref = [f(*ex) for ex in data]
    sum(ref).backward()
    g_ref, w.grad = w.grad.numpy().copy(), None
    b = autobatch(f)
    got = b(data)
    np.testing.assert_allclose([g.item() for g in got], [r.item() for r in ref],
                               rtol=1e-12)
    sum(got).backward()
    np.testing.assert_allclose(w.grad.numpy(), g_ref, rtol=1e-12)
    assert b.stats.forced == len(data)


def test_cat_of_one_value_repeated():
    # a cat whose operands are all the same pending value is not a stack of
    # rows: it runs as a cat
    w = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)

    def f(x):
        h = (x @ w).tanh()
        return (cr.cat([h, h, h]) * cr.arange(3 * x.shape[0])[:, None]).sum()

    data = [(cr.randn(n, 3, dtype=cr.float64),) for n in (2, 3)]
    got = autobatch(f)(data)
    np.testing.assert_allclose([g.item() for g in got], [f(*ex).item() for ex in data],
                               rtol=1e-12)
