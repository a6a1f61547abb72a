"""Containers: modules that hold other modules or parameters.

``Sequential`` chains its children; ``ModuleList`` and ``ModuleDict`` only
register them (so their parameters are found and saved) and leave the wiring
to the parent's ``forward``.  Keys are the same as PyTorch's: list items are
named ``"0"``, ``"1"``..., so state dicts line up.
"""
import operator
from collections import OrderedDict

from ..errors import ArgumentError, IndexOutOfRange
from .module import Module
from .parameter import Parameter


def _index(idx, n, what):
    """A non-negative position from a (possibly negative) ``idx`` into ``n`` items."""
    i = operator.index(idx)
    if not -n <= i < n:
        raise IndexOutOfRange(f"{what}: index {idx} is out of range for {n} items")
    return i % n


class Sequential(Module):
    """Calls its children in order, each on the previous one's output.

    ``Sequential(a, b, c)`` names the children ``"0"``, ``"1"``, ``"2"``;
    ``Sequential(OrderedDict([("fc", a), ("act", b)]))`` uses the given names.
    Indexing with an int gives a child, with a slice a new ``Sequential``.
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input

    def __getitem__(self, idx):
        items = list(self._modules.items())
        if isinstance(idx, slice):
            return type(self)(OrderedDict(items[idx]))
        return items[_index(idx, len(items), "Sequential")][1]

    def __setitem__(self, idx, module):
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        targets = keys[idx] if isinstance(idx, slice) else [
            keys[_index(idx, len(keys), "Sequential")]]
        for k in targets:
            del self._modules[k]
        # Renumber to "0".."n-1" (even given names), as PyTorch does.
        mods = list(self._modules.values())
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ArgumentError("Sequential + expects another Sequential, got "
                                f"{type(other).__name__}")
        return Sequential(*self, *other)

    def append(self, module):
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        n = len(self)
        if not -n <= index <= n:
            raise IndexOutOfRange(f"Sequential.insert: index {index} is out of range "
                                  f"for {n} items")
        index = index + n if index < 0 else index
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)
        return self

    def pop(self, key):
        m = self[key]
        del self[key]
        return m


class ModuleList(Module):
    """A list of modules, registered so their parameters belong to the parent."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return type(self)(mods[idx])
        return mods[_index(idx, len(mods), "ModuleList")]

    def __setitem__(self, idx, module):
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx):
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_index(idx, len(mods), "ModuleList")]
        self._modules.clear()
        for i, m in enumerate(mods):
            self._modules[str(i)] = m

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList(list(self) + list(other))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index, module):
        mods = list(self._modules.values())
        mods.insert(index, module)
        self._modules.clear()
        for i, m in enumerate(mods):
            self.add_module(str(i), m)

    def pop(self, key=-1):
        m = self[key]
        del self[key]
        return m

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward; iterate over it in the "
                                  "parent's forward")

    def __repr__(self):
        # Runs of identical layers print once, as "(0-5): 6 x Layer(...)" (torch's
        # format), so a 24-block stack stays readable.
        reprs = [repr(m) for m in self]
        if not reprs:
            return "ModuleList()"
        runs = []  # [first index, last index, repr]
        for i, r in enumerate(reprs):
            if runs and runs[-1][2] == r:
                runs[-1][1] = i
            else:
                runs.append([i, i, r])
        lines = []
        for a, b, r in runs:
            head = f"({a}): " if a == b else f"({a}-{b}): {b - a + 1} x "
            lines.append((head + r).replace("\n", "\n  "))
        return "ModuleList(\n  " + "\n  ".join(lines) + "\n)"


class _DictContainer(Module):
    """Dict methods over one of the module's registries (named by ``_store``);
    subclasses define how ``__setitem__`` registers a value."""

    _store = "_modules"

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.update(values)

    def __getitem__(self, key):
        return getattr(self, self._store)[key]

    def __delitem__(self, key):
        del getattr(self, self._store)[key]

    def __len__(self):
        return len(getattr(self, self._store))

    def __iter__(self):
        return iter(getattr(self, self._store))

    def __contains__(self, key):
        return key in getattr(self, self._store)

    def keys(self):
        return getattr(self, self._store).keys()

    def values(self):
        return getattr(self, self._store).values()

    def items(self):
        return getattr(self, self._store).items()

    def clear(self):
        getattr(self, self._store).clear()

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def update(self, values):
        items = values.items() if hasattr(values, "items") else values
        for k, v in items:
            self[k] = v


class ModuleDict(_DictContainer):
    """A dict of modules (insertion-ordered), registered on the parent."""

    def __init__(self, modules=None):
        super().__init__(modules)

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward; index it in the "
                                  "parent's forward")


def _as_param(value):
    return value if isinstance(value, Parameter) or value is None else Parameter(value)


class ParameterList(Module):
    """A list of parameters, named ``"0"``, ``"1"``... in the state dict."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        ps = list(self._parameters.values())
        if isinstance(idx, slice):
            return type(self)(ps[idx])
        return ps[_index(idx, len(ps), "ParameterList")]

    def __setitem__(self, idx, value):
        self.register_parameter(str(_index(idx, len(self), "ParameterList")),
                                _as_param(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def __iadd__(self, values):
        return self.extend(values)

    def append(self, value):
        self.register_parameter(str(len(self)), _as_param(value))
        return self

    def extend(self, values):
        for v in values:
            self.append(v)
        return self

    def extra_repr(self):
        return _parameter_lines(self._parameters.items())


def _parameter_lines(items):
    """PyTorch's repr lines for a parameter container's entries."""
    return "\n".join(f"({k}): Parameter containing: [{p.dtype.name} of size "
                     f"{'x'.join(map(str, p.shape))}]" for k, p in items)


class ParameterDict(_DictContainer):
    """A dict of parameters keyed by name."""

    _store = "_parameters"

    def __init__(self, parameters=None):
        super().__init__(parameters)

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_param(value))

    def extra_repr(self):
        return _parameter_lines(self._parameters.items())
