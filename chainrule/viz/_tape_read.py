"""Reading a recorded tape back: evaluation order, shapes and values of nodes.

The tape (``t.grad_fn`` and its ``edges``) records every differentiable
primitive call: its primitive, params and each input's shape and dtype
(``metas``).  A node keeps only the values its vjp needs, so an intermediate
value is recovered from wherever it survives: a consumer that saved it as an
input, the node's own saved output, or by replaying the primitive on its
recovered inputs.  A value none of these reach is reported as None.
"""
from ..autograd import grad_mode
from ..autograd.engine import _topo_order
from ..autograd.node import Node
from ..tensor import Tensor


def is_node(obj):
    return obj.__class__ is Node


def evaluation_order(roots):
    """Nodes reachable from Tensors ``roots``, producers before consumers."""
    order = _topo_order([r.grad_fn for r in roots if r.grad_fn is not None])
    if isinstance(order, tuple):  # (order, leaf edge counts)
        order = order[0]
    return list(reversed(order))


class Tape:
    """The nodes behind ``roots`` with their output shapes and values."""

    def __init__(self, roots):
        self.roots = list(roots)
        self.order = evaluation_order(self.roots)
        self.out_shapes, self.out_dtypes = {}, {}
        self.consumers = {}  # (id(obj), oi) -> [(node, input index)]
        for node in self.order:
            for i, (e, meta) in enumerate(zip(node.edges, node.metas)):
                if e is not None:
                    key = (id(e[0]), e[1])
                    self.out_shapes.setdefault(key, tuple(meta[0]))
                    self.out_dtypes.setdefault(key, meta[1])
                    self.consumers.setdefault(key, []).append((node, i))
        for r in self.roots:
            if r.grad_fn is not None:
                self.out_shapes[(id(r.grad_fn), r._oi)] = tuple(r.shape)
                self.out_dtypes[(id(r.grad_fn), r._oi)] = r._data.dtype
        self.values = {}

    def n_out(self, node):
        return 1 if node.out_metas is None else len(node.out_metas)

    def out_shape(self, node, oi=0):
        if node.out_metas is not None:
            return tuple(node.out_metas[oi][0])
        return self.out_shapes.get((id(node), oi))

    def out_dtype(self, node, oi=0):
        if node.out_metas is not None:
            return node.out_metas[oi][1]
        return self.out_dtypes.get((id(node), oi))

    def value(self, obj, oi=0):
        """The value of output ``oi`` of a node (or of a leaf Tensor), or None."""
        key = (id(obj), oi)
        if key in self.values:
            return self.values[key]
        v = None
        if not is_node(obj):
            v = obj.detach()
        elif obj.out_data is not None:
            d = obj.out_data if obj.out_metas is None else obj.out_data[oi]
            v = Tensor._make(d)
        else:
            for node, i in self.consumers.get(key, ()):
                if node.inputs[i] is not None:
                    v = node.inputs[i].detach()
                    break
            else:
                args = [self.input_value(obj, i) for i in range(len(obj.edges))]
                if all(a is not None for a in args):
                    with grad_mode.no_grad():
                        out = obj.prim(*args, **obj.params)
                    v = out if obj.out_metas is None else out[oi]
        self.values[key] = v
        return v

    def input_value(self, node, i):
        """The value input ``i`` of ``node`` had, or None."""
        if node.inputs[i] is not None:
            return node.inputs[i].detach()
        e = node.edges[i]
        return None if e is None else self.value(*e)
