"""Drawing the recorded computation: ``draw_graph`` and ``draw_model``.

The picture is read from the tape: one box per primitive call (op name and
output shape), one ellipse per leaf (named after its parameter when
``params`` names it), a small grey note per constant operand, and an arrow
for every data dependency, pointing the way data flows.  The result is a
:class:`Graph`: DOT source always (``.source``), SVG or PNG when the
``graphviz`` Python package and its ``dot`` program are installed.

Modules: :func:`record_modules` (used by ``draw_model``) notes which module
call produced which nodes, through forward hooks: the nodes a module call
made are those behind its outputs that are not behind its inputs.  Those
nodes are drawn inside a box per module, or, with ``collapse``, as one box
per module call.
"""
import contextlib

from ..errors import ArgumentError
from ..tensor import Tensor
from ._tape_read import Tape, is_node


class Graph:
    """A drawn graph: ``source`` (DOT text), ``nodes`` ({id: label}) and
    ``edges`` ([(from id, to id)]); ``pipe('svg')``/``pipe('png')`` give the
    rendered bytes, ``render(path)`` writes a file (format from its suffix:
    .svg, .png, .pdf or .dot).  Shows itself as SVG in Jupyter."""

    def __init__(self, source, nodes, edges):
        self.source, self.nodes, self.edges = source, nodes, edges

    def __str__(self):
        return self.source

    def __repr__(self):
        return (f"<chainrule.viz.Graph: {len(self.nodes)} nodes, {len(self.edges)} "
                "edges; .source is the DOT text>")

    def pipe(self, format="svg"):
        """The graph rendered by Graphviz's ``dot``, as bytes."""
        try:
            import graphviz
        except ImportError:
            raise ImportError(
                "Graph.pipe: rendering needs the graphviz Python package (pip "
                "install 'chainrule[viz]') and the Graphviz program dot (e.g. "
                "apt-get install graphviz); the DOT text is in .source") from None
        try:
            return graphviz.Source(self.source).pipe(format=format)
        except graphviz.ExecutableNotFound:
            raise ArgumentError(
                "Graph.pipe: the Graphviz program 'dot' was not found on PATH; "
                "install Graphviz (e.g. apt-get install graphviz) to render "
                f"{format.upper()}, or use the DOT text in .source") from None

    def render(self, path, format=None):
        """Write the graph to ``path``; returns the path."""
        path = str(path)
        fmt = format or path.rsplit(".", 1)[-1].lower()
        if fmt not in ("svg", "png", "pdf", "dot", "gv"):
            raise ArgumentError(f"Graph.render: unknown format {fmt!r} for {path}; "
                                "use .svg, .png, .pdf or .dot")
        if fmt in ("dot", "gv"):
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(self.source)
        else:
            data = self.pipe(fmt)
            with open(path, "wb") as fh:
                fh.write(data)
        return path

    def _repr_svg_(self):
        # Jupyter falls back to the text repr when this returns None.
        try:
            return self.pipe("svg").decode("utf-8")
        except (ImportError, ArgumentError):
            return None


# -- which module made which nodes ----------------------------------------------------
class ModuleRecord:
    """Filled by :func:`record_modules`: ``paths`` {id(node): dotted module
    path of the innermost module call that made it}, ``types`` {path: class
    name}, ``outputs`` {path: output shape}, ``children`` {path: has
    submodules}."""

    def __init__(self):
        self.paths, self.types, self.outputs, self.children = {}, {}, {}, {}
        self._keep = []  # nodes are keyed by id: keep them alive meanwhile


def _tensors(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors(o)


def _reachable(tensors):
    seen, stack = set(), [t.grad_fn for t in tensors if t.grad_fn is not None]
    out = []
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        out.append(n)
        stack.extend(e[0] for e in n.edges if e is not None and is_node(e[0]))
    return seen, out


@contextlib.contextmanager
def record_modules(model):
    """While active, note the nodes each submodule call of ``model`` makes.

    Yields a :class:`ModuleRecord` to pass to ``draw_graph(modules=...)``.
    """
    rec = ModuleRecord()
    handles, stack = [], []
    for path, mod in model.named_modules():
        rec.types[path] = type(mod).__name__
        rec.children[path] = bool(mod._modules)

        def pre(m, args, kwargs, path=path):
            stack.append(_reachable(list(_tensors((args, kwargs))))[0])

        def post(m, args, kwargs, out, path=path):
            before = stack.pop()
            _, nodes = _reachable(list(_tensors(out)))
            for n in nodes:
                # Children finish first, so the innermost module claims a node.
                if id(n) not in before and id(n) not in rec.paths:
                    rec.paths[id(n)] = path
                    rec._keep.append(n)
            shapes = [tuple(t.shape) for t in _tensors(out)]
            if shapes:
                rec.outputs[path] = shapes[0]

        handles.append(mod.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(mod.register_forward_hook(post, with_kwargs=True))
    try:
        yield rec
    finally:
        for h in handles:
            h.remove()


# -- drawing --------------------------------------------------------------------------
def _shape(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]" if shape is not None else "?"


def _summary(t):
    """A short text for a value: its numbers when few, else its range."""
    if t is None:
        return "?"
    if t.numel() <= 6:
        vals = t.reshape(-1).tolist()
        return "[" + ", ".join(f"{v:.3g}" for v in vals) + "]" if t.ndim else \
            f"{vals[0]:.3g}"
    flat = t.detach().reshape(-1).to(dtype=_f64())
    return f"min {flat.min().item():.3g} max {flat.max().item():.3g}"


def _f64():
    from .._dtype import float64

    return float64


def _intermediate_grads(roots, tape):
    """d(sum of roots)/d(each node output and leaf), by the backward engine."""
    from .. import ops
    from ..autograd import grad as agrad
    from ..errors import AutogradError

    handles, keys = [], []
    for node in tape.order:
        for oi in range(tape.n_out(node) - node.prim.residuals):
            shape = tape.out_shape(node, oi)
            meta = node.out_metas[oi] if node.out_metas else None
            if shape is None:
                continue
            dtype = meta[1] if meta else None
            if dtype is None:
                for n2, i in tape.consumers.get((id(node), oi), ()):
                    dtype = n2.metas[i][1]
                    break
            if dtype is None:
                dtype = roots[0]._data.dtype
            handles.append(Tensor._make(_empty(shape, dtype), True, node, oi))
            keys.append((id(node), oi))
        for e in node.edges:
            if e is not None and not is_node(e[0]) and (id(e[0]), 0) not in keys:
                handles.append(e[0])
                keys.append((id(e[0]), 0))
    try:
        grads = agrad(roots, handles, grad_outputs=[ops.ones_like(r) for r in roots],
                      retain_graph=True, allow_unused=True)
    except AutogradError:  # the graph was already freed by a backward()
        return {}
    return {k: g for k, g in zip(keys, grads) if g is not None}


def _empty(shape, dtype):
    """A placeholder buffer: a handle Tensor only names a node output."""
    from .. import ops
    from .._dtype import from_numpy_dtype

    return ops.zeros(shape, dtype=from_numpy_dtype(dtype))._data


def _q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def draw_graph(output, params=None, show_values=False, show_grads=False,
               modules=None, collapse=False, show_constants=True, rankdir="TB"):
    """Draw the computation that produced ``output`` (a Tensor or a tuple).

    ``params``: {name: Tensor} (e.g. ``dict(model.named_parameters())``) to name
    the leaves.  ``show_values``: add each value (numbers when at most 6, else
    min and max) where the tape still holds it.  ``show_grads``: add the
    gradient of ``output.sum()`` at each node and leaf (needs the graph not yet
    freed by ``backward``; leaves fall back to ``.grad``).  ``modules``: a
    :class:`ModuleRecord` from :func:`record_modules`; ``collapse``: False (a
    frame per module call), True (each module without submodules as one box)
    or a list of module paths or class names to draw as one box each.
    Returns a :class:`Graph`.
    """
    roots = list(_tensors(output))
    if not roots:
        raise ArgumentError("draw_graph: expected a Tensor (or a tuple of Tensors), "
                            f"got {type(output).__name__}")
    if all(r.grad_fn is None for r in roots):
        raise ArgumentError(
            "draw_graph: the output has no recorded graph (grad_fn is None): it was "
            "computed under no_grad() or from tensors that do not require grad; "
            "set requires_grad=True on an input or a parameter and run it again")
    names = {id(t): n for n, t in (params or {}).items()}
    tape = Tape(roots)
    grads = _intermediate_grads(roots, tape) if show_grads else {}
    rootkeys = {(id(r.grad_fn), r._oi) for r in roots}
    box = _collapser(modules, collapse)

    nodes, edges, attrs = {}, [], {}
    members = {}  # cluster path -> [ids]
    leaf_ids = {}

    def leaf_id(t):
        if id(t) not in leaf_ids:
            i = f"p{len(leaf_ids)}"
            leaf_ids[id(t)] = i
            label = names.get(id(t), "leaf" if t.grad_fn is None else "tensor")
            label += "\n" + _shape(t.shape)
            if show_values:
                label += "\n" + _summary(t)
            if show_grads:
                g = grads.get((id(t), 0), t.grad)
                label += "\ngrad " + _summary(g)
            nodes[i] = label
            attrs[i] = 'shape=ellipse, fillcolor="#d8ecd0"'
        return leaf_ids[id(t)]

    node_ids = {}
    for k, node in enumerate(tape.order):
        node_ids[id(node)] = f"n{k}"
    for k, node in enumerate(tape.order):
        nid = node_ids[id(node)]
        path = modules.paths.get(id(node)) if modules is not None else None
        target = box(path)
        n_out = tape.n_out(node)
        shapes = [_shape(tape.out_shape(node, oi)) for oi in range(n_out)]
        label = node.prim.name + "\n" + ", ".join(shapes)
        if show_values:
            label += "\n" + _summary(tape.value(node, 0))
        if show_grads:
            label += "\ngrad " + _summary(grads.get((id(node), 0)))
        if target is not None:  # collapsed into its module's box
            bid = "m_" + _safe(target)
            node_ids[id(node)] = bid
            if bid not in nodes:
                nodes[bid] = (f"{target}: {modules.types.get(target, '')}\n"
                              + _shape(modules.outputs.get(target)))
                attrs[bid] = 'shape=box3d, fillcolor="#fde8c8"'
                parent = _parent(target)
                if parent is not None:
                    members.setdefault(parent, []).append(bid)
            continue
        nodes[nid] = label
        color = "#f7d6d6" if any((id(node), oi) in rootkeys for oi in range(n_out)) \
            else "#dde6f7"
        attrs[nid] = f'fillcolor="{color}"'
        if path is not None:
            members.setdefault(path, []).append(nid)

    const = 0
    for node in tape.order:
        dst = node_ids[id(node)]
        for i, e in enumerate(node.edges):
            if e is None:
                if not show_constants or dst.startswith("m_"):
                    continue
                cid = f"c{const}"
                const += 1
                label = "const\n" + _shape(node.metas[i][0])
                if show_values:
                    label += "\n" + _summary(tape.input_value(node, i))
                nodes[cid] = label
                attrs[cid] = 'shape=note, fillcolor="#eeeeee", fontsize=8'
                edges.append((cid, dst))
                continue
            src = node_ids[id(e[0])] if is_node(e[0]) else leaf_id(e[0])
            if src != dst and (src, dst) not in edges:
                edges.append((src, dst))
    # A module's own parameters, used only by its collapsed box, go inside it.
    into = {}
    for s, d in edges:
        into.setdefault(s, set()).add(d)
    boxes = {"m_" + _safe(p): p for p in (modules.types if modules else ())}
    for lid in list(leaf_ids.values()):
        outs = into.get(lid, set())
        name = nodes[lid].split("\n")[0]
        if len(outs) == 1 and next(iter(outs)) in boxes and \
                name.startswith(boxes[next(iter(outs))] + "."):
            del nodes[lid]
            edges = [(s, d) for s, d in edges if s != lid]
    return Graph(_dot(nodes, edges, attrs, members, modules, rankdir), nodes, edges)


def _safe(path):
    return "".join(c if c.isalnum() else "_" for c in path) or "root"


def _parent(path):
    if not path:
        return None
    return path.rsplit(".", 1)[0] if "." in path else ""


def _collapser(modules, collapse):
    """path -> the collapsed module box it belongs to, or None."""
    if modules is None or collapse is False or collapse is None:
        return lambda path: None
    if collapse is True:
        wanted = {p for p, has in modules.children.items() if not has and p}
    else:
        items = set(collapse)
        wanted = {p for p, ty in modules.types.items()
                  if p and (p in items or ty in items)}

    def box(path):
        if path is None:
            return None
        parts = path.split(".")
        for k in range(1, len(parts) + 1):
            pre = ".".join(parts[:k])
            if pre in wanted:
                return pre
        return None

    return box


def _dot(nodes, edges, attrs, members, modules, rankdir):
    lines = ["digraph chainrule {",
             f"  graph [rankdir={rankdir}, fontname=Helvetica, fontsize=10];",
             '  node [shape=box, style="rounded,filled", fontname=Helvetica, '
             'fontsize=10];',
             "  edge [arrowsize=0.7];"]
    placed = set()
    if modules is not None and members:
        paths = set(members)
        for p in list(paths):  # every ancestor gets a frame, so frames nest
            while p:
                p = _parent(p)
                if p is not None:
                    paths.add(p)
        _clusters("", paths, members, modules, nodes, attrs, lines, placed, 1)
    for nid, label in nodes.items():
        if nid not in placed:
            lines.append(f"  {nid} [label={_q(label)}, {attrs[nid]}];")
    for s, d in edges:
        lines.append(f"  {s} -> {d};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _clusters(path, paths, members, modules, nodes, attrs, lines, placed, depth):
    pad = "  " * depth
    kids = sorted(p for p in paths if p and _parent(p) == path)
    open_frame = path != ""
    if open_frame:
        lines.append(f"{pad}subgraph cluster_{_safe(path)} {{")
        lines.append(f"{pad}  label={_q(path + ': ' + modules.types.get(path, ''))}; "
                     'style="rounded,dashed"; color="#888888";')
    for nid in members.get(path, ()):
        if nid in nodes and nid not in placed:
            lines.append(f"{pad}  {nid} [label={_q(nodes[nid])}, {attrs[nid]}];")
            placed.add(nid)
    for k in kids:
        _clusters(k, paths, members, modules, nodes, attrs, lines, placed,
                  depth + (1 if open_frame else 0))
    if open_frame:
        lines.append(f"{pad}}}")


def draw_model(model, example_input, collapse=True, params=True, **kwargs):
    """Run ``model(example_input)`` once and draw its modules (collapsed by
    default: one box per module without submodules, frames for containers).

    ``example_input``: a Tensor or a tuple of positional arguments.  The model
    is run with gradients recorded; its parameters are named in the picture.
    """
    from ..autograd import grad_mode

    args = example_input if isinstance(example_input, tuple) else (example_input,)
    # Floating-point inputs are tracked too, so the picture starts at them.
    args = tuple(a.detach().requires_grad_() if isinstance(a, Tensor)
                 and a.is_floating_point() else a for a in args)
    with grad_mode.enable_grad(), record_modules(model) as rec:
        out = model(*args)
    if not any(t.grad_fn is not None for t in _tensors(out)):
        raise ArgumentError(
            f"draw_model: running {type(model).__name__} recorded no graph; its "
            "parameters do not require grad (call model.requires_grad_() first)")
    named = dict(model.named_parameters()) if params else {}
    named.update({("input" if len(args) == 1 else f"input{i}"): a
                  for i, a in enumerate(args) if isinstance(a, Tensor)})
    return draw_graph(out, params=named, modules=rec, collapse=collapse, **kwargs)


