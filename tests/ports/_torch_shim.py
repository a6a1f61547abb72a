"""Run a PyTorch script with chainrule standing in for ``torch``.

Usage: ``python tests/ports/_torch_shim.py SCRIPT [ARGS...]``.  Nothing
happens on import; :func:`install` puts a finder at the front of
``sys.meta_path`` that answers ``import torch`` and ``import torch.X`` with
chainrule's modules (``torch.utils.data`` is ``chainrule.data``), so the
script runs unchanged.  Only the port harness (``test_ports.py``) calls it,
in a subprocess of its own.
"""
import importlib
import importlib.abc
import importlib.machinery
import runpy
import sys

# torch names whose chainrule module has another name; everything else maps
# ``torch.X`` to ``chainrule.X``.
_RENAMED = {"torch.utils.data": "chainrule.data"}


def _target(fullname):
    for src, dst in _RENAMED.items():
        if fullname == src or fullname.startswith(src + "."):
            return dst + fullname[len(src):]
    return "chainrule" + fullname[len("torch"):]


class _Alias(importlib.abc.Loader):
    """Loads ``torch...`` as the already imported chainrule module."""

    def __init__(self, module):
        self.module = module
        self.spec = getattr(module, "__spec__", None)

    def create_module(self, spec):
        return self.module

    def exec_module(self, module):
        # The import system stamped the torch spec on the module; chainrule's
        # own relative imports need their original one back.
        module.__spec__ = self.spec


class TorchFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        name = _target(fullname)
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            raise ModuleNotFoundError(
                f"No module named {fullname!r}: chainrule has no {name!r} ({e})",
                name=fullname) from None
        return importlib.machinery.ModuleSpec(fullname, _Alias(module))


def install():
    """Make ``import torch`` import chainrule in this process."""
    for name in [m for m in sys.modules if m == "torch" or m.startswith("torch.")]:
        raise RuntimeError(f"torch is already imported ({name}); install the shim "
                           "before anything imports torch")
    sys.meta_path.insert(0, TorchFinder())


def main(argv):
    install()
    script = argv[0]
    sys.argv = list(argv)
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main(sys.argv[1:])
