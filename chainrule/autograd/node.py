"""The tape entry: one :class:`Node` per recorded primitive call.

A node remembers what its primitive's vjp needs (the saved inputs and, if
asked, the output's data) and where gradients go next (``edges``).  It does
not hold the output Tensor itself, so no reference cycle keeps intermediates
alive: the graph is freed as soon as the last output Tensor is dropped.
"""
from ..errors import AutogradError, fmt_shape


class Node:
    """A recorded primitive application, shown to users as ``t.grad_fn``."""

    __slots__ = (
        "prim", "params", "edges", "metas", "inputs", "versions", "needs",
        "out_data", "out_vc", "out_ver", "out_metas", "hooks", "freed",
        "trace", "out_fw", "__weakref__",
    )

    def name(self):
        fn = self.params.get("fn") if self.prim.name == "custom_function" else None
        if fn is not None:  # a custom autograd.Function: name it after its class
            return fn.__name__ + "Backward"
        return self.prim.name.capitalize().replace("_", "") + "Backward"

    def __repr__(self):
        return f"<{self.name()} object>"

    @property
    def next_functions(self):
        """((Node or AccumulateGrad-like leaf, output index), ...) as in PyTorch."""
        return tuple(self.edges)

    # -- what vjp rules read ------------------------------------------------
    @property
    def out(self):
        """The output as a Tensor whose grad_fn is this node (for create_graph);
        a tuple of Tensors for multi-output primitives.  Forward-mode tangents
        the outputs carried (``out_fw``, set by forward_ad) are re-attached, so
        vjp rules that read the output differentiate in forward mode too."""
        from ..tensor import Tensor

        fw = getattr(self, "out_fw", None)
        if self.out_metas is None:
            t = Tensor._make(self.out_data, True, self, 0)
            if fw:
                t._fw = fw[0]
            return t
        outs = tuple(Tensor._make(d, True, self, i)
                     for i, d in enumerate(self.out_data))
        if fw:
            for t, f in zip(outs, fw):
                t._fw = f
        return outs

    def check(self):
        """Before the vjp runs: saved values must exist and be unmodified."""
        if self.freed:
            raise AutogradError(
                f"{self.prim.name}: trying to backward through the graph a second "
                "time (or to access saved tensors after they were freed). Saved "
                "values are freed when you call .backward() or autograd.grad(); "
                "specify retain_graph=True on the first call if you need to "
                "backward through the graph again."
            )
        for i, t in enumerate(self.inputs):
            if t is not None and t._vc[0] != self.versions[i]:
                self._modified(f"input {i}", t.dtype.name, t.shape, t._vc[0],
                               self.versions[i])
        if self.out_vc is None:
            return
        if self.out_metas is None:
            if self.out_vc[0] != self.out_ver:
                d = self.out_data
                self._modified("its output", str(d.dtype), d.shape, self.out_vc[0],
                               self.out_ver)
            return
        for k, (vc, ver) in enumerate(zip(self.out_vc, self.out_ver)):
            if vc[0] != ver:
                shape, dtype = self.out_metas[k]
                self._modified("an output", str(dtype), shape, vc[0], ver)

    def _modified(self, what, dtype, shape, now, expected):
        raise AutogradError(
            "one of the variables needed for gradient computation has been "
            f"modified by an inplace operation: {what} of {self.prim.name} "
            f"({dtype} {fmt_shape(shape)}) is at version {now}; expected version "
            f"{expected} instead. Use an out-of-place op, or .clone() the tensor "
            "before modifying it." + (
                f"\nThe forward op was called at {self.trace}" if self.trace else
                " (Hint: inside chainrule.autograd.detect_anomaly() this message "
                "names the line that called the op.)")
        )

    def release(self):
        """Drop saved values after backward (unless retain_graph)."""
        if self.out_data is not None or any(t is not None for t in self.inputs):
            self.freed = True  # only nodes that saved something can't rerun
        self.inputs = (None,) * len(self.inputs)
        self.out_data = self.out_vc = self.out_fw = None
