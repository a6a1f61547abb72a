"""Run a chainrule module and a torch module with the same weights on the same
inputs; compare outputs and the gradients of inputs and every parameter.

Arguments are given as ndarrays: a float array becomes a leaf that requires
grad (the same array object passed twice becomes the same leaf, so
``m(x, x, x)`` stays self-attention), ``Const(array)`` a tensor without grad
(masks, indices), and tuples group them (LSTM states).
"""
import dataclasses

import numpy as np
import torch

import chainrule as cr
from tests.oracle import assert_close

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
TOLS = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-9, atol=1e-11)}


@dataclasses.dataclass(frozen=True)
class Const:
    """A tensor argument that takes no gradient."""

    value: object


def load_torch_weights(m, tm, dtype):
    """Copy ``tm``'s state_dict into ``m`` (keys must match) and cast to ``dtype``."""
    assert list(m.state_dict()) == list(tm.state_dict())
    m.load_state_dict({k: cr.tensor(v.detach().numpy()) for k, v in
                       tm.state_dict().items()})
    m.to(cr.float64 if dtype == np.float64 else cr.float32)
    tm.to(TORCH_DTYPE[dtype])


class _Inputs:
    """Builds the argument structures for both frameworks, tracking leaves."""

    def __init__(self):
        self.cache, self.c_leaves, self.t_leaves = {}, [], []

    def make(self, a):
        if a is None or isinstance(a, (bool, int, float, str)):
            return a, a
        if isinstance(a, tuple):
            pairs = [self.make(x) for x in a]
            return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        if id(a) in self.cache:
            return self.cache[id(a)]
        if isinstance(a, Const):
            pair = cr.tensor(a.value), torch.tensor(a.value)
        else:
            c = cr.tensor(a, requires_grad=True)
            t = torch.tensor(a, requires_grad=True)
            self.c_leaves.append(c)
            self.t_leaves.append(t)
            pair = c, t
        self.cache[id(a)] = pair
        return pair


def _flat(out):
    if isinstance(out, (tuple, list)):
        return [y for o in out for y in _flat(o)]
    return [out]


def compare_calls(cfn, tfn, args, dtype, kwargs=None, seed=1):
    """Compare ``cfn(*args, **kwargs)`` with ``tfn`` on the same values: outputs,
    then the gradients of ``sum(out_i * w_i)`` (random ``w_i``) with respect
    to every float argument.  Returns our outputs (a flat list)."""
    tol = TOLS[dtype]
    inp = _Inputs()
    pairs = [inp.make(a) for a in args]
    kw_pairs = {k: inp.make(v) for k, v in (kwargs or {}).items()}
    cout = _flat(cfn(*[p[0] for p in pairs], **{k: p[0] for k, p in kw_pairs.items()}))
    tout = _flat(tfn(*[p[1] for p in pairs], **{k: p[1] for k, p in kw_pairs.items()}))
    assert len(cout) == len(tout)
    rng = np.random.default_rng(seed)
    closs = tloss = 0
    for i, (c, t) in enumerate(zip(cout, tout)):
        if t is None:
            assert c is None, f"output {i}: torch gives None, we give a tensor"
            continue
        assert c.dtype.name == str(t.dtype).split(".")[-1], f"output {i} dtype"
        assert_close(c, t, what=f"output {i}", **tol)
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        closs = closs + (c * cr.tensor(w)).sum()
        tloss = tloss + (t * torch.from_numpy(w)).sum()
    closs.backward()
    tloss.backward()
    for i, (c, t) in enumerate(zip(inp.c_leaves, inp.t_leaves)):
        if t.grad is None:
            assert c.grad is None or not np.any(c.grad.numpy()), f"input {i} grad"
            continue
        assert c.grad is not None, f"input {i}: no gradient, torch has one"
        assert_close(c.grad, t.grad, what=f"gradient of input {i}", **tol)
    return cout


def compare_modules(m, tm, args, dtype, kwargs=None, call=None, seed=1):
    """:func:`compare_calls` on ``call(module, *args, **kwargs)`` (default: the
    module's forward), then the gradient of every parameter, by name."""
    call = call or (lambda mod, *xs, **kw: mod(*xs, **kw))
    cout = compare_calls(lambda *a, **k: call(m, *a, **k),
                         lambda *a, **k: call(tm, *a, **k), args, dtype, kwargs, seed)
    tol = TOLS[dtype]
    tparams = dict(tm.named_parameters())
    assert [n for n, _ in m.named_parameters()] == list(tparams)
    for name, p in m.named_parameters():
        tg = tparams[name].grad
        if tg is None:
            assert p.grad is None or not np.any(p.grad.numpy()), name
            continue
        assert p.grad is not None, f"no gradient for {name}"
        assert_close(p.grad, tg, what=f"gradient of {name}", **tol)
    return cout
