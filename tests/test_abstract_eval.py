"""Abstract evaluation: every primitive's shape/dtype rule agrees with its
eager output, and the registry names every primitive that still lacks one.

The check is itself an interpreter: while the op table's rows run (forward
and backward, float64 and the rows' own dtypes), it compares each call's
outputs with what ``abstract_eval`` predicts from the inputs alone.
"""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn  # noqa: F401  (layers may register primitives)
from chainrule._tape import Interpreter, interpreting
from chainrule.ops._core import KINDS, abstract_eval, abstract_rule
from tests.op_db import OPS, grads, materialize, run, weighted_sum, weights
from tests.test_ops_registry import _all_primitives

# Primitives whose abstract rule is still to be written (their kinds' rules
# depend on params).  The registry test fails when one outside this list
# lacks a rule, and when one inside it gains one (so the list only shrinks).
PENDING = frozenset({
    "adam_step", "adaptive_max_pool_indices", "all", "amax", "amin", "any",
    "argmax", "argmin", "argsort", "cat", "cholesky", "clamp", "conv2d",
    "conv2d_backward", "cumprod", "custom_function", "det", "diag_embed",
    "diagonal", "eigh", "einsum", "fold", "gather", "getitem", "hook_identity",
    "index_grad", "index_put", "inv", "layer_norm", "layer_norm_backward",
    "linear", "log_softmax", "lstm_seq", "lstm_seq_backward", "matmul", "max_pool",
    "nll", "nll_grad", "nonzero", "one_hot", "pad", "pool_gather", "pool_scatter",
    "prod", "rand", "randint", "randn", "randperm", "scatter", "slogdet",
    "softmax", "solve", "solve_triangular", "split_copy", "sum", "svd", "unfold",
})


class AbstractChecker(Interpreter):
    """Compares every call's eager outputs with the abstract rule's."""

    def __init__(self):
        self.checked, self.mismatches = set(), []

    def observe(self, prim, inputs, params, outs):
        if abstract_rule(prim) is None:
            return
        avals = [(t.shape, t._data.dtype) for t in inputs]
        want = abstract_eval(prim, avals, params)
        got = tuple((tuple(o.shape), o._data.dtype) for o in outs)
        self.checked.add(prim.name)
        if want != got:
            self.mismatches.append(f"{prim.name}{avals}: abstract {want}, eager {got}")


def _run_table(dtype_for):
    checker = AbstractChecker()
    with interpreting(checker):
        for op in OPS:
            for k, sample in enumerate(op.samples):
                arrays, diff = materialize(op, sample, dtype_for(op), seed=k)
                diff = [d and op.grad for d in diff]
                xs, out = run(cr, op, arrays, diff)
                if any(diff):
                    loss, _ = weighted_sum(cr, out, weights(out, k))
                    grads(cr, loss, [x for x, d in zip(xs, diff) if d])
    return checker


@pytest.mark.parametrize("where", ["float64", "own dtypes"])
def test_abstract_rules_agree_with_eager_on_every_op_table_row(where):
    checker = _run_table(
        lambda op: np.float64 if where == "float64" and op.floating else None)
    assert not checker.mismatches, "\n".join(checker.mismatches[:20])
    assert len(checker.checked) >= 60  # the elementwise families at least


def test_every_kind_rule_is_known_and_every_primitive_has_a_kind_or_pending():
    table = _all_primitives()
    missing = sorted(n for n, p in table.items() if abstract_rule(p) is None)
    unexpected = sorted(set(missing) - PENDING)
    assert not unexpected, ("primitives without an abstract-evaluation rule: "
                            f"{unexpected}")
    gained = sorted(PENDING - set(missing))
    assert not gained, f"these now have a rule; remove them from PENDING: {gained}"
    assert all(p.kind in KINDS or p.kind is None for p in table.values())


def test_abstract_eval_names_a_primitive_without_a_rule():
    p = cr.ops.PRIMITIVES["matmul"]
    if abstract_rule(p) is not None:
        pytest.skip("matmul has a rule now")
    with pytest.raises(NotImplementedError, match="matmul: no abstract-evaluation"):
        abstract_eval(p, [((2, 3), np.float32), ((3, 4), np.float32)], {})


def test_kind_rules_broadcast_and_promote():
    add = cr.ops.PRIMITIVES["add"]
    assert abstract_eval(add, [((2, 1), np.float32), ((3,), np.float32)], {}) == (
        ((2, 3), np.dtype(np.float32)),)
    lt = cr.ops.PRIMITIVES["lt"]
    assert abstract_eval(lt, [((4,), np.int64), ((1,), np.int64)], {}) == (
        ((4,), np.dtype(bool)),)


def test_every_primitive_registers_at_import_chainrule():
    import subprocess
    import sys

    code = ("import chainrule, sys; from chainrule.ops import PRIMITIVES; "
            "print(' '.join(sorted(PRIMITIVES)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True).stdout.split()
    assert sorted(_all_primitives()) == out
