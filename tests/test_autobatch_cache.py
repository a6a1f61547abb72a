"""autobatch(f, cache=True): traces kept per example structure give the same
results, gradients and batches as recording every example (float64, against
the per-example loop), stay right after the parameters change, and are not
kept when f's control flow could depend on something else."""
from collections import Counter

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from benchmarks.autobatch import Tagger, TreeLSTM, sentences, trees
from chainrule import optim
from chainrule.func import autobatch
from tests.test_autobatch import GraphNet, _check_equal, _grads


def _check_cached(model, f, examples, tol=1e-6):
    """Results and gradients of ``autobatch(f, cache=True)`` equal the loop's
    on three calls: recording, tracing (each structure's second time), then
    replaying; returns the stats of the calls and the wrapped function."""
    ref = [f(*ex) for ex in examples]
    sum(ref).backward()
    g_ref = _grads(model)
    b = autobatch(f, cache=True)
    stats = []
    for _ in range(3):
        got = b(examples)
        for a, r in zip(got, ref):
            assert type(a) is cr.Tensor and a.shape == r.shape
            np.testing.assert_allclose(a.detach().numpy(), r.detach().numpy(),
                                       rtol=tol, atol=tol)
        sum(got).backward()
        g = _grads(model)
        for k in g_ref:
            if g_ref[k] is not None:
                np.testing.assert_allclose(g[k], g_ref[k], rtol=tol, atol=tol,
                                           err_msg=k)
        stats.append(b.stats)
    return stats, b


def test_tagger_replays_every_example_and_batches_as_recording():
    cr.manual_seed(0)
    model = Tagger(dtype=cr.float64)
    data = sentences(12, np.random.default_rng(1), lo=2, hi=6)
    plain = _check_equal(model, model.loss, data)
    stats, b = _check_cached(model, model.loss, data)
    counts = Counter(len(w) for w, _ in data)
    # a structure is traced the second time it comes up, then replayed
    assert stats[0].replayed == sum(max(0, n - 2) for n in counts.values())
    assert stats[1].replayed == sum(n for n in counts.values() if n > 1)
    assert stats[2].replayed == len(data) and len(b.cache) == len(counts)
    for s in stats:  # the same nodes and the same batched calls
        assert (s.nodes, s.groups, s.single) == (plain.nodes, plain.groups,
                                                 plain.single)


def test_tree_lstm_and_graph_replay():
    cr.manual_seed(0)
    model = TreeLSTM(dtype=cr.float64)
    data = trees(6, np.random.default_rng(2), lo=1, hi=7)
    stats, _ = _check_cached(model, model.loss, data + data)
    assert stats[1].replayed == 12
    cr.manual_seed(0)
    net = GraphNet()
    rng = np.random.default_rng(3)
    graphs = []
    for n in (3, 4, 3):
        edges = [(int(a), int(b)) for a, b in rng.integers(0, n, (2 * n, 2))]
        graphs.append((cr.tensor(rng.normal(size=(n, 4))), edges))
    stats, b = _check_cached(net, net.loss, graphs)
    # the edge lists are part of the structure: three graphs, three traces
    assert stats[2].replayed == 3 and len(b.cache) == 3


def test_replay_reads_the_parameters_of_now():
    cr.manual_seed(0)
    model = Tagger(dtype=cr.float64)
    data = sentences(6, np.random.default_rng(5), lo=3, hi=5)
    b = autobatch(model.loss, cache=True)
    opt = optim.SGD(model.parameters(), lr=0.1)
    for step in range(4):
        got = b(data)
        ref = [model.loss(*ex) for ex in data]
        np.testing.assert_allclose([g.item() for g in got], [r.item() for r in ref],
                                   rtol=1e-12)
        opt.zero_grad()
        sum(got).backward()
        opt.step()
    assert b.stats.replayed == len(data)


def test_structures_met_once_are_not_traced():
    cr.manual_seed(0)
    model = TreeLSTM(dtype=cr.float64)
    b = autobatch(model.loss, cache=True)
    b(trees(6, np.random.default_rng(2), lo=8, hi=12))
    assert b.cache == {} and b.stats.replayed == 0


def test_value_dependent_trace_is_not_kept():
    def f(x):
        if x.sum().item() > 0:
            return (x * 2).sum()
        return (x * 3).sum()

    b = autobatch(f, cache=True)
    data = [(cr.tensor([1.0, 2.0]),), (cr.tensor([-1.0, -2.0]),)]
    for _ in range(2):
        assert [g.item() for g in b(data)] == [6.0, -9.0]
        assert b.stats.replayed == 0
    assert list(b.cache.values()) == [None]


def test_random_draws_are_replayed_not_frozen():
    w = cr.randn(4, 4, dtype=cr.float64, requires_grad=True)

    def f(x):
        return F.dropout(x @ w, p=0.5, training=True).sum()

    data = [(cr.randn(n, 4, dtype=cr.float64),) for n in (2, 3, 2, 3)]
    cached, plain = autobatch(f, cache=True), autobatch(f)
    cr.manual_seed(7)
    runs = [[f(*ex).item() for ex in data]]
    for b in (cached, plain, cached, cached):
        cr.manual_seed(7)
        runs.append([g.item() for g in b(data)])
    # the same draws in the same order as the per-example loop
    assert runs[0] == runs[1] == runs[2] == runs[3] == runs[4]
    assert cached.stats.replayed == len(data)
    assert cached(data) != runs[0]  # and fresh draws without reseeding


def test_grad_mode_inside_f_is_replayed():
    w = cr.randn(3, 3, dtype=cr.float64, requires_grad=True)

    def f(x):
        with cr.no_grad():
            scale = (w * w).sum()  # a constant for the gradient
        return ((x @ w).tanh() * scale).sum()

    data = [(cr.randn(n, 3, dtype=cr.float64),) for n in (2, 3, 2)]
    ref = [f(*ex) for ex in data]
    sum(ref).backward()
    g_ref, w.grad = w.grad.numpy().copy(), None
    b = autobatch(f, cache=True)
    for _ in range(3):
        got = b(data)
        sum(got).backward()
        np.testing.assert_allclose(w.grad.numpy(), g_ref, rtol=1e-12)
        w.grad = None
    assert b.stats.replayed == len(data)


def test_python_values_and_grad_mode_key_the_traces():
    w = cr.randn(3, dtype=cr.float64, requires_grad=True)

    def f(x, power):
        return (x * w).sum() ** power

    b = autobatch(f, cache=True)
    x = cr.randn(3, dtype=cr.float64)
    data = [(x, 1), (x, 2), (x, 1), (x, 2), (x, 1)]
    want = [f(*ex).item() for ex in data]
    assert [g.item() for g in b(data)] == pytest.approx(want, rel=1e-12)
    assert len(b.cache) == 2 and b.stats.replayed == 1
    with cr.no_grad():
        b(data)
        got = b(data)
    assert not got[0].requires_grad and len(b.cache) == 4
    assert b.stats.replayed == 5
    b.cache.clear()
    assert [g.item() for g in b(data)] == pytest.approx(want, rel=1e-12)
    assert b.stats.replayed == 1


def test_in_place_writes_and_transforms_inside_f_are_not_kept():
    w = cr.randn(3, dtype=cr.float64, requires_grad=True)

    def writes(x):
        c = cr.zeros(3, dtype=cr.float64)
        c.add_(1.0)
        return (x * w * c).sum()

    def transforms(x):
        with cr.autograd.detect_anomaly():
            return (x * w).sum()

    x = cr.randn(3, dtype=cr.float64)
    g = cr.Generator().manual_seed(0)

    def own_generator(x):
        return (x * w * cr.rand(3, generator=g, dtype=cr.float64)).sum()

    for f in (writes, transforms, own_generator):
        b = autobatch(f, cache=True)
        for _ in range(2):
            got = b([(x,), (x,)])
        if f is not own_generator:
            assert [g.item() for g in got] == pytest.approx([f(x).item()] * 2)
        assert list(b.cache.values()) == [None] and b.stats.replayed == 0


def test_checks_on_integer_arguments_still_run_at_replay():
    # the embedding's bounds check reads a value computed from the words;
    # a replayed example that fails it is recorded afresh and raises
    cr.manual_seed(0)
    model = Tagger(dtype=cr.float64)
    data = sentences(3, np.random.default_rng(6), lo=4, hi=4)
    b = autobatch(model.loss, cache=True)
    b(data)
    assert len(b.cache) == 1
    for bad in (-1, 100):
        words = data[0][0].clone()
        words[2] = bad
        with pytest.raises(cr.errors.ChainruleError, match="out of range"):
            b([(words, data[0][1])])
    b(data)
    assert b.stats.replayed == len(data)


def test_zero_d_index_tensors_are_part_of_the_structure():
    # a tree's leaves are 0-d token tensors; indexing reads a 0-d index as a
    # plain int, so trees of one shape with other tokens must not share a
    # trace (they did once, and trained on the first tree's tokens)
    cr.manual_seed(0)
    model = TreeLSTM(dtype=cr.float64)
    rng = np.random.default_rng(7)

    def tree():
        tok = [cr.tensor(int(v)) for v in rng.integers(0, 100, 3)]
        return ((tok[0], tok[1]), tok[2]), cr.tensor(int(rng.integers(0, 5)))

    data = [tree() for _ in range(6)]
    stats, b = _check_cached(model, model.loss, data + data)
    assert stats[2].replayed == 12 and len(b.cache) == len(
        {tuple(int(t) for t in (a, c, d)) + (int(y),) for ((a, c), d), y in data})


def test_values_python_read_are_guards():
    # f branches on a value computed from its integer argument: examples of
    # one shape on the other branch must not replay the first one's trace
    w = cr.randn(3, dtype=cr.float64, requires_grad=True)

    def f(x, k):
        if k.sum().item() > 3:
            return (x * w).sum() * 2
        return (x * w).sum() * 3

    x = cr.randn(3, dtype=cr.float64)
    # a guard holds a value, not a branch: the sums 5 replay the trace of the
    # second example, the others are recorded afresh
    data = [(x, cr.tensor([2, 3])), (x, cr.tensor([4, 1])), (x, cr.tensor([0, 1])),
            (x, cr.tensor([5, 0])), (x, cr.tensor([1, 1])), (x, cr.tensor([3, 2]))]
    b = autobatch(f, cache=True)
    want = [f(*ex).item() for ex in data]
    for _ in range(2):
        assert [g.item() for g in b(data)] == pytest.approx(want, rel=1e-12)
    (template,) = b.cache.values()
    assert template.guards and b.stats.replayed == 4
