"""Every primitive has a batching rule, or is on the short, explained list
of those that run once per example under vmap."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.batching import FALLBACK, RANDOM, batch_rule
from chainrule.ops import PRIMITIVES


def test_every_primitive_has_a_batching_rule_or_a_reason():
    # Draws without tensor inputs (rand, randn, ...) take the batch size from
    # the interpreter (randomness='different'/'same'), not from a rule.
    draws = {n for n in RANDOM if n not in ("standard_gamma", "poisson")}
    missing = [n for n in PRIMITIVES
               if batch_rule(n) is None and n not in FALLBACK and n not in draws]
    assert not missing, f"primitives without a batching rule: {missing}"
    assert len(FALLBACK) <= 10
    for name, why in FALLBACK.items():
        assert name in PRIMITIVES and batch_rule(name) is None and why


def test_batch_rule_takes_a_primitive_or_its_name():
    assert batch_rule(PRIMITIVES["add"]) is batch_rule("add") is not None
    assert batch_rule("adam_step") is None


def test_rule_interface_elementwise_and_matmul():
    x = cr.tensor(np.arange(6.0).reshape(3, 2))  # batch of 2 along axis 1
    y = cr.tensor([10.0, 20.0, 30.0])  # unbatched, logical shape (3,)
    outs, dims = batch_rule("add")((x, y), (1, None))
    assert dims == (0,)
    np.testing.assert_allclose(outs[0].numpy(), x.numpy().T + y.numpy())
    a = cr.tensor(np.arange(24.0).reshape(4, 2, 3))  # 4 examples of (2, 3)
    b = cr.tensor(np.arange(3.0))
    (out,), (d,) = batch_rule("matmul")((a, b), (0, None))
    np.testing.assert_allclose(np.moveaxis(out.numpy(), d, 0), a.numpy() @ b.numpy())


def test_fallback_warns_naming_the_primitive():
    from chainrule.batching.rules import fallback

    x = cr.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.warns(UserWarning, match="exp .*per-example loop"):
        (out,), _ = fallback(PRIMITIVES["exp"], (x,), (0,), {})
    np.testing.assert_allclose(out.numpy(), np.exp(x.numpy()), rtol=1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        batch_rule("exp")((x,), (0,))  # a real rule: no warning


def test_abstract_reshape_resolves_minus_one_in_its_own_dim_only():
    from chainrule.ops._core import abstract_eval

    (shape, _), = abstract_eval(PRIMITIVES["reshape"], [((2, 3, 5), np.float32)],
                                {"shape": (2, -1)})
    assert shape == (2, 15)
