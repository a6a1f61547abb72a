"""Parameter groups with discriminative learning rates (ULMFiT): layers near
the input, which hold general features, learn more slowly than the head."""
from ..errors import ArgumentError


def discriminative_groups(model, lr, decay=2.6, groups=None):
    """Optimizer parameter groups ``[{'params': [...], 'lr': ...}, ...]``.

    ``groups``: a list of submodule names (or modules), input side first; by
    default the model's top-level children that hold parameters.  The last
    group gets ``lr``, each earlier one ``decay`` times less.  Parameters of
    ``model`` not in any group are left out (e.g. frozen ones you never
    train).  Frozen parameters in a group are kept: they join the training
    when unfrozen.
    """
    if not isinstance(lr, (int, float)) or lr <= 0:
        raise ArgumentError(f"discriminative_groups: lr must be > 0, got {lr!r}")
    if not isinstance(decay, (int, float)) or decay < 1:
        raise ArgumentError(f"discriminative_groups: decay must be >= 1, got "
                            f"{decay!r}")
    mods = resolve_groups(model, groups, "discriminative_groups")
    out, seen = [], set()
    for i, m in enumerate(mods):
        params = [p for p in m.parameters() if id(p) not in seen]
        seen.update(id(p) for p in params)
        out.append({"params": params, "lr": lr / decay ** (len(mods) - 1 - i)})
    return out


def resolve_groups(model, groups, who):
    """The modules of ``groups`` (names or modules); default: the top-level
    children that own parameters."""
    if groups is None:
        mods = [m for _, m in model.named_children() if list(m.parameters())]
    else:
        mods = []
        for g in groups:
            if isinstance(g, str):
                try:
                    g = model.get_submodule(g)
                except AttributeError:
                    raise ArgumentError(f"{who}: {type(model).__name__} has no "
                                        f"submodule {g!r}") from None
            if not hasattr(g, "parameters"):
                raise ArgumentError(f"{who}: groups must be submodule names or "
                                    f"modules, got {type(g).__name__}")
            mods.append(g)
    if not mods:
        raise ArgumentError(f"{who}: no groups with parameters in "
                            f"{type(model).__name__}")
    return mods
