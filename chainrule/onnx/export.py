"""``chainrule.onnx.export``: a model as an ONNX file, with PyTorch's API.

The model runs once on ``args`` (in eval mode) while its primitive calls are
recorded (see ``_record``); each call becomes ONNX operators by the rules in
``_ops``; parameters and buffers become initializers under their
``state_dict`` names, other constants ``const_k``.  ``dynamic_axes`` marks
input and output dims that may change (``{"x": {0: "batch"}}``); reshapes
then copy or infer their sizes rather than fixing them.
"""
import numpy as np

from ..tensor import Tensor
from ._ops import RULES
from ._record import ExportError, record


def _onnx():
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ImportError("chainrule.onnx.export needs the onnx package: pip install "
                          "'chainrule[onnx]'") from None
    return onnx, helper


class _Ctx:
    """Builds the ONNX graph: nodes, initializers, fresh names."""

    def __init__(self, helper, opset, dynamic):
        self.helper, self.opset, self.dynamic = helper, opset, dynamic
        self.nodes, self.inits, self.n = [], [], 0
        self.arrays = []  # (ndarray, name) of integer inputs
        self.other = {}  # id(call) -> (inputs, params) in the run with other sizes
        self.dyn_dims = []  # (input name, axis) of each dynamic input axis

    def other_params(self, call):
        return self.other.get(id(call), (None, {}))[1]

    def grown_const(self, call, i, t):
        """A constant whose shape follows a dynamic axis (zero initial states
        made inside forward): ConstantOfShape with that dim read at run time.
        None when its shape does not change with the dynamic axes."""
        other = self.other.get(id(call))
        if other is None:
            return None
        t2 = other[0][i].tensor
        if t2 is None or tuple(t2.shape) == tuple(t.shape):
            return None
        flat = t.detach().numpy().reshape(-1)
        if len(self.dyn_dims) != 1 or not flat.size or (flat != flat[0]).any():
            raise ExportError(
                f"export: operand {i} of {call.name} is a constant whose shape "
                f"follows the dynamic axes ({list(t.shape)} vs {list(t2.shape)}) and "
                "that is not filled with one value; it cannot be exported "
                "with dynamic_axes")
        (src, axis), = self.dyn_dims
        dims = []
        for a, b in zip(t.shape, t2.shape):
            if a == b:
                dims.append(self.const(np.asarray([a], np.int64)))
            else:
                dims.append(self.node("Gather", [self.node("Shape", [src]),
                                                 self.const(np.asarray([axis],
                                                                       np.int64))]))
        shape = self.node("Concat", dims, axis=0) if dims else \
            self.const(np.zeros(0, np.int64))
        return self.node("ConstantOfShape", [shape],
                         value=self.helper.make_tensor(
                             "value", self.helper.np_dtype_to_tensor_dtype(flat.dtype),
                             [1], [flat[0].item()]))

    def input_array(self, arr):
        for a, name in self.arrays:
            if a is arr or (a.shape == arr.shape and np.shares_memory(a, arr)):
                if a.dtype == np.int64:
                    return name
                return self.node("Cast", [name], to=7)  # 7: INT64
        return None

    def fresh(self, base):
        self.n += 1
        return f"{base}_{self.n}"

    def node(self, op, inputs, n_out=1, **attrs):
        outs = [self.fresh(op) for _ in range(n_out)]
        self.nodes.append(self.helper.make_node(op, list(inputs), outs,
                                                name=self.fresh("n_" + op), **attrs))
        return outs[0] if n_out == 1 else outs

    def const(self, array, name=None):
        array = np.asarray(array)
        name = name or self.fresh("const")
        self.inits.append(self.helper.make_tensor(
            name, self.helper.np_dtype_to_tensor_dtype(array.dtype), array.shape,
            array.reshape(-1).tolist()))
        return name


def _dims(shape, axes):
    return [axes.get(i, s) if axes else s for i, s in enumerate(shape)]


def _axes_spec(spec, name):
    if spec is None:
        return {}
    if isinstance(spec, dict):
        return {int(k): str(v) for k, v in spec.items()}
    return {int(k): f"{name}_dim{k}" for k in spec}


def export(model, args, f, export_params=True, verbose=False, training=None,
           input_names=None, output_names=None, opset_version=17,
           do_constant_folding=True, dynamic_axes=None, **kwargs):
    """Write ``model`` as ONNX to ``f`` (a path or binary file); returns the
    ``onnx.ModelProto``.  ``args``: a Tensor or tuple of positional inputs.

    Raises :class:`ExportError` naming the primitive when a call has no ONNX
    mapping.  The file passes ``onnx.checker.check_model``.
    """
    onnx, helper = _onnx()
    if opset_version < 17:
        raise ExportError(f"export: opset_version {opset_version} is too old; "
                          "chainrule exports LayerNormalization, which needs 17+")
    args = args if isinstance(args, tuple) else (args,)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        rec = record(model, args)
    finally:
        if was_training:
            model.train()
    tensors = [a for a in rec.args if isinstance(a, Tensor)]
    dyn_in = {}
    input_names = list(input_names or [f"input_{i}" for i in range(len(tensors))])
    if len(input_names) != len(tensors):
        raise ExportError(f"export: {len(input_names)} input_names for "
                          f"{len(tensors)} tensor inputs")
    output_names = list(output_names or [f"output_{i}"
                                         for i in range(len(rec.outputs))])
    if len(output_names) != len(rec.outputs):
        raise ExportError(f"export: {len(output_names)} output_names for "
                          f"{len(rec.outputs)} outputs")
    dynamic_axes = dynamic_axes or {}
    ctx = _Ctx(helper, opset_version, bool(dynamic_axes))
    for k, n in enumerate(input_names):
        dyn_in[k] = _axes_spec(dynamic_axes.get(n), n)
        ctx.dyn_dims += [(n, ax) for ax in sorted(dyn_in[k])]
    if any(dyn_in.values()):
        _second_run(model, args, dyn_in, rec, ctx)
    names = {}  # id(tensor) or recorded key -> ONNX name
    shapes = {}
    for t, n in zip(tensors, input_names):
        names[id(t)] = n
        if not t.is_floating_point():
            ctx.arrays.append((t._data, n))
    state = {}
    if hasattr(model, "state_dict"):
        state = {id(t): k for k, t in model.state_dict(keep_vars=True).items()}

    def operand(call, i, ref):
        if ref.key is not None:
            if ref.key not in names or names[ref.key] is None:
                raise ExportError(f"export: {call.name} reads an output that has no "
                                  "ONNX counterpart")
            return names[ref.key], shapes[ref.key]
        t = ref.tensor
        if t is None:
            shape = list(ref.meta[0]) if ref.meta else "?"
            raise ExportError(
                f"export: operand {i} of {call.name} is a constant (shape {shape}) "
                "that the recorded tape did not keep; this export needs the "
                "dispatcher's interpreter stack (chainrule._tape.Interpreter)")
        if id(t) not in names:
            grown = ctx.grown_const(call, i, t) if id(t) not in state else None
            if grown is not None:
                return grown, tuple(t.shape)
            arr = t.detach().numpy()
            names[id(t)] = ctx.const(arr, name=state.get(id(t)))
        return names[id(t)], tuple(t.shape)

    # Only calls the outputs depend on: the model may also compute checks
    # (index range tests) whose results never reach an output.
    needed, live = set(rec.outputs), []
    for call in reversed(rec.calls):
        if any(k in needed for k in call.outs):
            live.append(call)
            needed.update(r.key for r in call.inputs if r.key is not None)
    for call in reversed(live):
        fn = RULES.get(call.name)
        if fn is None:
            raise ExportError(f"export: primitive {call.name!r} has no ONNX mapping; "
                              "the exportable primitives are " +
                              ", ".join(sorted(RULES)))
        pairs = [operand(call, i, r) for i, r in enumerate(call.inputs)]
        outs = fn(ctx, call, [p[0] for p in pairs], [p[1] for p in pairs])
        for k, (key, meta) in enumerate(zip(call.outs, call.metas)):
            names[key] = outs[k] if k < len(outs) else None
            shapes[key] = meta[0]
    # Graph outputs: rename the last producer's value by an Identity node.
    outputs, out_infos = [], []
    for key, name in zip(rec.outputs, output_names):
        src = names.get(key)
        if src is None:
            raise ExportError("export: an output has no ONNX counterpart")
        ctx.nodes.append(helper.make_node("Identity", [src], [name],
                                          name=ctx.fresh("n_out")))
        meta = next(m for c in rec.calls for k, m in zip(c.outs, c.metas) if k == key)
        dt = helper.np_dtype_to_tensor_dtype(np.dtype(meta[1]))
        out_infos.append(helper.make_tensor_value_info(
            name, dt, _dims(meta[0], _axes_spec(dynamic_axes.get(name), name))))
        outputs.append(name)
    in_infos = [helper.make_tensor_value_info(
        n, helper.np_dtype_to_tensor_dtype(t._data.dtype),
        _dims(t.shape, _axes_spec(dynamic_axes.get(n), n)))
        for t, n in zip(tensors, input_names)]
    graph = helper.make_graph(ctx.nodes, type(model).__name__, in_infos, out_infos,
                              initializer=ctx.inits)
    proto = helper.make_model(graph, producer_name="chainrule",
                              opset_imports=[helper.make_opsetid("", opset_version)])
    proto.ir_version = min(proto.ir_version, 9)  # readable by older runtimes
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(graph))
    if hasattr(f, "write"):
        f.write(proto.SerializeToString())
    else:
        onnx.save(proto, str(f))
    return proto


def _grown(a, axes):
    """``a`` one longer along each of ``axes`` (its last slice repeated)."""
    from .. import ops

    for ax in axes:
        last = ops.narrow(a, ax, a.shape[ax] - 1, 1)
        a = ops.cat([a, last], dim=ax)
    return a


def _second_run(model, args, dyn_in, rec, ctx):
    """Record again with every dynamic input axis one longer, to see which
    recorded shapes follow those axes."""
    from ._record import record

    args2, k = [], 0
    for a in args:
        if isinstance(a, Tensor):
            a = _grown(a, sorted(dyn_in.get(k, {})))
            k += 1
        args2.append(a)
    args2 = tuple(args2)
    was_training = getattr(model, "training", False)
    model.eval()
    try:
        rec2 = record(model, args2)
    finally:
        if was_training:
            model.train()
    if [c.name for c in rec.calls] != [c.name for c in rec2.calls]:
        raise ExportError("export: the model runs different primitives for other "
                          "sizes of the dynamic axes; export it without dynamic_axes")
    for c1, c2 in zip(rec.calls, rec2.calls):
        ctx.other[id(c1)] = (c2.inputs, c2.params)
    ctx._keep_second = rec2
