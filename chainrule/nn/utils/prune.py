"""Magnitude and random pruning with masks, PyTorch's mechanics.

Pruning parameter ``weight`` of a module:

- moves the Parameter to ``weight_orig`` (still trained),
- adds a buffer ``weight_mask`` of 0s (pruned) and 1s (kept),
- makes ``weight`` a plain attribute equal to ``weight_orig * weight_mask``,
  recomputed before every forward by a forward pre-hook (the method object).

Pruning again only considers the entries still kept, so ``amount=0.2``
applied three times keeps 0.8^3 of the weights (iterative magnitude pruning
for lottery-ticket experiments).  :func:`remove` bakes the mask into a plain
``weight`` Parameter again.  Both ``weight_orig`` and ``weight_mask`` appear
in the state dict, as in PyTorch.
"""
import numbers

from ...autograd.grad_mode import no_grad
from ...errors import ArgumentError, ShapeError, fmt_shape
from ...ops import abs, cat, ones, ones_like, rand, topk, zeros


def _validate_amount(amount, op):
    """``amount`` is a fraction in [0, 1] or a non-negative count."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise ArgumentError(f"{op}: amount must be a float in [0, 1] or a "
                            f"non-negative int, got {amount!r}")
    if isinstance(amount, numbers.Integral) and amount < 0:
        raise ArgumentError(f"{op}: amount={amount} should be a non-negative integer")
    if not isinstance(amount, numbers.Integral) and not 0.0 <= amount <= 1.0:
        raise ArgumentError(f"{op}: amount={amount} should be a float in the range "
                            "[0, 1]")


def _nparams_to_prune(amount, n, op):
    """How many of ``n`` entries ``amount`` means (fractions are rounded)."""
    if isinstance(amount, numbers.Integral):
        if amount > n:
            raise ArgumentError(f"{op}: amount={amount} should be smaller than the "
                                f"number of parameters to prune={n}")
        return int(amount)
    return round(amount * n)


def _zero_at(mask, idx):
    """A copy of ``mask`` with the flat positions ``idx`` set to 0."""
    flat = mask.reshape(-1).clone()
    flat[idx] = 0.0
    return flat.reshape(mask.shape)


class BasePruningMethod:
    """A pruning rule: ``compute_mask(t, default_mask)`` gives the new mask.

    The instance is also the forward pre-hook that refreshes the pruned
    attribute from ``<name>_orig * <name>_mask``.
    """

    PRUNING_TYPE = "unstructured"
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def _combined_mask(self, t, default_mask):
        """Apply ``compute_mask`` to the entries ``default_mask`` still keeps."""
        if self.PRUNING_TYPE == "structured":
            return self._combined_structured(t, default_mask)
        if self.PRUNING_TYPE != "unstructured":
            return self.compute_mask(t, default_mask)
        keep = default_mask == 1
        partial = self.compute_mask(t[keep], default_mask[keep])
        new = default_mask.clone()
        new[keep] = partial
        return new

    def _combined_structured(self, t, default_mask):
        """Prune ``amount`` of the slices along ``dim`` still alive (as PyTorch's
        pruning container does when structured pruning is repeated)."""
        if not -t.ndim <= self.dim < t.ndim:
            raise ArgumentError(f"{self.NAME}: dim={self.dim} is out of range for a "
                                f"tensor of shape {fmt_shape(t.shape)}")
        dim = self.dim % t.ndim
        others = tuple(d for d in range(t.ndim) if d != dim)
        alive = (default_mask.sum(dim=others) != 0) if others else default_mask != 0
        idx = alive.nonzero().reshape(-1)
        partial = self.compute_mask(t.index_select(dim, idx),
                                    default_mask.index_select(dim, idx))
        kept = (partial.sum(dim=others) != 0) if others else partial != 0
        keep = zeros(t.shape[dim], dtype=default_mask.dtype)
        keep[idx] = kept.to(default_mask.dtype)
        shape = [1] * t.ndim
        shape[dim] = t.shape[dim]
        return default_mask * keep.reshape(shape)

    def apply_mask(self, module):
        name = self._tensor_name
        return getattr(module, name + "_orig") * getattr(module, name + "_mask")

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.<name>`` with ``cls(*args, **kwargs)``; returns the method."""
        method = cls(*args, **kwargs)
        method._tensor_name = name
        old_key = _hook_key(module, name)
        if old_key is None:
            orig = module._parameters.get(name)
            if orig is None:
                raise ArgumentError(f"prune: module {type(module).__name__} has no "
                                    f"parameter named {name!r}")
            del module._parameters[name]
            module.register_parameter(name + "_orig", orig)
            default_mask = ones_like(orig)
        else:
            orig = getattr(module, name + "_orig")
            default_mask = getattr(module, name + "_mask").detach().clone()
            del module._forward_pre_hooks[old_key]
        scores = orig if importance_scores is None else importance_scores
        if scores.shape != orig.shape:
            raise ShapeError(f"prune: importance_scores of shape "
                             f"{fmt_shape(scores.shape)} must match {name!r} of shape "
                             f"{fmt_shape(orig.shape)}")
        with no_grad():
            mask = method._combined_mask(scores.detach(), default_mask)
        module.register_buffer(name + "_mask", mask)
        setattr(module, name, method.apply_mask(module))
        module.register_forward_pre_hook(method)
        return method

    def remove(self, module):
        """Make the pruning permanent: ``<name>`` becomes a Parameter again."""
        name = self._tensor_name
        orig = module._parameters[name + "_orig"]
        with no_grad():
            orig.copy_(self.apply_mask(module))
        if name in module.__dict__:
            delattr(module, name)
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        module.register_parameter(name, orig)


def _hook_key(module, name):
    for k, (hook, _) in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            return k
    return None


class Identity(BasePruningMethod):
    """Prunes nothing (adds the ``_orig``/``_mask`` machinery only)."""

    def compute_mask(self, t, default_mask):
        return default_mask


class L1Unstructured(BasePruningMethod):
    """Zero the ``amount`` entries of smallest absolute value."""

    def __init__(self, amount):
        _validate_amount(amount, "l1_unstructured")
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _nparams_to_prune(self.amount, t.numel(), "l1_unstructured")
        if k == 0:
            return default_mask.clone()
        idx = topk(abs(t).reshape(-1), k, largest=False).indices
        return _zero_at(default_mask, idx)


class RandomUnstructured(BasePruningMethod):
    """Zero ``amount`` entries chosen uniformly at random."""

    def __init__(self, amount):
        _validate_amount(amount, "random_unstructured")
        self.amount = amount

    def compute_mask(self, t, default_mask):
        k = _nparams_to_prune(self.amount, t.numel(), "random_unstructured")
        if k == 0:
            return default_mask.clone()
        idx = topk(rand(t.numel(), dtype=default_mask.dtype), k).indices
        return _zero_at(default_mask, idx)


class CustomFromMask(BasePruningMethod):
    """Use a given 0/1 mask (combined with any existing one)."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        if self.mask.shape != default_mask.shape:
            raise ShapeError(f"custom_from_mask: mask of shape "
                             f"{fmt_shape(self.mask.shape)} must match the parameter's "
                             f"shape {fmt_shape(default_mask.shape)}")
        return default_mask * self.mask.to(default_mask.dtype)


class LnStructured(BasePruningMethod):
    """Zero the ``amount`` slices along ``dim`` (e.g. output channels, dim 0)
    of smallest L``n`` norm, as PyTorch's: the norms are taken of the
    importance scores (by default the unmasked weights), and the new mask
    is combined with the old one."""

    PRUNING_TYPE = "structured"
    NAME = "ln_structured"

    def __init__(self, amount, n, dim=-1):
        _validate_amount(amount, "ln_structured")
        if n not in (1, 2) and not (isinstance(n, numbers.Real) and n > 0):
            raise ArgumentError(f"ln_structured: n must be a positive number (1 or 2 "
                                f"for L1, L2), got {n!r}")
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        if not -t.ndim <= self.dim < t.ndim:
            raise ArgumentError(f"ln_structured: dim={self.dim} is out of range for a "
                                f"tensor of shape {fmt_shape(t.shape)}")
        dim = self.dim % t.ndim
        size = t.shape[dim]
        k = _nparams_to_prune(self.amount, size, "ln_structured")
        if k == 0:
            return default_mask.clone()
        others = tuple(d for d in range(t.ndim) if d != dim)
        norms = (abs(t) ** self.n).sum(dim=others) ** (1.0 / self.n) if others \
            else abs(t)
        keep = ones(size, dtype=default_mask.dtype)
        keep[topk(norms, k, largest=False).indices] = 0.0
        shape = [1] * t.ndim
        shape[dim] = size
        return default_mask * keep.reshape(shape)


def identity(module, name):
    """Add pruning re-parametrisation to ``module.<name>`` without pruning."""
    Identity.apply(module, name)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune the ``amount`` (fraction or count) smallest-magnitude entries of
    ``module.<name>`` (or of ``importance_scores``) that are not pruned yet."""
    L1Unstructured.apply(module, name, amount, importance_scores=importance_scores)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` random entries of ``module.<name>`` not pruned yet."""
    RandomUnstructured.apply(module, name, amount)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune the ``amount`` (fraction or count) slices of ``module.<name>`` along
    ``dim`` with the smallest L``n`` norm (structured pruning: whole output
    channels or neurons for ``dim=0``)."""
    LnStructured.apply(module, name, amount, n, dim,
                       importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.<name>`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune across several tensors at once: e.g. the 20% smallest weights of
    the whole network rather than 20% of each layer.

    ``parameters``: ``(module, name)`` pairs; ``pruning_method``: a class such
    as :class:`L1Unstructured`; ``kwargs`` go to it (e.g. ``amount=0.2``).
    """
    params = list(parameters)
    if not params:
        raise ArgumentError("global_unstructured: parameters is empty")
    importance_scores = importance_scores or {}
    scores, masks = [], []
    for module, name in params:
        t = importance_scores.get((module, name), getattr(module, name))
        scores.append(t.detach().reshape(-1))
        m = getattr(module, name + "_mask", None)
        masks.append((ones_like(t) if m is None else m).reshape(-1))
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise ArgumentError(f"global_unstructured: only unstructured pruning methods "
                            f"can prune globally, got {pruning_method.__name__}")
    with no_grad():
        final = method._combined_mask(cat(scores), cat(masks))
    at = 0
    for module, name in params:
        shape = getattr(module, name).shape
        n = getattr(module, name).numel()
        custom_from_mask(module, name, final[at:at + n].reshape(shape))
        at += n


def remove(module, name):
    """Make the pruning of ``module.<name>`` permanent and drop the mask."""
    key = _hook_key(module, name)
    if key is None:
        raise ArgumentError(f"prune.remove: parameter {name!r} of "
                            f"{type(module).__name__} has not been pruned")
    hook = module._forward_pre_hooks.pop(key)[0]
    hook.remove(module)
    return module


def is_pruned(module):
    """True when ``module`` or any submodule has a pruned parameter."""
    return any(isinstance(h, BasePruningMethod)
               for m in module.modules() for h, _ in m._forward_pre_hooks.values())

