"""Optimisation passes on the graph IR.

All passes keep the replay bit-identical to eager: they only drop, share or
precompute work whose result is the same on every call.

- :func:`fold_constants`: a pure node whose inputs are all constants is run
  once at compile time; its outputs become constants.
- :func:`eliminate_common` (CSE): two pure nodes with the same primitive,
  inputs and parameters share one result, unless an input is written in
  place somewhere in the graph.
- :func:`eliminate_dead` (DCE): a node whose outputs nobody reads and that
  writes nothing is dropped (guards stay: they protect the replay).
"""
import numpy as np

from ..ops._core import _quiet_enter, _quiet_exit

_HASHABLE = (int, float, bool, str, type(None), np.dtype, np.generic)


def _params_key(params):
    """A hashable form of a node's parameters, or None if it has none."""
    def conv(v):
        if isinstance(v, _HASHABLE):
            return (type(v).__name__, v)
        if isinstance(v, (tuple, list)):
            items = [conv(x) for x in v]
            return None if any(i is None for i in items) else tuple(items)
        return None

    items = []
    for k in sorted(params):
        c = conv(params[k])
        if c is None:
            return None
        items.append((k, c))
    return tuple(items)


def fold_constants(graph):
    """Precompute pure nodes that read only constants."""
    vals, written = graph.values, graph.mutated_values()
    keep = []
    for n in graph.nodes:
        if (n.kind == "prim" and n.pure and n.ins
                and all(vals[i].kind == "const" and i not in written for i in n.ins)
                and not any(o in written for o in n.outs)):
            tok = _quiet_enter()
            try:
                out = n.prim.forward(*[vals[i].ref for i in n.ins], **n.params)
            finally:
                _quiet_exit(tok)
            outs = [out] if n.prim.n_out == 1 else list(out)
            for o, a in zip(n.outs, outs):
                vals[o].kind, vals[o].ref = "const", np.asarray(a)
        else:
            keep.append(n)
    graph.nodes = keep
    return graph


def eliminate_common(graph):
    """Share the results of identical pure nodes."""
    written = graph.mutated_values()
    seen, alias, keep = {}, {}, []
    for n in graph.nodes:
        n.ins = [alias.get(i, i) for i in n.ins]
        if n.kind == "prim" and n.pure and not any(i in written for i in n.ins):
            pk = _params_key(n.params)
            if pk is not None:
                key = (n.prim.name, tuple(n.ins), pk)
                prev = seen.get(key)
                if prev is not None and not any(o in written for o in n.outs):
                    for a, b in zip(n.outs, prev.outs):
                        alias[a] = b
                    continue
                seen[key] = n
        keep.append(n)
    graph.nodes = keep
    graph.outputs = [alias.get(o, o) if o is not None else None
                     for o in graph.outputs]
    graph.writebacks = [(s, alias.get(v, v) if v is not None else None)
                        for s, v in graph.writebacks]
    return graph


def eliminate_dead(graph):
    """Drop nodes whose results are unused and that write nothing."""
    live = {o for o in graph.outputs if o is not None}
    live |= {v for _, v in graph.writebacks if v is not None}
    keep = []
    for n in reversed(graph.nodes):
        if (n.mutates or n.kind == "guard" or not n.pure
                or any(o in live for o in n.outs)):
            keep.append(n)
            live.update(n.ins)
    keep.reverse()
    graph.nodes = keep
    return graph


def optimize(graph):
    """The default pipeline: fold, share, then drop what is dead."""
    return eliminate_dead(eliminate_common(fold_constants(graph)))
