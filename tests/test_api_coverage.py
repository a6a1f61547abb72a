"""Every public PyTorch name is either provided by chainrule or listed, with a
reason, in ``tests/api_not_provided.py``.

A new PyTorch release that adds a name fails this test until the name is
implemented or listed; an implemented name still on the list fails too.
"""
import fnmatch
import types

import pytest
import torch
import torch.linalg
import torch.nn
import torch.nn.functional

import chainrule as cr
import chainrule.linalg
import chainrule.nn
import chainrule.nn.functional

from .api_not_provided import NOT_PROVIDED

NAMESPACES = {
    "Tensor": (torch.Tensor, cr.Tensor),
    "torch": (torch, cr),
    "nn.functional": (torch.nn.functional, cr.nn.functional),
    "nn": (torch.nn, cr.nn),
    "linalg": (torch.linalg, cr.linalg),
}


def _is_api(value):
    """Skip what a torch module merely imported (``os``, ``typing.Optional``...)."""
    if isinstance(value, types.ModuleType):
        return value.__name__.startswith("torch")
    if isinstance(value, str):  # shared docstring fragments
        return False
    return getattr(value, "__module__", None) != "typing"


def torch_names(ns):
    mod = NAMESPACES[ns][0]
    # torch loads some submodules (``torch.onnx``) on first access, and only
    # then lists them in dir(): count them always, so the answer does not
    # depend on which test ran first.
    lazy = getattr(mod, "_lazy_modules", ()) if mod is torch else ()
    return sorted(n for n in set(dir(mod)) | set(lazy)
                  if not n.startswith("_") and n != "TYPE_CHECKING"
                  and _is_api(getattr(mod, n, None)))


def listed(ns):
    return [(p, reason) for patterns, reason in NOT_PROVIDED[ns]
            for p in patterns.split()]


@pytest.mark.parametrize("ns", list(NAMESPACES))
def test_every_torch_name_is_provided_or_listed(ns):
    ours = NAMESPACES[ns][1]
    patterns = [p for p, _ in listed(ns)]
    missing = [n for n in torch_names(ns) if not hasattr(ours, n)
               and not any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    assert not missing, (
        f"torch {ns} names that chainrule neither provides nor lists in "
        f"tests/api_not_provided.py: {' '.join(missing)}")


@pytest.mark.parametrize("ns", list(NAMESPACES))
def test_listed_names_are_really_missing(ns):
    ours = NAMESPACES[ns][1]
    stale = [p for p, _ in listed(ns)
             if not any(c in p for c in "*?[") and hasattr(ours, p)]
    assert not stale, f"chainrule now provides these {ns} names; delete them from " \
                      f"tests/api_not_provided.py: {' '.join(stale)}"


def test_every_entry_has_a_reason():
    for ns, entries in NOT_PROVIDED.items():
        assert ns in NAMESPACES
        for patterns, reason in entries:
            assert patterns.split() and isinstance(reason, str) and len(reason) > 5
