"""Recording the primitive calls of one forward pass, for export.

A recording is a list of :class:`Call`: the primitive's name and params, its
operands as :class:`Ref` (a value an earlier call produced, or a concrete
Tensor: an input, a parameter, a buffer or a constant) and its outputs'
shapes and dtypes.

Two recorders give the same list.  With the dispatcher's interpreter stack
(``chainrule._tape.Interpreter``), every primitive call is observed as it
runs, operands and all.  Without it, the model runs once with its inputs,
parameters and floating-point buffers requiring grad, and the tape is read
back; a constant operand the tape did not keep (``x + 1`` keeps no copy of
``1``) cannot be recovered then, and the export stops naming it.
"""
from ..autograd import grad_mode
from ..errors import ChainruleError
from ..tensor import Tensor


class ExportError(ChainruleError, RuntimeError):
    """A model that cannot be exported: the message names the primitive."""


class Ref:
    """An operand: ``key`` of a recorded value, or a concrete ``tensor``."""

    __slots__ = ("key", "tensor", "meta")

    def __init__(self, key=None, tensor=None, meta=None):
        self.key, self.tensor, self.meta = key, tensor, meta


class Call:
    __slots__ = ("name", "params", "inputs", "outs", "metas", "residuals")

    def __init__(self, name, params, inputs, outs, metas, residuals):
        self.name, self.params, self.inputs = name, params, inputs
        self.outs, self.metas, self.residuals = outs, metas, residuals


class Recording:
    """``calls``; ``outputs`` (keys of the model's outputs); ``args`` (the
    Tensors the model was called with, so operands can be matched to them)."""

    def __init__(self, calls, outputs, args, keepalive):
        self.calls, self.outputs, self.args = calls, outputs, args
        self._keep = keepalive


def _interpreter_api():
    try:
        from .._tape import Interpreter, interpreting
    except ImportError:
        return None
    return Interpreter, interpreting


def record(model, args):
    """A :class:`Recording` of ``model(*args)`` (outputs flattened)."""
    api = _interpreter_api()
    if api is not None:
        return _record_interpreted(model, args, *api)
    return _record_from_tape(model, args)


def _flat(out):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flat(o)]
    raise ExportError(f"export: the model returned {type(out).__name__}; export "
                      "handles Tensors and (nested) tuples of Tensors")


def _record_interpreted(model, args, Interpreter, interpreting):
    calls, produced, keep = [], set(), []

    class Recorder(Interpreter):
        def observe(self, prim, inputs, params, outs):
            keep.append((inputs, outs))  # ids stay unique while we hold them
            refs = [Ref(key=id(t), meta=(tuple(t.shape), t._data.dtype))
                    if id(t) in produced else Ref(tensor=t) for t in inputs]
            for o in outs:
                produced.add(id(o))
            calls.append(Call(prim.name, params, refs, [id(o) for o in outs],
                              [(tuple(o.shape), o._data.dtype) for o in outs],
                              getattr(prim, "residuals", 0)))

    with grad_mode.no_grad(), interpreting(Recorder()):
        out = model(*args)
    outs = _flat(out)
    missing = [i for i, t in enumerate(outs) if id(t) not in produced]
    if missing:
        raise ExportError(f"export: output {missing[0]} is not computed from the "
                          "inputs by any primitive (it is an input or a constant)")
    return Recording(calls, [id(t) for t in outs], list(args), (keep, outs))


def _record_from_tape(model, args):
    from ..viz._tape_read import Tape, is_node

    switched = []
    tracked = []
    for a in args:
        if isinstance(a, Tensor) and a.is_floating_point():
            a = a.detach().requires_grad_()
        tracked.append(a)
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point() and not t.requires_grad:
            t.requires_grad_(True)
            switched.append(t)
    try:
        with grad_mode.enable_grad():
            out = model(*tracked)
    finally:
        for t in switched:
            t.requires_grad_(False)
    outs = _flat(out)
    tape = Tape(outs)
    calls = []
    for node in tape.order:
        refs = []
        for i, e in enumerate(node.edges):
            if e is None:
                t = node.inputs[i]
                if t is None:
                    t = _solve_constant(tape, node, i)
                refs.append(Ref(tensor=t, meta=node.metas[i]))
            elif is_node(e[0]):
                refs.append(Ref(key=(id(e[0]), e[1])))
            else:
                refs.append(Ref(tensor=e[0]))
        n_out = tape.n_out(node)
        metas = [(tape.out_shape(node, oi), tape.out_dtype(node, oi))
                 for oi in range(n_out)]
        calls.append(Call(node.prim.name, node.params, refs,
                          [(id(node), oi) for oi in range(n_out)], metas,
                          node.prim.residuals))
    keys = []
    for t in outs:
        if t.grad_fn is None:
            raise ExportError("export: an output does not depend on the inputs or "
                              "parameters through a recorded primitive")
        keys.append((id(t.grad_fn), t._oi))
    return Recording(calls, keys, tracked, (outs, tape))


_SOLVE = {  # (primitive, operand index) -> constant from (output, other operand)
    ("add", 0): lambda o, b: o - b, ("add", 1): lambda o, a: o - a,
    ("sub", 0): lambda o, b: o + b, ("sub", 1): lambda o, a: a - o,
    ("mul", 0): lambda o, b: o / b, ("mul", 1): lambda o, a: o / a,
    ("div", 0): lambda o, b: o * b, ("div", 1): lambda o, a: a / o,
}


def _solve_constant(tape, node, i):
    """A one-element constant operand the tape dropped (``x + 1``), solved
    from the operation's recorded output and its other operand, and kept only
    if replaying the operation with it gives the output back exactly."""
    from .. import ops

    shape, dtype = node.metas[i]
    solve = _SOLVE.get((node.prim.name, i))
    n = 1
    for s in shape:
        n *= s
    if solve is None or n != 1:
        return None
    out = tape.value(node, 0)
    other = tape.input_value(node, 1 - i)
    if out is None or other is None:
        return None
    with grad_mode.no_grad():
        cand = solve(out.to(dtype=_f64()), other.to(dtype=_f64())).reshape(-1)
        if cand.numel() == 0:
            return None
        value = ops.tensor(cand[0].item(), dtype=out.dtype).reshape(shape)
        args = (value, other) if i == 0 else (other, value)
        again = node.prim(*args, **node.params)
        if not ops.allclose(again, out, rtol=1e-6, atol=0.0):
            return None
    return value


def _f64():
    from .._dtype import float64

    return float64
