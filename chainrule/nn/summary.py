"""``summary(model, input_shape)``: a Keras-like table of a model's layers.

A zero input of ``input_shape`` (batch dim included) is run through the
model in eval mode without gradients; forward hooks on the leaf modules
record each one's output shape, in call order.  Parameter counts come from
the modules themselves, totals from ``model.parameters()`` (shared
parameters counted once).  The model's train/eval mode is restored after.
"""
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError
from ..ops import zeros
from ..tensor import Tensor


class ModelSummary:
    """The result of :func:`summary`: ``str()`` is the table; the counts are
    attributes (``total_params``, ``trainable_params``, ``rows``)."""

    def __init__(self, rows, total, trainable, input_shapes):
        self.rows = rows  # (name, type name, output shape text, own params)
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable
        self.input_shapes = input_shapes

    def __str__(self):
        head = ("Layer (type)", "Output Shape", "Param #")
        body = [(f"{n} ({t})" if n else t, s, f"{p:,}") for n, t, s, p in self.rows]
        w = [max(len(r[i]) for r in [head] + body) + 2 for i in range(3)]
        width = sum(w)

        def line(r):
            return r[0].ljust(w[0]) + r[1].ljust(w[1]) + r[2].rjust(w[2])

        out = ["=" * width, line(head), "=" * width]
        out += [line(r) for r in body]
        out += ["=" * width,
                f"Total params: {self.total_params:,}",
                f"Trainable params: {self.trainable_params:,}",
                f"Non-trainable params: {self.non_trainable_params:,}",
                "=" * width]
        return "\n".join(out)

    def __repr__(self):
        return (f"ModelSummary(layers={len(self.rows)}, total_params="
                f"{self.total_params}, trainable_params={self.trainable_params})")


def _shape_text(out):
    if isinstance(out, Tensor):
        return "[" + ", ".join(str(s) for s in out.shape) + "]"
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_text(o) for o in out) + "]" if len(out) > 1 \
            else _shape_text(out[0]) if out else "[]"
    if isinstance(out, dict):
        return "{" + ", ".join(f"{k}: {_shape_text(v)}" for k, v in out.items()) + "}"
    return "-" if out is None else type(out).__name__


def _inputs(input_shape, dtypes):
    if input_shape is None:
        raise ArgumentError("summary: give input_shape (batch dim included), e.g. "
                            "summary(model, (1, 3, 32, 32)), or input_data")
    many = len(input_shape) > 0 and all(isinstance(s, (tuple, list))
                                        for s in input_shape)
    shapes = [tuple(s) for s in input_shape] if many else [tuple(input_shape)]
    if dtypes is None:
        dtypes = [None] * len(shapes)
    elif not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(shapes)
    return [zeros(s, dtype=d) for s, d in zip(shapes, dtypes)]


def summary(model, input_shape=None, *, input_data=None, dtypes=None, print_fn=print):
    """Print and return a :class:`ModelSummary` of ``model``.

    ``input_shape``: the input's shape with the batch dim, e.g. ``(1, 784)``,
    or a list of shapes for a model taking several inputs.  ``dtypes``: their
    dtype(s) (default float; pass ``chainrule.int64`` for token ids).
    ``input_data``: a tensor or tuple of tensors to use instead.  Pass
    ``print_fn=None`` to only return the summary.
    """
    if input_data is not None:
        inputs = list(input_data) if isinstance(input_data, (tuple, list)) \
            else [input_data]
    else:
        inputs = _inputs(input_shape, dtypes)
    names = {id(m): n for n, m in model.named_modules()}
    rows, handles = [], []

    def record(module, args, out):
        own = sum(p.numel() for p in module.parameters(recurse=False))
        rows.append((names.get(id(module), ""), type(module).__name__,
                     _shape_text(out), own))

    for m in model.modules():
        leaf = not any(True for _ in m.children())
        if leaf or any(True for _ in m.parameters(recurse=False)):
            handles.append(m.register_forward_hook(record))
    modes = [(m, m.training) for m in model.modules()]
    try:
        model.eval()
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.__dict__["training"] = mode
    params = list(model.parameters())
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    result = ModelSummary(rows, total, trainable, [tuple(x.shape) for x in inputs])
    if print_fn is not None:
        print_fn(str(result))
    return result
