"""Replacing the head (the last layers) of a trained network."""
from ..errors import ArgumentError


def replace_head(model, name, new):
    """Put module ``new`` at dotted ``name`` of ``model`` (``'fc'``,
    ``'classifier.3'``; for an ``nn.Sequential`` ``'-1'`` names the last
    layer) and return the module it replaces."""
    if not isinstance(name, str) or not name:
        raise ArgumentError(f"replace_head: name must be a dotted submodule name, "
                            f"got {name!r}")
    if not hasattr(new, "parameters"):
        raise ArgumentError(f"replace_head: new must be an nn.Module, got "
                            f"{type(new).__name__}")
    path, _, attr = name.rpartition(".")
    try:
        parent = model.get_submodule(path)
    except AttributeError:
        raise ArgumentError(f"replace_head: {type(model).__name__} has no submodule "
                            f"{path!r}") from None
    children = dict(parent.named_children())
    if attr.lstrip("-").isdigit() and attr not in children:
        keys = list(children)
        if not -len(keys) <= int(attr) < len(keys):
            raise ArgumentError(f"replace_head: index {attr} out of range for "
                                f"{type(parent).__name__} of {len(keys)} modules")
        attr = keys[int(attr)]
    if attr not in children:
        raise ArgumentError(f"replace_head: {type(parent).__name__} has no submodule "
                            f"{attr!r} (children: {', '.join(children)})")
    old = children[attr]
    setattr(parent, attr, new)
    return old
