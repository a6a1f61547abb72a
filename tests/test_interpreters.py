"""The interpreter stack of ``chainrule._tape``: what an interpreter sees,
how interpreters nest, and how one replaces evaluation."""
import contextlib

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn, optim
from chainrule._tape import Interpreter, _state, interpreting
from chainrule.autograd import count_ops, forward_ad as fwad
from chainrule.ops._core import PRIMITIVES


class Recorder(Interpreter):
    """Logs (tag, primitive name) after every call it sees."""

    def __init__(self, tag="r", log=None):
        self.tag, self.log = tag, [] if log is None else log

    def observe(self, prim, inputs, params, outs):
        assert isinstance(outs, tuple) and all(isinstance(o, cr.Tensor) for o in outs)
        self.log.append((self.tag, prim.name))


@contextlib.contextmanager
def kernel_calls():
    """Count every run of a forward kernel of the table (eager evaluations)."""
    calls = []
    saved = {}
    for name, p in PRIMITIVES.items():
        saved[name] = fwd = p.forward

        def wrapped(*a, _fwd=fwd, _name=name, **k):
            calls.append(_name)
            return _fwd(*a, **k)

        p.forward = wrapped
    try:
        yield calls
    finally:
        for name, fwd in saved.items():
            PRIMITIVES[name].forward = fwd


def _training_step(opt_cls, **kw):
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = opt_cls(model.parameters(), lr=0.1, **kw)
    x, y = cr.randn(5, 4), cr.randn(5, 2)

    def step():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        return loss

    return step


@pytest.mark.parametrize("opt_cls", [optim.SGD, optim.Adam])
def test_an_interpreter_sees_every_primitive_of_a_training_step(opt_cls):
    step = _training_step(opt_cls)
    rec = Recorder()
    with kernel_calls() as calls, interpreting(rec):
        step()
    seen = [name for _, name in rec.log]
    # Every kernel that ran was a call the interpreter saw, and nothing else.
    assert seen == calls
    assert seen[:3] == ["linear", "tanh", "linear"]  # the forward pass
    # backward: both weight gradients and the hidden layer's gradient (x
    # needs none)
    assert seen.count("matmul") == 3
    if opt_cls is optim.Adam:
        assert seen[-4:] == ["adam_step"] * 4  # the fused step, per parameter
    else:
        # p.add_(grad, alpha=-lr), then the store of the result into p
        assert seen[-12:] == ["mul", "add", "store"] * 4
    assert _state.stack == []


def test_interpreters_nest_top_first_and_run_popped():
    log = []
    stacks = []

    class Inner(Recorder):
        def process(self, prim, inputs, params):
            stacks.append(list(_state.stack))
            return super().process(prim, inputs, params)

    a, b = Recorder("a", log), Inner("b", log)
    x = cr.ones(3)
    with interpreting(a):
        with interpreting(b):
            assert _state.stack == [a, b]
            cr.exp(x)
        assert _state.stack == [a]
        cr.neg(x)
    assert _state.stack == []
    # b (top) handled exp with itself popped; it evaluated below, where a saw
    # the call first, then b observed it.
    assert stacks == [[a]]
    assert log == [("a", "exp"), ("b", "exp"), ("a", "neg")]


def test_process_can_replace_evaluation():
    below = Recorder("below")

    class AddIsMul(Interpreter):
        def process(self, prim, inputs, params):
            if prim.name == "add":
                return (cr.mul(*inputs),)  # goes to the interpreters below
            return self.evaluate(prim, inputs, params)

    x, y = cr.tensor([2.0, 3.0]), cr.tensor([4.0, 5.0])
    with interpreting(below), interpreting(AddIsMul()):
        z = x + y
        w = cr.exp(x)
    np.testing.assert_array_equal(z.numpy(), [8.0, 15.0])
    np.testing.assert_allclose(w.numpy(), np.exp([2.0, 3.0]))
    assert [n for _, n in below.log] == ["mul", "exp"]
    np.testing.assert_array_equal((x + y).numpy(), [6.0, 8.0])  # popped again


def test_a_process_may_return_a_bare_tensor_and_multi_output_tuples_stay():
    class Bare(Interpreter):
        def process(self, prim, inputs, params):
            out = self.evaluate(prim, inputs, params)
            return out[0] if len(out) == 1 else out

    x = cr.tensor([[3.0, 1.0], [2.0, 5.0]])
    with interpreting(Bare()):
        y = cr.exp(x)
        vals, idx = cr.max(x, dim=1)
    assert isinstance(y, cr.Tensor)
    np.testing.assert_array_equal(vals.numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(idx.numpy(), [0, 1])


def test_the_stack_is_restored_when_an_interpreter_raises():
    class Boom(Interpreter):
        def process(self, prim, inputs, params):
            raise RuntimeError("boom")

    boom = Boom()
    with pytest.raises(RuntimeError, match="boom"):
        with interpreting(boom):
            cr.exp(cr.ones(2))
    assert _state.stack == []


def test_backward_rules_are_seen_by_interpreters():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    y = cr.sin(x).sum()
    rec = Recorder()
    with interpreting(rec):
        y.backward()
    assert "cos" in [n for _, n in rec.log]  # d sin = cos, run by the vjp rule
    np.testing.assert_allclose(x.grad.numpy(), np.cos([0.5, 1.0]))


def test_count_ops_counts_forward_backward_and_jvp_rules():
    x = cr.tensor([0.5, 1.0], requires_grad=True)
    with count_ops() as c:
        y = cr.sin(x).sum()
    assert c["sin"] == 1 and c["cos"] == 0
    with count_ops() as c:
        y.backward()
    assert c["sin"] == 0 and c["cos"] == 1
    with count_ops() as c, fwad.dual_level():
        cr.sin(fwad.make_dual(cr.ones(2), cr.ones(2)))
    assert c["sin"] == 1 and c["cos"] == 1  # the primal, and sin's jvp rule
    with count_ops() as outer:
        with count_ops() as inner:
            cr.exp(x)
        cr.exp(x)
    assert inner["exp"] == 1 and outer["exp"] == 2
    assert _state.stack == []


def test_each_dual_level_is_one_interpreter_and_rules_skip_their_own_level():
    with fwad.dual_level() as l1:
        assert [i.dual_level for i in _state.stack] == [l1]
        with fwad.dual_level() as l2:
            assert [i.dual_level for i in _state.stack] == [l1, l2]
            assert _state.forward_ad == 2
            x = cr.tensor(0.7, dtype=cr.float64)
            x = fwad.make_dual(fwad.make_dual(x, cr.tensor(1.0, dtype=cr.float64),
                                              level=l1),
                               cr.tensor(1.0, dtype=cr.float64), level=l2)
            y = cr.sin(x)
            d2 = fwad.unpack_dual(fwad.unpack_dual(y, level=l2).tangent,
                                  level=l1).tangent
        assert _state.forward_ad == 1
    assert _state.stack == [] and _state.forward_ad == 0
    # d/dx cos(x) = -sin(x): the level-2 rule (cos) was differentiated by
    # level 1 only.
    np.testing.assert_allclose(d2.item(), -np.sin(0.7))


def test_anomaly_mode_is_on_the_stack_only_while_active():
    assert _state.stack == []
    with cr.autograd.detect_anomaly():
        assert len(_state.stack) == 1
        with cr.autograd.detect_anomaly():
            assert len(_state.stack) == 1
        with cr.autograd.set_detect_anomaly(False):
            assert _state.stack == []
        assert len(_state.stack) == 1
    assert _state.stack == []
