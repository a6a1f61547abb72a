"""``Module``: the base of every layer, with PyTorch's registration rules.

Assigning a :class:`Parameter` to an attribute registers it in
``_parameters``; a Module goes to ``_modules``; ``register_buffer`` puts
state such as running means in ``_buffers``.  Names are dotted paths
(``encoder.0.weight``), so state dicts line up with PyTorch's.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from ..autograd.grad_mode import _state as _grad_state
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, ChainruleError, ShapeError, fmt_shape
from ..ops import to_dtype
from ..ops.nn_ops import hook_identity
from ..tensor import Tensor
from .parameter import Buffer, Parameter


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys",
                                                        "unexpected_keys"])):
    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()


class _Handle:
    def __init__(self, d, key):
        self._d, self._key = d, key

    def remove(self):
        self._d.pop(self._key, None)


def _locate(err, module):
    """Prefix ``err``'s message with where in the model it was raised.

    The innermost module's ``__call__`` tags the error with itself; each
    enclosing module that called it then finds the child's attribute name,
    so the message reads ``in encoder.fc1 (Linear): ...`` once it reaches
    the top, whatever layer raised it.
    """
    d = err.__dict__
    last = d.get("_cr_module")
    if last is None:
        d["_cr_msg"], d["_cr_path"], d["_cr_cls"] = (
            str(err.args[0]) if err.args else "", [], type(module).__name__)
    elif last is not module:
        name = next((k for k, m in module._modules.items() if m is last), None)
        if name is None:  # a layer held in a container we index (ModuleList...)
            name = next((k for k, m in module.named_modules() if m is last and k), None)
        if name is None:  # raised by a module that is not our descendant
            return
        d["_cr_path"].insert(0, name)
        path = ".".join(d["_cr_path"])
        err.args = (f"in {path} ({d['_cr_cls']}): {d['_cr_msg']}",) + err.args[1:]
    d["_cr_module"] = module


class _BackwardHookCall:
    """One call's backward hooks: inputs and outputs pass through
    ``hook_identity`` nodes, whose backward hand over all gradients at once."""

    def __init__(self, module):
        self.module = module
        self.tensor_pos = []  # positions of Tensor args
        self.grad_pos = []  # those that require grad (wrapped)
        self.grad_output = None

    def wrap_inputs(self, args):
        self.tensor_pos = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        self.grad_pos = [i for i in self.tensor_pos if args[i].requires_grad]
        if not self.grad_pos:
            return args
        new = hook_identity([args[i] for i in self.grad_pos], self._on_inputs)
        args = list(args)
        for i, t in zip(self.grad_pos, new):
            args[i] = t
        return tuple(args)

    def wrap_outputs(self, out):
        single = isinstance(out, Tensor)
        flat = [out] if single else list(out) if isinstance(out, (tuple, list)) else []
        pos = [i for i, o in enumerate(flat)
               if isinstance(o, Tensor) and o.requires_grad]
        if not pos:
            return out
        new = hook_identity([flat[i] for i in pos], self._on_outputs)
        for i, t in zip(pos, new):
            flat[i] = t
        return flat[0] if single else type(out)(flat)

    def _on_outputs(self, grads):
        m = self.module
        for hook, _ in list(m._backward_pre_hooks.values()):
            res = hook(m, grads)
            if res is not None:
                grads = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        self.grad_output = grads
        if not self.grad_pos:  # no input needs a gradient: report now
            self._run_full((None,) * len(self.tensor_pos))
        return grads

    def _on_inputs(self, grads):
        full = dict(zip(self.grad_pos, grads))
        res = self._run_full(tuple(full.get(i) for i in self.tensor_pos))
        return tuple(res[self.tensor_pos.index(i)] for i in self.grad_pos)

    def _run_full(self, grad_input):
        m = self.module
        for hook, _ in list(m._backward_hooks.values()):
            res = hook(m, grad_input, self.grad_output)
            if res is not None:
                grad_input = tuple(res) if isinstance(res, (tuple, list)) else (res,)
        return grad_input


class Module:
    """Base class of all layers and models: subclass it and define ``forward``."""

    _version = 1
    training = True

    def __init__(self, *args, **kwargs):
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_backward_pre_hooks"] = OrderedDict()
        d["_backward_hooks"] = OrderedDict()
        d["_hook_id"] = 0

    # -- forward --------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f"Module [{type(self).__name__}] is missing the required \"forward\" "
            "function")

    def __call__(self, *args, **kwargs):
        try:
            if self._forward_pre_hooks:
                args, kwargs = self._run_pre_hooks(args, kwargs)
            bw = None
            if (self._backward_hooks or self._backward_pre_hooks) and _grad_state.grad:
                bw = _BackwardHookCall(self)
                args = bw.wrap_inputs(args)
            out = self.forward(*args, **kwargs)
            if self._forward_hooks:
                out = self._run_hooks(args, kwargs, out)
            if bw is not None:
                out = bw.wrap_outputs(out)
        except ChainruleError as e:
            _locate(e, self)
            raise
        return out

    def _run_pre_hooks(self, args, kwargs):
        for hook, with_kwargs in list(self._forward_pre_hooks.values()):
            if with_kwargs:
                res = hook(self, args, kwargs)
                if res is not None:
                    args, kwargs = res
            else:
                res = hook(self, args)
                if res is not None:
                    args = res if isinstance(res, tuple) else (res,)
        return args, kwargs

    def _run_hooks(self, args, kwargs, out):
        for hook, with_kwargs in list(self._forward_hooks.values()):
            if with_kwargs:
                res = hook(self, args, kwargs, out)
            else:
                res = hook(self, args, out)
            if res is not None:
                out = res
        return out

    def _add_hook(self, store, hook, prepend, with_kwargs):
        self.__dict__["_hook_id"] += 1
        key = self._hook_id
        store[key] = (hook, with_kwargs)
        if prepend:
            store.move_to_end(key, last=False)
        return _Handle(store, key)

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args)`` runs before forward and may return new args.

        With ``with_kwargs=True`` it is ``hook(module, args, kwargs)`` and may
        return a new ``(args, kwargs)`` pair.  Returns a handle with ``remove()``.
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook, prepend=False):
        """``hook(module, grad_input, grad_output)`` runs when the gradients of
        this call's tensor inputs are known; it may return new ``grad_input``.

        Both are tuples over the positional Tensor arguments / the tensor
        outputs (None for inputs that need no gradient; zeros for outputs that
        got none).  Returns a handle with ``remove()``.
        """
        return self._add_hook(self._backward_hooks, hook, prepend, False)

    register_backward_hook = register_full_backward_hook

    def register_full_backward_pre_hook(self, hook, prepend=False):
        """``hook(module, grad_output)`` runs when the gradients of this call's
        outputs are known; it may return a new ``grad_output``."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend, False)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """``hook(module, args, output)`` runs after forward and may return a new
        output (``hook(module, args, kwargs, output)`` with ``with_kwargs``)."""
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    # -- registration -------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            if isinstance(value, (Parameter, Module)):
                raise AttributeError(
                    f"cannot assign "
                    f"{'parameters' if isinstance(value, Parameter) else 'module'} "
                    "before Module.__init__() call")
            object.__setattr__(self, name, value)
            return
        params, modules, buffers = d["_parameters"], d["_modules"], d["_buffers"]
        if isinstance(value, Parameter):
            self._drop(name, "_parameters")
            params[name] = value
        elif isinstance(value, Module):
            self._drop(name, "_modules")
            modules[name] = value
        elif isinstance(value, Buffer):
            self._drop(name, "_buffers")
            self.register_buffer(name, Tensor._make(value._data), value.persistent)
        elif name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter "
                                f"'{name}' (chainrule.nn.Parameter or None expected)")
            params[name] = None
        elif name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child "
                                f"module '{name}' (chainrule.nn.Module or None "
                                "expected)")
            modules[name] = None
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer "
                                f"'{name}' (chainrule.Tensor or None expected)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _drop(self, name, keep=None):
        """Forget ``name`` everywhere but in store ``keep``, where re-assigning
        keeps its position (so state-dict order does not change)."""
        d = self.__dict__
        d.pop(name, None)
        for k in ("_parameters", "_modules", "_buffers"):
            if k != keep:
                d[k].pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for k in ("_parameters", "_buffers", "_modules"):
            store = d.get(k)
            if store is not None and name in store:
                return store[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute "
                             f"'{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        for k in ("_parameters", "_buffers", "_modules"):
            if name in d[k]:
                del d[k][name]
                d["_non_persistent"].discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        return sorted(set(super().__dir__()) | set(self._parameters) |
                      set(self._buffers) | set(self._modules))

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``."""
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() "
                                 "call")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to "
                            f"parameter '{name}' (chainrule.nn.Parameter or None "
                            "required)")
        self._drop(name, "_parameters")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Register state that is saved in ``state_dict`` but not trained."""
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer "
                            f"'{name}' (chainrule.Tensor or None required)")
        self._drop(name, "_buffers")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if "." in name or name == "":
            raise KeyError(f"module name can't contain \".\" or be empty, got {name!r}")
        self._drop(name, "_modules")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        mod = self
        if target == "":
            return mod
        for item in target.split("."):
            if item not in mod._modules:
                raise AttributeError(f"{type(mod).__name__} has no attribute `{item}`")
            mod = mod._modules[item]
        return mod

    def get_parameter(self, target):
        mod_path, _, name = target.rpartition(".")
        return getattr(self.get_submodule(mod_path), name)

    # -- iteration ---------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(dotted name, module) for self and every descendant, each once."""
        if memo is None:
            memo = set()
        if remove_duplicate and id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            yield from m.named_modules(memo, prefix + ("." if prefix else "") + name,
                                       remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        seen = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in seen:
                seen.add(id(m))
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named_members(self, store, prefix, recurse, remove_duplicate=True):
        seen = set()
        mods = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for k, v in getattr(m, store).items():
                if v is None or (remove_duplicate and id(v) in seen):
                    continue
                seen.add(id(v))
                yield mp + ("." if mp else "") + k, v

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(dotted name, Parameter) pairs; shared parameters appear once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- state -------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict of every parameter and persistent buffer, by dotted name.

        The tensors are detached and share storage with the module.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy tensors from ``state_dict`` into this module's parameters and buffers.

        All problems are reported together: missing keys, unexpected keys (when
        ``strict``) and shape mismatches (always).  Nothing is modified unless
        the whole load can succeed.
        """
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        wrong = []
        for k, v in state_dict.items():
            if k in own:
                shape = tuple(getattr(v, "shape", np.shape(v)))
                if shape != own[k].shape:
                    wrong.append(f"size mismatch for {k}: copying a param with shape "
                                 f"{fmt_shape(shape)} from checkpoint, the shape in "
                                 f"current model is {fmt_shape(own[k].shape)}")
        errors = []
        if strict and missing:
            errors.append("Missing key(s) in state_dict: " +
                          ", ".join(f'"{k}"' for k in missing) + ".")
        if strict and unexpected:
            errors.append("Unexpected key(s) in state_dict: " +
                          ", ".join(f'"{k}"' for k in unexpected) + ".")
        errors += wrong
        if errors:
            raise ShapeError("Error(s) in loading state_dict for "
                             f"{type(self).__name__}:\n\t" + "\n\t".join(errors))
        with no_grad():
            for k, v in state_dict.items():
                if k not in own:
                    continue
                # np.asarray keeps a float64 array (or torch tensor) float64.
                own[k].copy_(v if isinstance(v, Tensor) else np.asarray(v))
        return _IncompatibleKeys(missing, unexpected)

    # -- modes and conversion ----------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ArgumentError(f"train: mode is expected to be a bool, got {mode!r}")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's ``.grad`` (to None by default)."""
        for p in self.parameters():
            if p.grad is not None:
                if set_to_none:
                    p.grad = None
                else:
                    with no_grad():
                        p.grad.zero_()

    def apply(self, fn):
        """Call ``fn`` on every submodule (children first) and self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _cast(self, np_dtype):
        with no_grad():
            for m in self.modules():
                for store in (m._parameters, m._buffers):
                    for k, t in store.items():
                        if t is not None and t.is_floating_point():
                            # Same Parameter object, new storage: optimizers and
                            # other references keep working.
                            t.data = to_dtype(t.detach(), np_dtype)
                            if t.grad is not None:
                                t.grad = to_dtype(t.grad, np_dtype)
        return self

    def to(self, *args, **kwargs):
        """``to(dtype)`` casts floating-point parameters and buffers in place;
        devices other than 'cpu' are rejected."""
        from .._device import check_device, is_device
        from .._dtype import as_dtype

        dtype = kwargs.get("dtype")
        check_device(kwargs.get("device"), "to")
        for a in args:
            if is_device(a):
                check_device(a, "to")
            else:
                dtype = a
        return self if dtype is None else self._cast(as_dtype(dtype).np)

    def float(self):
        return self._cast(np.float32)

    def double(self):
        return self._cast(np.float64)

    def cpu(self):
        return self

    def cuda(self, device=None):
        raise ArgumentError("cuda: no GPU backend; chainrule runs on the CPU (keep "
                            "the model on 'cpu', e.g. model.to('cpu'))")

    def half(self):
        from ..errors import DTypeError

        raise DTypeError("half: float16 is not supported; chainrule computes in "
                         "float32 (model.float()) or float64 (model.double())")

    def type(self, dst_type):
        return self.to(dst_type)

    def share_memory(self):
        return self

    # -- printing ----------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        child = []
        for name, m in self._modules.items():
            r = repr(m).replace("\n", "\n  ")
            child.append(f"({name}): {r}")
        s = self._get_name() + "("
        body = lines + child
        if body:
            if len(lines) == 1 and not child:
                s += lines[0]
            else:
                s += "\n  " + "\n  ".join(body) + "\n"
        return s + ")"

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)
