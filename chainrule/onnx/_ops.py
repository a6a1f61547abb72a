"""Each primitive as ONNX operators: ``RULES[name](ctx, call, xs, shapes)``.

``xs`` are the ONNX value names of the call's operands, ``shapes`` their
recorded shapes; a rule returns one name per output of the primitive (None
for an output ONNX has no counterpart for, such as the saved columns of
``conv2d``).  A primitive without a rule cannot be exported, and the
exporter says which.
"""
import numpy as np

from ..ops.index import Slot
from ._record import ExportError

_UNARY = {
    "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "tanh": "Tanh", "sigmoid": "Sigmoid",
    "relu": "Relu", "abs": "Abs", "neg": "Neg", "sin": "Sin", "cos": "Cos",
    "erf": "Erf", "reciprocal": "Reciprocal", "floor": "Floor", "ceil": "Ceil",
    "sign": "Sign", "clone": "Identity", "tan": "Tan", "atan": "Atan",
    "logical_not": "Not", "isnan": "IsNaN", "sinh": "Sinh", "cosh": "Cosh",
    "asin": "Asin", "acos": "Acos", "asinh": "Asinh", "acosh": "Acosh",
    "atanh": "Atanh", "round": "Round", "isinf": "IsInf",
}
_BINARY = {"add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "matmul": "MatMul",
           "maximum": "Max", "minimum": "Min", "pow": "Pow", "lt": "Less",
           "gt": "Greater", "le": "LessOrEqual", "ge": "GreaterOrEqual",
           "eq": "Equal", "logical_and": "And", "logical_or": "Or",
           "logical_xor": "Xor"}

RULES = {}


def rule(*names):
    def deco(fn):
        for n in names:
            RULES[n] = fn
        return fn
    return deco


for _p, _op in _UNARY.items():
    RULES[_p] = (lambda op: lambda ctx, call, xs, shapes: [ctx.node(op, xs[:1])])(_op)
for _p, _op in _BINARY.items():
    RULES[_p] = (lambda op: lambda ctx, call, xs, shapes: [ctx.node(op, xs[:2])])(_op)


@rule("ne")
def _ne(ctx, call, xs, shapes):
    return [ctx.node("Not", [ctx.node("Equal", xs[:2])])]


@rule("rsqrt")
def _rsqrt(ctx, call, xs, shapes):
    return [ctx.node("Reciprocal", [ctx.node("Sqrt", xs[:1])])]


@rule("pow_scalar")
def _pow_scalar(ctx, call, xs, shapes):
    e = ctx.const(np.asarray(call.params["exponent"], dtype=call.metas[0][1]))
    return [ctx.node("Pow", [xs[0], e])]


@rule("linear")
def _linear(ctx, call, xs, shapes):
    wt = ctx.node("Transpose", [xs[1]], perm=[1, 0])
    y = ctx.node("MatMul", [xs[0], wt])
    return [ctx.node("Add", [y, xs[2]]) if len(xs) > 2 else y]


def _reshape_target(in_shape, target, other):
    """Target dims as ONNX Reshape reads them, valid for other sizes of the
    dynamic axes: ``other`` is the same reshape's target recorded with
    different sizes, so a dim that changed between the two is the one to
    infer (-1), and a dim equal to the input's at the same place is copied
    (0) when the reshape is the same in both runs."""
    if other is None:
        return list(target)
    changed = [i for i, (a, b) in enumerate(zip(target, other)) if a != b]
    if len(changed) > 1:
        raise ExportError(f"export: reshape to {list(target)} changes {len(changed)} "
                          "dims with the dynamic axes; ONNX Reshape can infer one")
    out = list(target)
    if changed:
        out[changed[0]] = -1
    return out


@rule("reshape")
def _reshape(ctx, call, xs, shapes):
    target = list(call.params["shape"])
    if ctx.dynamic:
        target = _reshape_target(shapes[0], target, ctx.other_params(call).get("shape"))
    return [ctx.node("Reshape", [xs[0], ctx.const(np.asarray(target, np.int64))])]


@rule("permute")
def _permute(ctx, call, xs, shapes):
    return [ctx.node("Transpose", xs[:1], perm=list(call.params["axes"]))]


def _axes(axis, ndim):
    if axis is None:
        return list(range(ndim))
    axis = axis if isinstance(axis, (tuple, list)) else (axis,)
    return [a % ndim if ndim else 0 for a in axis]


@rule("sum")
def _sum(ctx, call, xs, shapes):
    axes = ctx.const(np.asarray(_axes(call.params["axis"], len(shapes[0])), np.int64))
    return [ctx.node("ReduceSum", [xs[0], axes], keepdims=int(call.params["keepdim"]))]


@rule("amax", "amin")
def _amax(ctx, call, xs, shapes):
    op = "ReduceMax" if call.name == "amax" else "ReduceMin"
    axes = _axes(call.params["axis"], len(shapes[0]))
    keep = int(call.params["keepdim"])
    if ctx.opset >= 18:
        return [ctx.node(op, [xs[0], ctx.const(np.asarray(axes, np.int64))],
                         keepdims=keep)]
    return [ctx.node(op, xs[:1], axes=axes, keepdims=keep)]


@rule("softmax", "log_softmax")
def _softmax(ctx, call, xs, shapes):
    op = "Softmax" if call.name == "softmax" else "LogSoftmax"
    y = ctx.node(op, xs[:1], axis=call.params["dim"])
    if call.params.get("masked"):  # a fully masked row gives zeros, not NaN
        zero = ctx.const(np.zeros((), dtype=call.metas[0][1]))
        y = ctx.node("Where", [ctx.node("IsNaN", [y]), zero, y])
    return [y]


@rule("layer_norm")
def _layer_norm(ctx, call, xs, shapes):
    k, eps = call.params["k"], call.params["eps"]
    args = list(xs)
    if len(args) == 1:
        ones = np.ones(shapes[0][-k:], dtype=call.metas[0][1])
        args += [ctx.const(ones), ctx.const(np.zeros_like(ones))]
    return [ctx.node("LayerNormalization", args, axis=-k, epsilon=float(eps))]


def _geometry(p):
    pt, pb, pl, pr = p["padding"]
    return dict(kernel_shape=list(p["kernel"]), strides=list(p["stride"]),
                dilations=list(p["dilation"]), pads=[pt, pl, pb, pr])


@rule("conv2d")
def _conv2d(ctx, call, xs, shapes):
    return [ctx.node("Conv", xs, **_geometry(call.params)), None]


@rule("max_pool")
def _max_pool(ctx, call, xs, shapes):
    # The second output (flat indices, for the vjp) has no ONNX counterpart.
    return [ctx.node("MaxPool", xs[:1], **_geometry(call.params)), None]


@rule("cat")
def _cat(ctx, call, xs, shapes):
    return [ctx.node("Concat", xs, axis=call.params["axis"])]


@rule("split_copy")
def _split(ctx, call, xs, shapes):
    p = call.params
    sizes = ctx.const(np.asarray(p["sizes"], np.int64))
    outs = ctx.node("Split", [xs[0], sizes], n_out=len(p["sizes"]), axis=p["axis"])
    outs = [outs] if isinstance(outs, str) else outs
    if p["squeeze"]:
        ax = ctx.const(np.asarray([p["axis"]], np.int64))
        outs = [ctx.node("Squeeze", [o, ax]) for o in outs]
    return outs


def _dtype(ref):
    """The dtype of an operand (a recorded value, or a concrete tensor)."""
    return np.dtype(ref.meta[1] if ref.meta is not None else ref.tensor._data.dtype)


@rule("index_in_range")
def _index_in_range(ctx, call, xs, shapes):
    """The indices themselves: the range check has no ONNX operator, and
    ONNX's Gather rejects out-of-range indices on its own."""
    return [xs[0]]


@rule("getitem")
def _getitem(ctx, call, xs, shapes):
    """Basic and single-array indexing: Slice, Gather, Unsqueeze in turn."""
    index = call.params["index"]
    index = index if isinstance(index, tuple) else (index,)
    cur = list(shapes[0])
    used = sum(1 for i in index if i is not None and i is not Ellipsis)
    y, ax, arrays = xs[0], 0, 0

    def c(v):
        return ctx.const(np.asarray(v, np.int64))

    for i in index:
        if i is Ellipsis:
            ax += len(shapes[0]) - used
        elif i is None:
            y = ctx.node("Unsqueeze", [y, c([ax])])
            cur.insert(ax, 1)
            ax += 1
        elif isinstance(i, slice):
            if i != slice(None):
                start, stop, step = i.indices(cur[ax])
                if step < 0 and stop < 0:
                    stop = -(2 ** 62)  # through the first element
                y = ctx.node("Slice", [y, c([start]), c([stop]), c([ax]), c([step])])
                cur[ax] = len(range(*i.indices(cur[ax])))
            ax += 1
        elif isinstance(i, (int, np.integer)):
            y = ctx.node("Gather", [y, c(int(i))], axis=ax)
            del cur[ax]
        elif (type(i) is Slot and arrays == 0
              and _dtype(call.inputs[1 + i.k]).kind in "iu"):
            arrays = 1  # an index Tensor: an operand of the call
            name = xs[1 + i.k]
            if _dtype(call.inputs[1 + i.k]) != np.int64:
                name = ctx.node("Cast", [name], to=7)  # 7: INT64
            y = ctx.node("Gather", [y, name], axis=ax)
            cur[ax:ax + 1] = list(shapes[1 + i.k])
            ax += len(shapes[1 + i.k])
        elif isinstance(i, np.ndarray) and i.dtype.kind in "iu" and arrays == 0:
            arrays = 1
            # An index array that is an input's data stays an input.
            y = ctx.node("Gather", [y, ctx.input_array(i) or c(i)], axis=ax)
            cur[ax:ax + 1] = list(i.shape)
            ax += i.ndim
        else:
            raise ExportError("export: getitem with several index arrays or a "
                              "boolean mask has no ONNX mapping here")
    return [y]


@rule("to_dtype")
def _to_dtype(ctx, call, xs, shapes):
    from onnx import helper

    return [ctx.node("Cast", xs[:1],
                     to=helper.np_dtype_to_tensor_dtype(np.dtype(call.params["dtype"])))]


@rule("where")
def _where(ctx, call, xs, shapes):
    return [ctx.node("Where", xs[:3])]


@rule("lstm_seq")
def _lstm_seq(ctx, call, xs, shapes):
    """ONNX LSTM over the precomputed input projections ``xg`` (T, N, 4H).

    ONNX orders gates i, o, f, c where chainrule (as PyTorch) has i, f, g, o,
    so W is a permutation matrix (X W^T reorders xg) and R is ``whh`` with
    its rows in ONNX's order; B is zero (the biases are already in xg)."""
    xg, whh, h0, c0 = xs
    dtype = call.metas[0][1]
    h = shapes[1][1]
    perm = np.concatenate([np.arange(0, h), np.arange(3 * h, 4 * h),
                           np.arange(h, 2 * h), np.arange(2 * h, 3 * h)])
    w = np.eye(4 * h, dtype=dtype)[perm][None]
    r = ctx.node("Unsqueeze", [ctx.node("Gather", [whh, ctx.const(perm.astype(
        np.int64))], axis=0), ctx.const(np.asarray([0], np.int64))])
    b = ctx.const(np.zeros((1, 8 * h), dtype=dtype))
    zero = ctx.const(np.asarray([0], np.int64))
    h0 = ctx.node("Unsqueeze", [h0, zero])
    c0 = ctx.node("Unsqueeze", [c0, zero])
    y, yh, yc = ctx.node("LSTM", [xg, ctx.const(w), r, b, "", h0, c0], n_out=3,
                         hidden_size=h,
                         direction="reverse" if call.params["reverse"] else "forward")
    one = ctx.const(np.asarray([1], np.int64))
    return [ctx.node("Squeeze", [y, one]), ctx.node("Squeeze", [yh, zero]),
            ctx.node("Squeeze", [yc, zero]), None, None]


def _scalar_like(ctx, call, v):
    return ctx.const(np.asarray(v, dtype=call.metas[0][1]))


@rule("exp2")
def _exp2(ctx, call, xs, shapes):
    return [ctx.node("Pow", [_scalar_like(ctx, call, 2.0), xs[0]])]


@rule("expm1")
def _expm1(ctx, call, xs, shapes):
    return [ctx.node("Sub", [ctx.node("Exp", xs[:1]), _scalar_like(ctx, call, 1.0)])]


@rule("log1p")
def _log1p(ctx, call, xs, shapes):
    return [ctx.node("Log", [ctx.node("Add", [xs[0], _scalar_like(ctx, call, 1.0)])])]


@rule("log2", "log10")
def _log_base(ctx, call, xs, shapes):
    base = np.log(2.0) if call.name == "log2" else np.log(10.0)
    return [ctx.node("Div", [ctx.node("Log", xs[:1]), _scalar_like(ctx, call, base)])]


@rule("tril", "triu")
def _trilu(ctx, call, xs, shapes):
    k = ctx.const(np.asarray(call.params["k"], np.int64))
    return [ctx.node("Trilu", [xs[0], k], upper=int(call.name == "triu"))]


@rule("flip")
def _flip(ctx, call, xs, shapes):
    y = xs[0]

    def c(v):
        return ctx.const(np.asarray([v], np.int64))

    for ax in call.params["axes"]:
        y = ctx.node("Slice", [y, c(-1), c(-(2 ** 62)), c(ax), c(-1)])
    return [y]


@rule("gather")
def _gather(ctx, call, xs, shapes):
    return [ctx.node("GatherElements", xs[:2], axis=call.params["dim"])]
