"""Post-accumulate-grad hooks and end-of-backward callbacks (what
DistributedDataParallel builds on), against PyTorch's behaviour."""
import pytest
import torch

import chainrule as cr
from chainrule.autograd.engine import queue_callback


def _seen(lib, tensor_fn):
    w = tensor_fn([1.0, 2.0])
    seen = []
    h = w.register_post_accumulate_grad_hook(lambda p: seen.append(p.grad.tolist()))
    (w * 3).sum().backward()
    (w * w).sum().backward()
    h.remove()
    (w * 5).sum().backward()
    return seen, w.grad.tolist()


def test_post_accumulate_grad_hook_sees_the_accumulated_grad():
    ours = _seen(cr, lambda v: cr.tensor(v, requires_grad=True))
    theirs = _seen(torch, lambda v: torch.tensor(v, requires_grad=True))
    assert ours == theirs


def test_post_accumulate_grad_hook_needs_a_leaf():
    w = cr.ones(2, requires_grad=True)
    with pytest.raises(cr.AutogradError, match="only be registered on leaf tensors"):
        (w * 2).register_post_accumulate_grad_hook(lambda p: None)


def test_queued_callback_runs_once_after_backward():
    w = cr.ones(2, requires_grad=True)
    order = []

    def hook(p):
        order.append("hook")
        if len(order) == 1:
            queue_callback(lambda: order.append(("done", p.grad.tolist())))

    w.register_post_accumulate_grad_hook(hook)
    (w * 2).sum().backward()
    assert order == ["hook", ("done", [2.0, 2.0])]
    (w * 2).sum().backward()  # the callback was consumed
    assert order[-1] == "hook"


def test_a_failed_backward_drops_its_callbacks():
    w = cr.ones(2, requires_grad=True)
    ran = []

    def bad(g):
        queue_callback(lambda: ran.append(1))
        raise ValueError("hook failed")

    w.register_hook(bad)
    with pytest.raises(ValueError):
        (w * 2).sum().backward()
    w._hooks.clear()
    (w * 2).sum().backward()
    assert ran == []
