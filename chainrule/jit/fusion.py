"""Fusion of elementwise chains into one generated C loop.

A run of consecutive elementwise nodes (``add sub mul div neg gt lt ge le
to_dtype``) over arrays of one shape -- other inputs may be 0-d -- becomes
one ``kernel`` node: a single pass over memory instead of one per op, and no
temporaries for values only the chain reads.  Each op is written as the C
expression that rounds as NumPy's ufunc does (float ops in the operands'
type, no fused multiply-add), so a fused chain is bit-identical to replay.
Inputs that are not C-contiguous at run time fall back to the NumPy nodes.
"""
import ctypes

import numpy as np

from . import native

_BIN = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_CMP = {"gt": ">", "lt": "<", "ge": ">=", "le": "<="}
_C = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
      np.dtype(np.bool_): "unsigned char", np.dtype(np.int64): "long long",
      np.dtype(np.int32): "int"}
_FLOAT = (np.dtype(np.float32), np.dtype(np.float64))


def _fusible(node, vals):
    if node.kind != "prim":
        return None
    name, out = node.prim.name, vals[node.outs[0]] if node.outs else None
    if out is None or out.dtype not in _C or not out.shape or np.prod(out.shape) < 1:
        return None
    ins = [vals[i] for i in node.ins]
    if any(v.dtype not in _C or (v.shape != out.shape and v.shape != ())
           for v in ins):
        return None
    if name in _BIN and not node.params:
        # NumPy computes in the common type; fuse only when that is the output's.
        if out.dtype in _FLOAT and all(v.dtype == out.dtype for v in ins):
            return out.shape
    elif name == "neg" and not node.params and ins[0].dtype == out.dtype in _FLOAT:
        return out.shape
    elif name in _CMP and not node.params and all(v.dtype != np.bool_ for v in ins):
        return out.shape
    elif (name == "to_dtype" and ins[0].dtype != out.dtype
          and ins[0].shape == out.shape):
        return out.shape
    return None


def _expr(node, a, vals):
    name = node.prim.name
    out_t = _C[vals[node.outs[0]].dtype]
    if name in _BIN:
        return f"({a[0]} {_BIN[name]} {a[1]})"
    if name == "neg":
        return f"(-{a[0]})"
    if name in _CMP:
        same = vals[node.ins[0]].dtype == vals[node.ins[1]].dtype
        x, y = (a[0], a[1]) if same else (f"(double){a[0]}", f"(double){a[1]}")
        return f"({x} {_CMP[name]} {y})"
    if vals[node.outs[0]].dtype == np.bool_:
        return f"({a[0]} != 0)"
    return f"({out_t})({a[0]})"


class FusedKernel:
    """One generated loop for a chain of elementwise nodes."""

    def __init__(self, nodes, graph, live_out):
        vals = graph.values
        self.nodes = nodes
        produced = {o for n in nodes for o in n.outs}
        self.inputs = []
        for n in nodes:
            for i in n.ins:
                if i not in produced and i not in self.inputs:
                    self.inputs.append(i)
        self.outputs = [o for n in nodes for o in n.outs if o in live_out]
        self.shape = vals[nodes[-1].outs[0]].shape
        local, lines = {}, []
        for k, i in enumerate(self.inputs):
            idx = "0" if vals[i].shape == () else "i"
            local[i] = f"in{k}[{idx}]"
        # Booleans inside the loop are C ints (0 or 1, what a comparison
        # gives), stored as bytes: gcc 12 does not vectorise a loop that
        # converts unsigned char to float, so a relu's or dropout's mask
        # (gt/ge, to_dtype, mul) would otherwise run one element at a time.
        for k, n in enumerate(nodes):
            dt = vals[n.outs[0]].dtype
            t = "int" if dt == np.bool_ else _C[dt]
            e = _expr(n, [local[i] for i in n.ins], vals)
            lines.append(f"        const {t} v{k} = {e};")
            local[n.outs[0]] = f"v{k}"
        for k, o in enumerate(self.outputs):
            cast = "(unsigned char)" if vals[o].dtype == np.bool_ else ""
            lines.append(f"        out{k}[i] = {cast}{local[o]};")
        args = [f"const {_C[vals[i].dtype]} *restrict in{k}"
                for k, i in enumerate(self.inputs)]
        args += [f"{_C[vals[o].dtype]} *restrict out{k}"
                 for k, o in enumerate(self.outputs)]
        body = "\n".join(lines)
        sig = "_".join(n.prim.name for n in nodes)
        self.src_body = (f"void KNAME(long n, {', '.join(args)}) {{\n"
                         f"    for (long i = 0; i < n; i++) {{\n{body}\n    }}\n}}\n")
        import hashlib

        h = hashlib.sha256(self.src_body.encode()).hexdigest()[:10]
        self.name = f"fused_{sig[:40]}_{h}"
        self.src = f"#define KNAME {self.name}\n" + self.src_body
        lib, self.path, self.cache_hit = native.build(self.name, self.src)
        self.fn = getattr(lib, self.name)
        self.fn.argtypes = [ctypes.c_long] + [ctypes.c_void_p] * (
            len(self.inputs) + len(self.outputs))
        self.fn.restype = None
        self.out_dtypes = [vals[o].dtype for o in self.outputs]

    def step(self, node):
        from .replay import step_for

        fallback = [step_for(n) for n in self.nodes]
        ins, outs = tuple(self.inputs), tuple(self.outputs)
        fn, shape = self.fn, self.shape
        dts, size = self.out_dtypes, int(np.prod(self.shape))
        empty = np.empty

        def run(env):
            arrs = [env[i] for i in ins]
            for a in arrs:
                if not a.flags.c_contiguous:
                    for f in fallback:
                        f(env)
                    return
            res = [empty(shape, d) for d in dts]
            fn(size, *[a.ctypes.data for a in arrs], *[r.ctypes.data for r in res])
            for o, r in zip(outs, res):
                env[o] = r

        return run


def fuse(graph):
    """Replace runs of fusible nodes (two or more) with kernel nodes."""
    from .ir import Node

    vals = graph.values
    uses = {}
    for n in graph.nodes:
        for i in n.ins:
            uses.setdefault(i, []).append(n)
    escaping = graph.escaping()
    out, run, shape = [], [], None

    def flush():
        if len(run) >= 2:
            members = set(map(id, run))
            live = {o for n in run for o in n.outs
                    if o in escaping
                    or any(id(u) not in members for u in uses.get(o, ()))}
            k = FusedKernel(list(run), graph, live)
            out.append(Node("kernel", k, k.inputs, {}, k.outputs))
        else:
            out.extend(run)
        run.clear()

    for n in graph.nodes:
        s = _fusible(n, vals)
        if s is not None and (not run or s == shape):
            run.append(n)
            shape = s
            continue
        flush()
        if s is not None:
            run.append(n)
            shape = s
        else:
            out.append(n)
    flush()
    graph.nodes = out
    return graph
