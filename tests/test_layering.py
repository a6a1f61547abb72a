"""The layer order of docs/architecture.md, checked on the source: lower
layers never import higher ones at module level, and the few function-level
imports that reach upward from ops/ each say why in a comment."""
import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "chainrule"

# Bottom up; a module may import its own layer or lower ones at module level.
LAYERS = ["errors", "_dtype", "tensor", "_tape", "ops", "autograd"]


def _layer(module):
    """The layer of a dotted module name inside chainrule, or None."""
    parts = module.split(".")
    if parts[0] != "chainrule" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in LAYERS else None


def _imports(path):
    """(module imported, line, at module level?) for each import in ``path``."""
    rel = path.relative_to(PKG.parent).with_suffix("")
    pkg = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    tree = ast.parse(path.read_text(), str(path))
    top = {id(n) for n in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[:len(pkg) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
                if not node.module:  # ``from . import x`` / ``from .. import x``
                    for a in node.names:
                        out.append((mod + "." + a.name, node.lineno, id(node) in top))
                    continue
            else:
                mod = node.module
            out.append((mod, node.lineno, id(node) in top))
        elif isinstance(node, ast.Import):
            for a in node.names:
                out.append((a.name, node.lineno, id(node) in top))
    return out


def _files(layer):
    p = PKG / layer
    return sorted(p.rglob("*.py")) if p.is_dir() else [p.with_suffix(".py")]


@pytest.mark.parametrize("layer", LAYERS)
def test_no_module_level_import_reaches_a_higher_layer(layer):
    bad = []
    for path in _files(layer):
        for mod, line, top in _imports(path):
            target = _layer(mod)
            if top and target and LAYERS.index(target) > LAYERS.index(layer):
                bad.append(f"{path.relative_to(PKG)}:{line} imports {mod}")
    assert not bad, "\n".join(bad)


def test_upward_function_level_imports_in_ops_say_why():
    silent = []
    for path in _files("ops"):
        lines = path.read_text().splitlines()
        for mod, line, top in _imports(path):
            if top or _layer(mod) != "autograd":
                continue
            near = lines[line - 2] + lines[line - 1]
            if "#" not in near:
                silent.append(f"{path.relative_to(PKG)}:{line} imports {mod}")
    assert not silent, "\n".join(silent)


def test_the_layering_check_resolves_relative_imports():
    # The checker itself: ops/_core.py's `from .._tape import ...` is seen.
    src = PKG / "ops" / "_core.py"
    assert any(_layer(m) == "_tape" and top for m, _, top in _imports(src))
