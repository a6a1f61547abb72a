"""Bringing trained weights over from PyTorch: a ``state_dict`` saved with
``safetensors.torch.save_file`` loads into the matching chainrule model.

chainrule's layers use PyTorch's parameter and buffer names (``fc1.weight``,
``bn.running_mean``, ``lstm.weight_ih_l0``...), so names map one to one;
the prefixes that wrappers add (``module.`` from DistributedDataParallel,
``_orig_mod.`` from ``torch.compile``) are dropped, and ``rename`` maps
anything else.  Every mismatch (missing, unexpected, wrong shape, a dtype
NumPy cannot hold) is reported together, and with ``strict=True`` nothing is
loaded unless everything fits.  Values are cast to the model's dtypes.
"""
from ..errors import ArgumentError
from .checkpoint import CheckpointError

_WRAPPER_PREFIXES = ("module.", "_orig_mod.")


class ImportReport:
    """What ``load_torch_weights`` did: ``loaded`` (names), ``missing`` (the
    model's names the file lacks), ``unexpected`` (the file's names the model
    lacks), ``mismatched`` ([(name, file shape, model shape)]), ``renamed``
    ({file name: model name} where they differ)."""

    def __init__(self, loaded, missing, unexpected, mismatched, renamed):
        self.loaded, self.missing, self.unexpected = loaded, missing, unexpected
        self.mismatched, self.renamed = mismatched, renamed

    @property
    def ok(self):
        return not (self.missing or self.unexpected or self.mismatched)

    def __str__(self):
        lines = [f"loaded {len(self.loaded)} tensors"]
        if self.renamed:
            lines.append("renamed: " + ", ".join(f"{a} -> {b}"
                                                 for a, b in self.renamed.items()))
        if self.missing:
            lines.append("missing from the file: " + ", ".join(self.missing))
        if self.unexpected:
            lines.append("not in the model: " + ", ".join(self.unexpected))
        for name, got, want in self.mismatched:
            lines.append(f"shape mismatch for {name}: file {list(got)}, "
                         f"model {list(want)}")
        return "\n".join(lines)

    __repr__ = __str__


def read_torch_safetensors(path):
    """{name: Tensor} from a safetensors file written by ``safetensors.torch``."""
    try:
        from safetensors import SafetensorError
        from safetensors.numpy import load_file
    except ImportError:
        raise ImportError("load_torch_weights needs safetensors: pip install "
                          "'chainrule[io]'") from None
    from ..ops import from_numpy

    try:
        arrays = load_file(str(path))
    except (SafetensorError, OSError, ValueError, TypeError) as e:
        msg = str(e)
        if "bf16" in msg.lower() or "bfloat16" in msg.lower():
            msg = ("it holds bfloat16 tensors, which NumPy cannot represent; "
                   "convert them in PyTorch first (sd = {k: v.float() ...})")
        raise CheckpointError(f"load_torch_weights: cannot read {path}: {msg}") \
            from None
    return {k: from_numpy(a.copy()) for k, a in arrays.items()}


def _map_name(name, own, rename):
    if rename is not None:
        new = rename(name) if callable(rename) else rename.get(name, name)
        if new is not None:
            name = new
    if name not in own:
        for pre in _WRAPPER_PREFIXES:
            if name.startswith(pre) and name[len(pre):] in own:
                return name[len(pre):]
    return name


def load_torch_weights(model, path, strict=True, rename=None):
    """Load a PyTorch ``state_dict`` saved as safetensors into ``model``.

    ``rename``: a dict or a function from the file's names to the model's
    (returning None keeps a name).  ``strict``: raise, listing every
    mismatch and loading nothing, unless the names and shapes match exactly;
    with ``strict=False`` the matching tensors load and the rest is reported.
    Returns an :class:`ImportReport`.
    """
    if not hasattr(model, "state_dict"):
        raise ArgumentError("load_torch_weights: expected a chainrule nn.Module, got "
                            f"{type(model).__name__}")
    state = read_torch_safetensors(path)
    own = model.state_dict(keep_vars=True)
    mapped, renamed = {}, {}
    for name, t in state.items():
        new = _map_name(name, own, rename)
        if new != name:
            renamed[name] = new
        mapped[new] = t
    missing = [k for k in own if k not in mapped]
    unexpected = [k for k in mapped if k not in own]
    mismatched = [(k, tuple(t.shape), tuple(own[k].shape)) for k, t in mapped.items()
                  if k in own and tuple(t.shape) != tuple(own[k].shape)]
    bad = {k for k, _, _ in mismatched}
    report = ImportReport([k for k in mapped if k in own and k not in bad], missing,
                          unexpected, mismatched, renamed)
    if strict and not report.ok:
        raise CheckpointError(f"load_torch_weights: {path} does not fit "
                              f"{type(model).__name__}; nothing was loaded:\n"
                              + str(report).split("\n", 1)[-1])
    subset = {k: mapped[k].to(dtype=own[k].dtype) for k in report.loaded}
    model.load_state_dict(subset, strict=False)
    return report


def save_torch_weights(model, path):
    """Write ``model.state_dict()`` as a flat safetensors file under PyTorch's
    names, which ``safetensors.torch.load_file`` reads into a ``state_dict``
    for the matching PyTorch model.  Returns the path."""
    try:
        from safetensors.numpy import save_file
    except ImportError:
        raise ImportError("save_torch_weights needs safetensors: pip install "
                          "'chainrule[io]'") from None
    if not hasattr(model, "state_dict"):
        raise ArgumentError("save_torch_weights: expected a chainrule nn.Module, got "
                            f"{type(model).__name__}")
    arrays = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    save_file(arrays, str(path))
    return path
