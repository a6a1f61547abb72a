"""The chain rule, walked: ``explain(f, x0)`` shows how a derivative is built.

``f`` runs once on ``x0`` (float64, requiring grad) and the recorded tape is
read back.  Each primitive call that depends on ``x`` is one *component*
(``a = sin x``, ``b = a²``, ``y = log b``); reshapes are not components, since
on flattened values they are the identity.  For each component the walk shows
the set its values lie in (interval arithmetic from ``x`` in R^n), its local
derivative (the Jacobian with respect to each of its inputs, from the
primitive's own vjp rule, evaluated at ``x0``) and that Jacobian's shape.
Then come the two ways of multiplying the local derivatives:

- forward mode, in evaluation order: ``da/dx``, ``db/dx = ∂b/∂a · da/dx``, ...
- reverse mode, last component first: ``dy/db``, ``dy/da = dy/db · ∂b/∂a``, ...

with the multiply-adds each product costs (forward mode carries ``n`` columns,
reverse mode ``m`` rows, which is why backpropagation wins for a scalar
loss).  The result is checked against autodiff (``autograd.grad``) and
central finite differences.

Jacobians are flattened: a component with output shape ``S`` and input shape
``T`` has a ``numel(S) × numel(T)`` Jacobian.  ``Explanation.grad`` has
shape ``y.shape + x.shape`` (for a scalar ``y``: the gradient, ``x``'s shape).
"""
import html

from .. import ops
from .._dtype import float64
from ..autograd import grad_mode
from ..autograd.engine import _topo_order
from ..autograd.node import Node
from ..errors import ArgumentError
from ..tensor import Tensor
from . import _intervals

_ELEMENTWISE = {"sin", "cos", "exp", "log", "tanh", "sigmoid", "sqrt", "relu",
                "neg", "abs", "pow_scalar"}
_EXPR = {
    "sin": "sin {0}", "cos": "cos {0}", "exp": "exp {0}", "log": "log {0}",
    "tanh": "tanh {0}", "sigmoid": "σ({0})", "sqrt": "√{0}", "relu": "relu {0}",
    "neg": "-{0}", "abs": "|{0}|", "add": "{0} + {1}", "sub": "{0} - {1}",
    "mul": "{0}·{1}", "div": "{0}/{1}", "matmul": "{0}{1}", "sum": "Σ {0}",
}
_LOCAL = {
    "sin": "cos {u}", "cos": "-sin {u}", "exp": "exp {u}", "log": "1/{u}",
    "tanh": "1 - tanh² {u}", "sigmoid": "σ({u})(1 - σ({u}))", "sqrt": "1/(2√{u})",
    "relu": "[{u} > 0]", "neg": "-1", "abs": "sign {u}",
}
_SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


class Row:
    """One component of ``f``: ``name = expr``, evaluated at ``x0``.

    ``inputs``: names of the components (or ``x``) it reads.  ``range``: the
    set its values lie in, as text.  ``local``: {input name: Jacobian Tensor of
    shape (numel(out), numel(in))} at ``x0``; ``formula``: the same as text.
    ``value``: its value at ``x0`` (None if the tape kept no way to get it).
    ``forward``: d(name)/dx, shape (numel(out), numel(x)).  ``reverse``:
    dy/d(name), shape (numel(y), numel(out)).
    """

    def __init__(self, name, op, expr, inputs, shape):
        self.name, self.op, self.expr, self.inputs = name, op, expr, inputs
        self.shape = shape
        self.range = "ℝ"
        self.local, self.formula = {}, {}
        self.value = self.forward = self.reverse = None

    @property
    def local_shape(self):
        """Shape of the local derivative w.r.t. the (first) input: (rows, cols)."""
        return tuple(next(iter(self.local.values())).shape)

    def __repr__(self):
        return f"<Row {self.name} = {self.expr}, range {self.range}>"


class Explanation:
    """What ``explain`` returns: ``rows`` (one per component, in evaluation
    order), ``grad`` (the derivative at ``x0``), the products each mode forms
    (``forward_steps``, ``reverse_steps``: (lhs, rhs, value, cost) tuples in the
    order the mode computes them) and the two checks (``autodiff``,
    ``finite_differences``, with ``autodiff_error`` and ``fd_error``, the max
    absolute differences).  Prints as a table; renders as HTML in Jupyter."""

    def __init__(self, x, y, rows, grad, forward_steps, reverse_steps, autodiff,
                 finite_differences):
        self.x, self.y, self.rows, self.grad = x, y, rows, grad
        self.forward_steps, self.reverse_steps = forward_steps, reverse_steps
        self.autodiff, self.finite_differences = autodiff, finite_differences
        self.autodiff_error = _max_abs(grad, autodiff)
        self.fd_error = _max_abs(grad, finite_differences)
        scale = 1.0 + _max_abs(grad, None)
        self.ok = self.autodiff_error <= 1e-10 * scale and self.fd_error <= 1e-5 * scale

    # -- tables ---------------------------------------------------------------------
    def _component_table(self):
        head = ("#", "component", "range", "local derivative", "shape", "at x0")
        body = []
        for i, r in enumerate(self.rows, 1):
            for j, (u, jac) in enumerate(r.local.items()):
                body.append((str(i) if j == 0 else "", f"{r.name} = {r.expr}" if j == 0
                             else "", r.range if j == 0 else "",
                             f"∂{r.name}/∂{u} = {r.formula[u]}",
                             "×".join(str(s) for s in jac.shape), _fmt(jac)))
        return head, body

    def _step_table(self, steps):
        return (("product", "", "value", "multiply-adds"),
                [(lhs, rhs, _fmt(v), str(c)) for lhs, rhs, v, c in steps])

    def _tables(self):
        return [
            ("components, in evaluation order", self._component_table()),
            ("forward mode (evaluation order: first component first)",
             self._step_table(self.forward_steps)),
            ("reverse mode (evaluation order: last component first)",
             self._step_table(self.reverse_steps)),
        ]

    def _summary(self):
        fc = sum(s[3] for s in self.forward_steps)
        rc = sum(s[3] for s in self.reverse_steps)
        mark = "agrees" if self.ok else "DISAGREES"
        return (f"dy/dx at x0 = {_fmt(self.grad)}\n"
                f"forward mode {fc} multiply-adds, reverse mode {rc}; "
                f"check {mark}: autodiff |diff| {self.autodiff_error:.1e}, "
                f"finite differences |diff| {self.fd_error:.1e}")

    def __str__(self):
        out = [f"explain: x0 = {_fmt(self.x)}, y = {_fmt(self.y)}"]
        for title, (head, body) in self._tables():
            out += ["", title, _text_table(head, body)]
        out += ["", self._summary()]
        return "\n".join(out)

    __repr__ = __str__

    def _repr_html_(self):
        esc = html.escape
        parts = [f"<p><b>explain</b>: x0 = {esc(_fmt(self.x))}, "
                 f"y = {esc(_fmt(self.y))}</p>"]
        for title, (head, body) in self._tables():
            parts.append(f"<p>{esc(title)}</p><table><tr>"
                         + "".join(f"<th>{esc(h)}</th>" for h in head) + "</tr>")
            for row in body:
                parts.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row)
                             + "</tr>")
            parts.append("</table>")
        parts.append("<pre>" + esc(self._summary()) + "</pre>")
        return "\n".join(parts)


def _text_table(head, body):
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
             for r in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(t):
    """Numbers for people: 4 significant digits, nested lists for arrays."""
    if t is None:
        return "?"
    if isinstance(t, Tensor):
        v = t.reshape(()).item() if t.numel() == 1 else t.tolist()
    else:
        v = t

    def f(v):
        if isinstance(v, list):
            return "[" + ", ".join(f(e) for e in v) + "]"
        return f"{v:.4g}"

    return f(v)


def _max_abs(a, b):
    d = a if b is None else a - b
    return float(ops.abs(d).max()) if d.numel() else 0.0


# -- the walk -----------------------------------------------------------------------
def explain(f, x0, *, eps=1e-6):
    """Walk the chain rule through ``f`` at ``x0`` (a number or a 1-D/N-D array).

    ``f`` takes a float64 Tensor of ``x0``'s shape and returns a Tensor; it
    must be built from chainrule ops.  Returns an :class:`Explanation`.
    """
    x = _as_input(x0)
    with grad_mode.enable_grad():
        y = f(x)
    if not isinstance(y, Tensor):
        raise ArgumentError(f"explain: f must return a Tensor, got {type(y).__name__}")
    if y.grad_fn is None:
        raise ArgumentError("explain: f(x) does not depend on x through any "
                            "differentiable op, so there is no chain to walk")
    with grad_mode.no_grad():
        walk = _Walk(x, y)
        rows, grad, fsteps, rsteps = walk.run()
        autodiff = _autodiff(x, y)
        fd = _finite_differences(f, x, y, eps)
    shape = tuple(y.shape) + tuple(x.shape)
    return Explanation(x.detach(), y.detach(), rows, grad.reshape(shape),
                       fsteps, rsteps, autodiff.reshape(shape), fd.reshape(shape))


def _as_input(x0):
    data = x0.detach().tolist() if isinstance(x0, Tensor) else x0
    return ops.tensor(data, dtype=float64).requires_grad_()


class _Walk:
    """Reads the tape from ``y`` back to the leaf ``x``."""

    def __init__(self, x, y):
        self.x, self.y = x, y
        self.order = list(reversed(_topo_order([y.grad_fn])[0]))  # evaluation order
        self.consumer_meta = {}
        for node in self.order:
            for e, meta in zip(node.edges, node.metas):
                if e is not None:
                    self.consumer_meta[(id(e[0]), e[1])] = meta[0]
        self.values = {(id(x), 0): x.detach()}

    # where a value comes from: a node output, or a leaf tensor
    def _value(self, obj, oi):
        key = (id(obj), oi)
        if key in self.values:
            return self.values[key]
        v = None
        if obj.__class__ is not Node:
            v = obj.detach()
        elif obj.out_data is not None:
            d = obj.out_data if obj.out_metas is None else obj.out_data[oi]
            v = Tensor._make(d)
        else:
            args = [self._input_value(obj, i) for i in range(len(obj.edges))]
            if all(a is not None for a in args):
                out = obj.prim(*args, **obj.params)
                v = out if obj.out_metas is None else out[oi]
        self.values[key] = v
        return v

    def _input_value(self, node, i):
        if node.inputs[i] is not None:
            return node.inputs[i].detach()
        e = node.edges[i]
        return None if e is None else self._value(*e)

    def _out_shape(self, node, oi):
        if node.out_metas is not None:
            return node.out_metas[oi][0]
        if node is self.y.grad_fn and oi == self.y._oi:
            return tuple(self.y.shape)
        return self.consumer_meta[(id(node), oi)]

    def run(self):
        x = self.x
        xkey = (id(x), 0)
        rep = {xkey: xkey}  # value key -> the component it aliases (reshapes)
        comps, rows = [], {xkey: None}
        names = _names()
        ivs = {xkey: _intervals.REAL}
        shapes = {xkey: tuple(x.shape)}
        for node in self.order:
            chain = [i for i, e in enumerate(node.edges)
                     if e is not None and (id(e[0]), e[1]) in rep]
            if not chain:
                continue
            n_out = 1 if node.out_metas is None else len(node.out_metas)
            src = rep[(id(node.edges[chain[0]][0]), node.edges[chain[0]][1])]
            if node.prim.name == "reshape":
                rep[(id(node), 0)] = src
                # Show a value in its simplest shape ((3,) rather than (3, 1)).
                alias = tuple(self._out_shape(node, 0))
                if len(alias) < len(shapes[src]):
                    shapes[src] = alias
                continue
            for oi in range(n_out - node.prim.residuals):
                key = (id(node), oi)
                rep[key] = key
                comps.append((node, oi, chain))
                shapes[key] = self._out_shape(node, oi)
                rows[key] = None
        yrep = rep.get((id(self.y.grad_fn), self.y._oi))
        if yrep is None or yrep == xkey:
            raise ArgumentError("explain: f(x) only reshapes x; there is no chain "
                                "of components to walk")
        # names and rows
        row_of = {}
        for node, oi, chain in comps:
            key = (id(node), oi)
            name = "y" if key == yrep else next(names)
            row_of[key] = Row(name, node.prim.name, "", [], shapes[key])
        label = {xkey: "x", **{k: r.name for k, r in row_of.items()}}
        for node, oi, chain in comps:
            row = row_of[(id(node), oi)]
            self._describe(node, oi, chain, row, rep, label, ivs, shapes)
        ordered = [row_of[(id(n), oi)] for n, oi, _ in comps]
        return self._products(x, comps, row_of, rep, label, ordered, yrep)

    def _describe(self, node, oi, chain, row, rep, label, ivs, shapes):
        """Fill a row: expression, range, value, local Jacobians and formulas."""
        key = (id(node), oi)
        args, arg_ivs = [], []
        const_rows = None
        for i, e in enumerate(node.edges):
            k = None if e is None else rep.get((id(e[0]), e[1]))
            if k is not None:
                args.append(label[k])
                arg_ivs.append(ivs[k])
                continue
            v = self._input_value(node, i)
            args.append(_const_label(v, node.metas[i][0]))
            arg_ivs.append(_intervals.REAL if v is None or not v.numel() else
                           _intervals.of_values(v.reshape(-1).tolist()))
            if node.prim.name == "matmul" and i == 0 and v is not None and v.ndim == 2:
                const_rows = v.tolist()
        e0 = node.edges[0]
        e1 = node.edges[1] if len(node.edges) > 1 else None
        same = e0 is not None and e1 is not None and e0[0] is e1[0] and e0[1] == e1[1]
        row.inputs = []
        for i in chain:
            u = label[rep[(id(node.edges[i][0]), node.edges[i][1])]]
            if u not in row.inputs:
                row.inputs.append(u)
        row.expr = _expr(node, args, same)
        fan_in = max(1, _numel(node.metas[0][0]) // max(1, _numel(shapes[key])))
        ivs[key] = _intervals.propagate(node.prim.name, node.params, arg_ivs, same,
                                        const_rows, fan_in)
        row.range = _intervals.fmt(ivs[key], shapes[key])
        row.value = self._value(node, oi)
        if row.value is not None:
            row.value = row.value.reshape(shapes[key])
        for i in chain:
            u = label[rep[(id(node.edges[i][0]), node.edges[i][1])]]
            jac = self._jacobian(node, oi, i)
            row.local[u] = jac if u not in row.local else row.local[u] + jac
            row.formula[u] = _formula(node, i, args, same, u,
                                      _numel(node.metas[i][0]) > 1)
        self.values[key] = row.value

    def _jacobian(self, node, oi, i):
        """d(output oi)/d(input i) at the recorded point, from the vjp rule."""
        node.check()
        shape = self._out_shape(node, oi)
        m = _numel(shape)
        in_shape, in_dtype = node.metas[i]
        rows = []
        eye = ops.eye(m, dtype=float64)
        for k in range(m):
            g = eye[k].reshape(shape)
            if node.out_metas is None:
                gin = node.prim.vjp(node, g)
            else:
                n_grad = len(node.out_metas) - node.prim.residuals
                gs = tuple(g if j == oi else
                           (ops.zeros(s, dtype=float64) if j < n_grad else None)
                           for j, (s, _) in enumerate(node.out_metas))
                gin = node.prim.vjp(node, gs)
            gi = gin[i]
            if gi is None:
                gi = ops.zeros(in_shape, dtype=float64)
            elif tuple(gi.shape) != tuple(in_shape):
                gi = ops.sum_to(gi, tuple(in_shape))
            rows.append(gi.reshape(-1).to(dtype=float64))
        return ops.stack(rows)

    def _products(self, x, comps, row_of, rep, label, ordered, yrep):
        """Multiply the local Jacobians, in each mode's own order.

        A seed (dx/dx or dy/dy, the identity) is not multiplied: the first
        product of each mode is a local Jacobian itself, at no cost."""
        xkey = (id(x), 0)
        fwd = {xkey: None}  # None: the identity seed
        fsteps = []
        for node, oi, chain in comps:
            row = row_of[(id(node), oi)]
            terms, total, cost = [], None, 0
            for u, jac in row.local.items():
                prev = fwd[_key_of(u, label)]
                if prev is None:
                    term = jac
                    terms.append(f"∂{row.name}/∂{u}")
                else:
                    term = ops.matmul(jac, prev)
                    cost += jac.shape[0] * jac.shape[1] * prev.shape[1]
                    terms.append(f"∂{row.name}/∂{u} · d{u}/dx")
                total = term if total is None else total + term
            fwd[(id(node), oi)] = row.forward = total
            fsteps.append((f"d{row.name}/dx", " + ".join(terms), total, cost))
        adj = {yrep: None}
        pending = {}
        rsteps = []

        def emit(k, name):
            parts = pending[k]
            rsteps.append((f"dy/d{name}", " + ".join(p[0] for p in parts), adj[k],
                           sum(p[1] for p in parts)))

        # In reverse evaluation order every consumer of a value comes before
        # the value's producer, so its adjoint is complete when we reach it.
        for node, oi, chain in reversed(comps):
            key = (id(node), oi)
            row = row_of[key]
            if key != yrep:
                emit(key, row.name)
            row.reverse = adj[key]
            for u, jac in row.local.items():
                k = _key_of(u, label)
                if row.reverse is None:
                    term, cost, text = jac, 0, f"∂{row.name}/∂{u}"
                else:
                    term = ops.matmul(row.reverse, jac)
                    cost = row.reverse.shape[0] * jac.shape[0] * jac.shape[1]
                    text = f"dy/d{row.name} · ∂{row.name}/∂{u}"
                adj[k] = term if adj.get(k) is None else adj[k] + term
                pending.setdefault(k, []).append((text, cost))
        emit(xkey, "x")
        row_of[yrep].reverse = ops.eye(row_of[yrep].forward.shape[0], dtype=float64)
        return ordered, adj[xkey], fsteps, rsteps


def _key_of(name, label):
    for k, v in label.items():
        if v == name:
            return k
    raise KeyError(name)


def _names():
    for c in "abcdefghijklmnopqrstuvw":
        yield c
    i = 1
    while True:
        yield f"v{i}"
        i += 1


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _const_label(v, shape):
    if v is not None and v.numel() == 1:
        return f"{v.reshape(()).item():.4g}"
    return "W" if len(shape) == 2 else "C"  # upper case: never a component's name


def _expr(node, args, same):
    name = node.prim.name
    if name == "pow_scalar":
        e = node.params["exponent"]
        e = int(e) if float(e).is_integer() else e
        return f"{args[0]}{str(e).translate(_SUP)}" if isinstance(e, int) else \
            f"{args[0]}^{e}"
    if name == "mul" and same:
        return f"{args[0]}²"
    if name in _EXPR:
        try:
            return _EXPR[name].format(*args)
        except IndexError:
            pass
    return f"{name}({', '.join(args)})"


def _formula(node, i, args, same, u, vector):
    """The local derivative of ``node`` w.r.t. input ``i`` (named ``u``) as text."""
    name = node.prim.name
    diag = (lambda s: f"diag({s})") if vector else (lambda s: s)
    if name in _LOCAL:
        return diag(_LOCAL[name].format(u=u))
    if name == "pow_scalar":
        e = node.params["exponent"]
        e = int(e) if float(e).is_integer() else e
        pw = "" if e == 2 else (str(e - 1).translate(_SUP) if isinstance(e, int)
                                else f"^{e - 1}")
        return diag(f"{e}{u}{pw}")
    if name == "mul":
        return diag(f"2{u}" if same else args[1 - i])
    if name in ("add", "sub"):
        s = "I" if vector else "1"
        return s if name == "add" or i == 0 else "-" + s
    if name == "div" and i == 0:
        return diag(f"1/{args[1]}")
    if name == "matmul" and i == 1 and len(node.metas[0][0]) == 2:
        return args[0]
    if name == "sum" and node.params.get("axis") is None:
        return "1ᵀ" if vector else "1"
    return f"Jacobian of {name}"


def _autodiff(x, y):
    """The Jacobian by the reverse-mode engine, one row per element of y."""
    from ..autograd import grad as agrad

    m = y.numel()
    eye = ops.eye(m, dtype=y.dtype)
    with grad_mode.enable_grad():
        rows = [agrad(y, x, grad_outputs=eye[k].reshape(y.shape),
                      retain_graph=True)[0].reshape(-1) for k in range(m)]
    return ops.stack(rows).to(dtype=float64)


def _finite_differences(f, x, y, eps):
    """Central differences of ``f`` in float64, one column per element of x."""
    n = x.numel()
    base = x.detach().reshape(-1)
    eye = ops.eye(n, dtype=float64)
    cols = []
    for j in range(n):
        step = eye[j] * eps
        hi = f((base + step).reshape(x.shape))
        lo = f((base - step).reshape(x.shape))
        cols.append(((hi - lo) / (2 * eps)).reshape(-1).to(dtype=float64))
    return ops.stack(cols, dim=1)
