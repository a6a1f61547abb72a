"""The ``Optimizer`` base class: parameter groups, state and checkpoints.

An optimizer holds ``param_groups`` -- a list of dicts, each with a
``'params'`` list and its own hyper-parameters (missing ones come from
``defaults``) -- and ``state``, a dict keyed by parameter holding per-parameter
buffers (moments, step counts).  Subclasses implement ``step`` with in-place
Tensor methods under ``no_grad``, so every update goes through the primitive
dispatcher like any other computation.

``state_dict()`` uses PyTorch's layout::

    {'state': {0: {'step': tensor(3.), 'exp_avg': tensor(...)}, ...},
     'param_groups': [{'lr': 0.1, ..., 'params': [0, 1]}, ...]}

where parameters are numbered in group order.
"""
import copy
import math
import numbers
from collections import OrderedDict, defaultdict

from ..autograd.grad_mode import enable_grad
from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..tensor import Tensor


class _RequiredParameter:
    """Marks a default that every parameter group must set (no sensible default)."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()
_MISSING = object()


class _HookHandle:
    """Returned by ``register_step_*_hook``; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = _HookHandle._next_id
        _HookHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)


def _hooked(step):
    """Wrap a subclass's ``step`` so it runs the step hooks and is counted.

    Schedulers read ``_opt_called`` to warn when they are stepped before the
    optimizer, as PyTorch does.
    """

    def wrapper(self, *args, **kwargs):
        if self._in_step:  # a subclass's step calling super().step()
            return step(self, *args, **kwargs)
        for hook in list(self._step_pre_hooks.values()):
            res = hook(self, args, kwargs)
            if res is not None:
                args, kwargs = res
        self._in_step = True
        try:
            out = step(self, *args, **kwargs)
        finally:
            self._in_step = False
        self._opt_called = True
        for hook in list(self._step_post_hooks.values()):
            hook(self, args, kwargs)
        return out

    wrapper.__name__ = step.__name__
    wrapper.__qualname__ = step.__qualname__
    wrapper.__doc__ = step.__doc__
    wrapper._hooked = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    ``params``: an iterable of Tensors (or of ``(name, Tensor)`` pairs), or of
    dicts defining parameter groups.  ``defaults``: hyper-parameter values for
    groups that do not set them.
    """

    _in_step = False
    _opt_called = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_hooked", False):
            cls.step = _hooked(step)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        self._step_pre_hooks = OrderedDict()
        self._step_post_hooks = OrderedDict()
        self._check_group({k: v for k, v in self.defaults.items()
                           if v is not required}, "")
        if isinstance(params, Tensor):
            raise DTypeError(
                f"{self._name}: params must be an iterable of Tensors or of dicts "
                f"(parameter groups), got a single Tensor of shape "
                f"{fmt_shape(params.shape)}; wrap it in a list: [tensor]")
        if isinstance(params, (set, frozenset)):
            raise DTypeError(self._set_message())
        try:
            groups = list(params)
        except TypeError:
            raise DTypeError(
                f"{self._name}: params must be an iterable of Tensors or of dicts "
                f"(parameter groups), got {type(params).__name__}") from None
        if not groups:
            raise ArgumentError(
                f"{self._name}: got an empty parameter list; pass the tensors to "
                "optimize, e.g. model.parameters()")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self):
        return type(self).__name__

    def _set_message(self):
        return (f"{self._name}: parameters must be given in an ordered collection "
                "(a list or tuple), not a set: the order of a set changes between "
                "runs, and state_dict() numbers parameters by position")

    # -- parameter groups --------------------------------------------------------------
    def add_param_group(self, param_group):
        """Append a group: a dict with ``'params'`` and optional hyper-parameters.

        Useful when fine-tuning: unfreeze layers and add them with their own
        learning rate.  Missing hyper-parameters take the optimizer's defaults.
        """
        name = self._name
        if not isinstance(param_group, dict):
            raise DTypeError(f"{name}.add_param_group: a parameter group must be a "
                             f"dict with a 'params' key, got "
                             f"{type(param_group).__name__}")
        if "params" not in param_group:
            raise ArgumentError(f"{name}.add_param_group: the parameter group has no "
                                f"'params' key (keys: {sorted(param_group)})")
        group = dict(param_group)
        raw = group["params"]
        if isinstance(raw, Tensor):
            raw = [raw]
        elif isinstance(raw, (set, frozenset)):
            raise DTypeError(self._set_message())
        raw = list(raw)
        names = [p[0] for p in raw if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in raw]
        if names and len(names) != len(params):
            raise ArgumentError(f"{name}: either every parameter of a group has a "
                                "name, as (name, tensor) pairs, or none has")
        if names:
            group["param_names"] = names
        group["params"] = params
        for i, p in enumerate(params):
            self._check_param(p, i)
        for key, default in self.defaults.items():
            if default is required and key not in group:
                raise ArgumentError(f"{name}: parameter group {len(self.param_groups)} "
                                    f"doesn't set the required hyper-parameter "
                                    f"{key!r}, and it has no default")
            group.setdefault(key, default)
        self._check_group(group, f" (parameter group {len(self.param_groups)})")
        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ArgumentError(f"{name}: a parameter group lists the same tensor "
                                "more than once; it would be updated twice per step")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if id(p) in seen:
                raise ArgumentError(
                    f"{name}: parameter {i} of the new group (shape "
                    f"{fmt_shape(p.shape)}) is already in another parameter group; "
                    "each parameter may appear in only one group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                raise ArgumentError(f"{name}: either every parameter group is given "
                                    "with names or none is")
        self.param_groups.append(group)

    def _check_param(self, p, i):
        name = self._name
        if not isinstance(p, Tensor):
            raise DTypeError(f"{name}: can only optimize Tensors, but parameter {i} "
                             f"is a {type(p).__name__}")
        if not p.is_floating_point():
            raise ArgumentError(f"{name}: can only optimize floating-point tensors, "
                                f"but parameter {i} is {p.dtype.name} "
                                f"{fmt_shape(p.shape)}; convert it with .float()")
        if not p.is_leaf and not p.retains_grad:
            raise ArgumentError(
                f"{name}: can't optimize a non-leaf tensor (parameter {i}, shape "
                f"{fmt_shape(p.shape)}, computed by {p.grad_fn!r}); pass leaf tensors "
                "such as nn.Parameter or x.detach().requires_grad_()")

    def _check_group(self, group, where):
        """Validate a group's hyper-parameters; subclasses call the helpers below."""

    def _check_range(self, group, key, lo=0.0, hi=math.inf, lo_open=False,
                     hi_open=False, where="", value=_MISSING, label=None):
        """Raise unless ``group[key]`` is a real number in the stated interval.

        A missing key (a ``required`` hyper-parameter while checking the
        defaults) is left for :meth:`add_param_group` to report.
        """
        if value is _MISSING and key not in group:
            return
        v = group[key] if value is _MISSING else value
        label = label or key
        if isinstance(v, Tensor) and v.numel() == 1:
            v = v.item()
        ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and v == v
        if ok:
            ok = (v > lo if lo_open else v >= lo) and (v < hi if hi_open else v <= hi)
        if not ok:
            interval = ("(" if lo_open else "[") + _num(lo) + ", " + _num(hi) + (
                ")" if hi_open or hi == math.inf else "]")
            raise ArgumentError(f"{self._name}: invalid {label}{where}: got {v!r}; "
                                f"it must be a number in {interval}")

    def _check_betas(self, group, where):
        if "betas" not in group:
            return
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ArgumentError(f"{self._name}: invalid betas{where}: got {betas!r}; "
                                "it must be a pair (beta1, beta2), each in [0, 1)")
        for i in (0, 1):
            self._check_range(group, "betas", 0.0, 1.0, hi_open=True, where=where,
                              value=betas[i], label=f"betas[{i}]")

    def _check_int(self, group, key, lo, where):
        if key not in group:
            return
        v = group[key]
        if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < lo:
            raise ArgumentError(f"{self._name}: invalid {key}{where}: got {v!r}; it "
                                f"must be an integer >= {lo}")

    # -- stepping ----------------------------------------------------------------------
    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None, or to zeros in place)."""
        from ..autograd.grad_mode import no_grad

        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    with no_grad():
                        p.grad.zero_()

    def step(self, closure=None):
        """Update the parameters once; subclasses implement this."""
        raise NotImplementedError(f"{self._name} does not implement step()")

    @staticmethod
    def _evaluate(closure):
        """Run ``closure`` (which recomputes the loss) with gradients recorded."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _grad(self, p, maximize):
        """The gradient to descend along: ``-grad`` when maximizing.

        Never the ``.grad`` tensor itself modified in place: it may be shared.
        """
        return p.grad.neg() if maximize else p.grad

    def register_step_pre_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs before each ``step``.

        It may return new ``(args, kwargs)``.  Returns a handle with ``remove()``.
        """
        h = _HookHandle(self._step_pre_hooks)
        self._step_pre_hooks[h.id] = hook
        return h

    def register_step_post_hook(self, hook):
        """``hook(optimizer, args, kwargs)`` runs after each ``step``."""
        h = _HookHandle(self._step_post_hooks)
        self._step_post_hooks[h.id] = hook
        return h

    # -- checkpoints -------------------------------------------------------------------
    def state_dict(self):
        """``{'state': {index: {...}}, 'param_groups': [{..., 'params': [...]}]}``.

        Parameters are numbered in group order.  Like PyTorch, the state tensors
        are the live buffers (not copies): save the dict, or ``copy.deepcopy``
        it, to keep a snapshot while training continues.
        """
        index = {}
        groups = []
        for g in self.param_groups:
            packed = {k: _listify(v) for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        state = {index[id(p)]: dict(s) for p, s in self.state.items()
                 if id(p) in index and s}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state saved by :meth:`state_dict`.

        Groups and parameters are matched by position; the counts and the
        shapes of per-parameter buffers must agree.  Tensors are copied (and
        floating-point ones cast to their parameter's dtype), never aliased.
        """
        name = f"{self._name}.load_state_dict"
        if (not isinstance(state_dict, dict) or "state" not in state_dict
                or "param_groups" not in state_dict):
            raise ArgumentError(f"{name}: expected a dict with keys 'state' and "
                                "'param_groups' (from Optimizer.state_dict()), got "
                                f"{_describe(state_dict)}")
        saved_groups = state_dict["param_groups"]
        for gi, sg in enumerate(saved_groups):
            if not isinstance(sg, dict) or "params" not in sg:
                raise ArgumentError(f"{name}: parameter group {gi} of the state dict "
                                    "must be a dict with a 'params' list, got "
                                    f"{_describe(sg)}")
        if len(saved_groups) != len(self.param_groups):
            raise ArgumentError(
                f"{name}: the state dict has {len(saved_groups)} parameter group(s) "
                f"but this optimizer has {len(self.param_groups)}")
        id_map = {}
        for gi, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(sg["params"]):
                raise ArgumentError(
                    f"{name}: parameter group {gi} of the state dict has "
                    f"{len(sg['params'])} parameter(s) but the optimizer's group "
                    f"{gi} has {len(g['params'])}")
            id_map.update(zip(sg["params"], g["params"]))
        new_state = defaultdict(dict)
        for key, pstate in state_dict["state"].items():
            k = int(key) if isinstance(key, str) and key.isdigit() else key
            if k not in id_map:
                raise ArgumentError(f"{name}: the state dict has state for parameter "
                                    f"{key!r}, which no parameter group lists")
            p = id_map[k]
            self._check_state_shapes(p, pstate, k, name)
            new_state[p] = {sk: _copy_value(v, p, sk) for sk, v in pstate.items()}
        new_groups = []
        for gi, (g, sg) in enumerate(zip(self.param_groups, saved_groups)):
            ng = {k: _tuplify(v, g.get(k)) for k, v in copy.deepcopy(
                {k: v for k, v in sg.items() if k != "params"}).items()}
            for k, v in self.defaults.items():
                ng.setdefault(k, v)
            ng["params"] = g["params"]
            if "param_names" in g and "param_names" not in ng:
                ng["param_names"] = g["param_names"]
            self._check_group(ng, f" (parameter group {gi} of the state dict)")
            new_groups.append(ng)
        self.state = new_state
        self.param_groups = new_groups

    def _check_state_shapes(self, p, pstate, index, name):
        """Buffers with dimensions must have their parameter's shape."""
        if not isinstance(pstate, dict):
            raise ArgumentError(f"{name}: the state of parameter {index} must be a "
                                f"dict, got {_describe(pstate)}")
        for k, v in pstate.items():
            if isinstance(v, Tensor) and v.ndim > 0 and v.shape != p.shape:
                raise ShapeError(
                    f"{name}: state {k!r} of parameter {index} has shape "
                    f"{fmt_shape(v.shape)}, but the parameter has shape "
                    f"{fmt_shape(p.shape)}")

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(g):
                if k != "params":
                    lines.append(f"    {k}: {g[k]}")
        lines.append(")")
        return "\n".join(lines)


def _num(x):
    if x == math.inf:
        return "inf"
    return repr(float(x)) if isinstance(x, float) else str(x)


def _describe(x):
    return type(x).__name__ + (f" with keys {sorted(map(str, x))}"
                               if isinstance(x, dict) else "")


def _listify(v):
    """Tuples become lists, so a state dict holds only JSON-like containers."""
    return [_listify(x) for x in v] if isinstance(v, tuple) else v


def _tuplify(v, current):
    """Undo :func:`_listify` for hyper-parameters that are tuples here (betas)."""
    if isinstance(current, tuple) and isinstance(v, list):
        return tuple(v)
    return v


_SCALAR_STATE = ("step", "mu_product")


def _copy_value(v, p, key):
    """Deep-copy a saved state value; floating tensors take the parameter's dtype.

    ``step`` keeps its own dtype (a float32 counter), as in PyTorch; a plain
    number there (or in ``mu_product``) becomes a 0-d tensor, the form the
    optimizers update in place.
    """
    if key in _SCALAR_STATE and isinstance(v, numbers.Real):
        from ..ops import tensor

        return tensor(float(v))
    if isinstance(v, Tensor):
        out = v.detach().clone()
        if key != "step" and out.is_floating_point() and out.dtype != p.dtype:
            out = out.to(p.dtype)
        return out
    if isinstance(v, dict):
        return {k: _copy_value(x, p, k) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return type(v)(_copy_value(x, p, key) for x in v)
    return copy.deepcopy(v)
