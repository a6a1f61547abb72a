"""Every primitive in the table is differentiable or says why not, and is tested.

How coverage is gathered:

1. The op table (``tests/op_db.py``): every sample of every row runs once in
   float64, forward and backward, with primitive counting on.  Any primitive
   reached is covered -- its values feed outputs or gradients that
   ``test_ops_oracle.py`` compares with PyTorch.
2. Declarations: a test module ``tests/**/test_*.py`` whose own oracle tests
   cover primitives the table does not reach (conv, pooling, fused optimizer
   steps...) names them at module level::

       TESTED_PRIMITIVES = {"unfold", "fold"}
       NON_DIFFERENTIABLE_PRIMITIVES = {"max_pool_indices"}  # vjp=None on purpose

   The sets must be literals: they are read from the source with ``ast``
   (no imports), so this test stays fast.

A primitive that is neither covered nor declared fails here, by name.
"""
import ast
import functools
import importlib
import pathlib
import pkgutil

import numpy as np

import chainrule as cr
import chainrule.nn  # noqa: F401  (layers may register primitives)
from chainrule.autograd import count_ops
from tests.op_db import OPS, grads, materialize, run, weighted_sum, weights

NON_DIFFERENTIABLE_PRIMITIVES = {
    # comparisons, logic and predicates return bool
    "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
    "logical_not", "isnan", "isinf", "isfinite", "isposinf", "isneginf",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "all", "any",
    # indices and encodings are integers
    "argmax", "argmin", "argsort", "nonzero", "one_hot",
    # random draws have no inputs
    "rand", "randn", "randint", "randperm",
}

TESTS = pathlib.Path(__file__).parent


def _all_primitives():
    """The table after importing every module that may register primitives."""
    for pkg in ("chainrule.ops", "chainrule.optim"):
        try:
            mod = importlib.import_module(pkg)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(mod.__path__, pkg + "."):
            importlib.import_module(info.name)
    return cr.ops.PRIMITIVES


def declared(name):
    """Union of the module-level literal sets ``name`` in the test modules."""
    out = set()
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else (
                [node.target] if isinstance(node, ast.AnnAssign) else [])
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                out |= set(ast.literal_eval(node.value))
    return out


@functools.lru_cache(maxsize=None)
def covered_by_table():
    """Primitives the op rows reach, forward and backward."""
    with count_ops() as seen:
        for op in OPS:
            dtype = np.float64 if op.floating else None
            for k, sample in enumerate(op.samples):
                arrays, diff = materialize(op, sample, dtype, seed=k)
                diff = [d and op.grad for d in diff]
                xs, out = run(cr, op, arrays, diff)
                if any(diff):
                    loss, _ = weighted_sum(cr, out, weights(out, k))
                    grads(cr, loss, [x for x, d in zip(xs, diff) if d])
    return frozenset(seen)


def test_every_primitive_is_differentiable_or_declared_not():
    table = _all_primitives()
    nondiff = NON_DIFFERENTIABLE_PRIMITIVES | declared("NON_DIFFERENTIABLE_PRIMITIVES")
    missing = sorted(n for n, p in table.items() if p.vjp is None and n not in nondiff)
    assert not missing, (
        f"primitives without a vjp: {missing}; give each a vjp, or list it in "
        "NON_DIFFERENTIABLE_PRIMITIVES of its test module")
    stale = sorted(n for n in NON_DIFFERENTIABLE_PRIMITIVES if table[n].vjp is not None)
    assert not stale, f"declared non-differentiable but have a vjp: {stale}"


def test_every_differentiable_primitive_has_an_oracle_test():
    table = _all_primitives()
    tested = covered_by_table() | declared("TESTED_PRIMITIVES")
    untested = sorted(n for n, p in table.items() if p.vjp is not None
                      and n not in tested)
    assert not untested, (
        f"differentiable primitives with no oracle test: {untested}; add a row to "
        "tests/op_db_*.py, or list them in TESTED_PRIMITIVES of the test module "
        "that compares them with PyTorch")


def test_declarations_name_real_primitives():
    table = _all_primitives()
    unknown = sorted((declared("TESTED_PRIMITIVES")
                      | declared("NON_DIFFERENTIABLE_PRIMITIVES")) - set(table))
    assert not unknown, f"declared names that are not primitives: {unknown}"


def _defined_in(module):
    """The primitives a module holds in its globals (or in dicts there)."""
    from chainrule.ops._core import Primitive

    found = set()
    for v in vars(module).values():
        for p in (v.values() if isinstance(v, dict) else (v,)):
            if isinstance(p, Primitive):
                found.add(p.name)
    return found


def test_the_table_covers_the_op_families():
    """The op table alone reaches every differentiable primitive of the op
    families (declarations elsewhere do not count for these)."""
    table = _all_primitives()
    ours = set()
    for fam in ("elementwise", "reduce", "shape", "index", "linalg", "creation",
                "_util"):
        ours |= _defined_in(importlib.import_module(f"chainrule.ops.{fam}"))
    assert {"add", "matmul", "getitem", "sum", "reshape"} <= ours
    ours = {n for n in ours if table[n].vjp is not None}
    missing = sorted(ours - covered_by_table())
    assert not missing, f"op-family primitives no row of tests/op_db.py reaches: " \
                        f"{missing}"
