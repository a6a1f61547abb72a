"""The reverse-mode interpreter: walk the tape backwards, calling vjp rules.

The walk is iterative (no recursion, so a chain of 100,000 ops is fine) and
visits nodes in topological order, so each node runs once, after every
consumer of its outputs has contributed its gradient.  Gradients are summed
down to each input's shape here, once, so no vjp rule handles broadcasting.
"""
import numpy as np

from ..errors import AutogradError, ShapeError, fmt_shape
from .._tape import Node as _Node
from .._tape import _state


def _topo_order(roots):
    """Nodes reachable from ``roots``, each before every node it feeds into,
    and ``{id(leaf): number of edges into it}`` for the leaves they reach."""
    order, seen, leaves = [], set(), {}
    for root in roots:
        if root is None or root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.edges))]
        while stack:
            node, it = stack[-1]
            for e in it:
                if e is not None:
                    nxt = e[0]
                    if nxt.__class__ is not _Node:
                        leaves[id(nxt)] = leaves.get(id(nxt), 0) + 1
                        continue
                    if nxt in seen:
                        continue
                    seen.add(nxt)
                    stack.append((nxt, iter(nxt.edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order, leaves


def _sum_to(g, shape, dtype):
    """Reduce a gradient over broadcast dims to ``shape``; cast to ``dtype``."""
    from .. import ops

    if g._data.shape != shape:
        g = ops.sum_to(g, shape)
    if g._data.dtype != dtype:
        g = ops.to_dtype(g, dtype)
    return g


def _accumulate_leaf(t, g, create_graph, fresh):
    """Add ``g`` into leaf ``t.grad``; take ownership of ``g`` when safe."""
    if t._hooks:
        for hook in t._hooks:
            new = hook(g)
            if new is not None:
                g = new
    from ..tensor import Tensor

    if t.grad is None:
        if create_graph:
            t.grad = g
        else:
            arr = g._data
            # Store without copying only if nobody else can see this buffer
            # (the copy is a primitive call, like every computation on data).
            if arr.base is not None or id(arr) in fresh or not arr.flags.writeable:
                from .. import ops

                arr = ops.clone(g)._data
            fresh.add(id(arr))
            t.grad = Tensor._make(arr)
    elif create_graph or t.grad._rg:
        t.grad = t.grad + g
    else:
        from .. import ops

        t.grad = ops.add(t.grad, g)
    if t._post_hooks:
        for hook in tuple(t._post_hooks):
            hook(t)


def run_backward(roots, grads, retain_graph=False, create_graph=False,
                 capture=None, accumulate=True):
    """Backpropagate ``grads`` from Tensors ``roots``.

    With ``capture`` (a list of Tensors) returns their gradients instead of
    (``accumulate=False``) or besides accumulating into leaves' ``.grad``.
    """
    from .. import ops

    global _depth
    prev = _state.grad
    _state.grad = bool(create_graph)
    _depth += 1
    done = ()
    try:
        res = _run(roots, grads, retain_graph, create_graph, capture, accumulate, ops)
    finally:
        _state.grad = prev
        _depth -= 1
        if not _depth:  # a failed pass drops its callbacks with it
            done = tuple(_callbacks)
            _callbacks.clear()
    for callback in done:
        callback()
    return res


_callbacks = []  # run when the outermost backward pass completes
_depth = 0


def queue_callback(callback):
    """Run ``callback()`` once the backward pass now running has finished (as
    PyTorch's ``Variable._execution_engine.queue_callback``); distributed
    training uses it to wait for the gradients' all-reduce."""
    _callbacks.append(callback)


def _run(roots, grads, retain_graph, create_graph, capture, accumulate, ops):
    cap_leaf, cap_node, captured = {}, {}, None
    if capture is not None:
        captured = [None] * len(capture)
        for i, t in enumerate(capture):
            if t.grad_fn is None:
                cap_leaf.setdefault(id(t), []).append(i)
            else:
                cap_node.setdefault((t.grad_fn, t._oi), []).append(i)

    order, pending = _topo_order([r.grad_fn for r in roots])
    needed = None
    if capture is not None and not accumulate:
        needed = _needed(order, cap_leaf, {node for node, _ in cap_node})

    buffers = {}
    fresh = set()
    # A leaf reached by several edges gets the sum of their gradients, added
    # into .grad (and shown to its hooks) once, when the last one arrives, as
    # PyTorch's AccumulateGrad does; a leaf whose remaining edges carry no
    # gradient is accumulated at the end of the pass.
    leaf_sums = {}

    def send(edge, g):
        target, oi = edge
        if target.__class__ is not _Node:
            if id(target) in cap_leaf:
                for i in cap_leaf[id(target)]:
                    captured[i] = g if captured[i] is None else captured[i] + g
            if accumulate:
                key = id(target)
                part = leaf_sums.pop(key, None)
                if part is not None:
                    g = ops.add(part[1], g)
                left = pending.get(key, 0) - 1
                if left > 0:
                    pending[key] = left
                    leaf_sums[key] = (target, g)
                else:
                    pending.pop(key, None)
                    _accumulate_leaf(target, g, create_graph, fresh)
            return
        buf = buffers.get(target)
        if buf is None:
            n_out = len(target.out_metas) if target.out_metas else 1
            buf = buffers[target] = [None] * n_out
        buf[oi] = g if buf[oi] is None else ops.add(buf[oi], g)

    for r, g in zip(roots, grads):
        if r.grad_fn is None:
            send((r, 0), g)
        else:
            send((r.grad_fn, r._oi), g)

    for node in order:
        buf = buffers.pop(node, None)
        if buf is None:
            continue
        if node.hooks:
            for oi, hooks in node.hooks.items():
                if buf[oi] is not None:
                    for hook in hooks:
                        new = hook(buf[oi])
                        if new is not None:
                            buf[oi] = new
        if cap_node:
            for oi, g in enumerate(buf):
                for i in cap_node.get((node, oi), ()):
                    captured[i] = g
        if needed is not None and node not in needed:
            continue
        node.check()
        if node.out_metas is None:
            gin = node.prim.vjp(node, buf[0])
        else:
            n_grad = len(buf) - node.prim.residuals
            gs = tuple(
                g if g is not None or i >= n_grad else ops.zeros(shape, dtype=dtype)
                for i, (g, (shape, dtype)) in enumerate(zip(buf, node.out_metas))
            )
            gin = node.prim.vjp(node, gs)
        if _state.anomaly:
            from .anomaly import check_backward

            check_backward(node, gin)
        for edge, g, meta in zip(node.edges, gin, node.metas):
            if edge is None or g is None:
                continue
            if needed is not None:
                tgt = edge[0]
                if tgt.__class__ is _Node:
                    if tgt not in needed and (tgt, edge[1]) not in cap_node:
                        continue
                elif id(tgt) not in cap_leaf:
                    continue
            shape, dtype = meta
            if g._data.shape != shape or g._data.dtype != dtype:
                g = _sum_to(g, shape, dtype)
            send(edge, g)
        if not retain_graph:
            node.release()
    for target, g in leaf_sums.values():
        _accumulate_leaf(target, g, create_graph, fresh)
    return captured


def _needed(order, cap_leaf, cap_nodes):
    """Nodes whose vjp must run to reach a captured tensor (children first)."""
    needed = set()
    for node in reversed(order):
        for e in node.edges:
            if e is None:
                continue
            tgt = e[0]
            if (id(tgt) in cap_leaf) if tgt.__class__ is not _Node else (
                    tgt in needed or tgt in cap_nodes):
                needed.add(node)
                break
    return needed


def _check_grad(root, g, op):
    from ..tensor import Tensor

    if g is None:
        if root._data.size != 1:
            raise AutogradError(
                f"{op}: grad can be implicitly created only for scalar outputs; "
                f"this output has shape {fmt_shape(root.shape)}. Pass a gradient "
                "of the same shape (e.g. out.backward(chainrule.ones_like(out)))."
            )
        return Tensor._make(np.ones(root._data.shape, root._data.dtype))
    if not isinstance(g, Tensor):
        from .. import ops

        g = ops.as_tensor(g, dtype=root.dtype)
    if g._data.shape != root._data.shape:
        raise ShapeError(
            f"{op}: mismatch in shape: grad_output has shape {fmt_shape(g.shape)} "
            f"and output has shape {fmt_shape(root.shape)}"
        )
    return g


def _check_root(t, op):
    if not t._rg:
        raise AutogradError(
            f"{op}: element 0 of tensors does not require grad and does not have a "
            "grad_fn; call requires_grad_() on an input, and check that the "
            "computation did not run under no_grad()"
        )


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: accumulate gradients into the leaves' ``.grad``."""
    _check_root(tensor, "backward")
    g = _check_grad(tensor, gradient, "backward")
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        inputs = [inputs] if not isinstance(inputs, (list, tuple)) else list(inputs)
        grads = run_backward([tensor], [g], retain_graph, create_graph, inputs, False)
        for t, gi in zip(inputs, grads):
            if gi is not None:
                _accumulate_leaf(t, gi, create_graph, set())
        return
    run_backward([tensor], [g], retain_graph, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=None, materialize_grads=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple.

    Nothing is accumulated into ``.grad``.  An input the outputs do not depend
    on is an error unless ``allow_unused`` (then its gradient is None, or zeros
    with ``materialize_grads``).
    """
    from ..tensor import Tensor

    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs_t = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if len(grad_outputs) != len(outputs):
        raise AutogradError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; "
            "pass one per output"
        )
    for t in inputs_t:
        if not t._rg:
            raise AutogradError(
                "grad: one of the differentiated Tensors does not require grad "
                f"(shape {fmt_shape(t.shape)})"
            )
    roots, gs = [], []
    for o, g in zip(outputs, grad_outputs):
        _check_root(o, "grad")
        roots.append(o)
        gs.append(_check_grad(o, g, "grad"))
    if retain_graph is None:
        retain_graph = create_graph
    res = run_backward(roots, gs, retain_graph, create_graph, inputs_t, False)
    out = []
    from .. import ops

    for t, g in zip(inputs_t, res):
        if g is None:
            if materialize_grads:
                g = ops.zeros_like(t)
            elif not allow_unused:
                raise AutogradError(
                    "grad: one of the differentiated Tensors appears to not have "
                    f"been used in the graph (shape {fmt_shape(t.shape)}); set "
                    "allow_unused=True if this is the desired behavior"
                )
        elif not create_graph and g._rg:
            g = g.detach()
        out.append(g)
    return tuple(out)

