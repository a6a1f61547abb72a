"""The graph is freed promptly: no reference cycles, no growth over steps."""
import gc
import tracemalloc
import weakref

import chainrule as cr


def _intermediate_ref(x, do_backward):
    h = x * 2
    out = h.sin().sum()  # sin saves its input h
    ref = weakref.ref(h)
    del h
    if do_backward:
        out.backward()
    return out, ref


def test_backward_frees_saved_intermediates_without_gc():
    gc.disable()
    try:
        x = cr.randn(10, requires_grad=True)
        out, ref = _intermediate_ref(x, True)
        assert ref() is None  # released by refcounting alone: no cycles
        assert out.grad_fn is not None
    finally:
        gc.enable()


def test_dropping_the_output_frees_the_graph_without_gc():
    gc.disable()
    try:
        x = cr.randn(10, requires_grad=True)
        out, ref = _intermediate_ref(x, False)
        assert ref() is not None  # retained for a backward that may come
        node_ref = weakref.ref(out.grad_fn)
        del out
        assert ref() is None and node_ref() is None
    finally:
        gc.enable()


def test_retain_graph_keeps_saved_values():
    x = cr.randn(10, requires_grad=True)
    h = x * 2
    out = h.sin().sum()  # sin saves its input h
    ref = weakref.ref(h)
    del h
    out.backward(retain_graph=True)
    assert ref() is not None


def test_training_loop_memory_does_not_grow():
    cr.manual_seed(0)
    x = cr.randn(32, 8)
    y = cr.randn(32, 1)
    w1 = (cr.randn(8, 16) * 0.3).requires_grad_()
    w2 = (cr.randn(16, 1) * 0.3).requires_grad_()

    def step():
        loss = (((x @ w1).tanh() @ w2 - y) ** 2).mean()
        w1.grad = w2.grad = None
        loss.backward()
        with cr.no_grad():
            w1.sub_(0.01 * w1.grad)
            w2.sub_(0.01 * w2.grad)
        return loss.item()

    total = 0.0
    for _ in range(100):
        total += step()
    tracemalloc.start()
    gc.collect()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(1000):
        total += step()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024, f"grew by {after - before} bytes"
