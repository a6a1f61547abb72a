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


def test_rules_of_the_check_and_compare_primitives_match_the_loop():
    F = cr.func
    x = cr.tensor(np.array([[1.0, 3.0, 2.0], [4.0, 0.0, 5.0]]))
    idx = cr.tensor(np.array([[0, 2], [1, 1]]))
    values, indices = F.vmap(lambda r: cr.cummax(r, 0))(x)
    np.testing.assert_array_equal(indices.numpy(), [[0, 1, 1], [0, 0, 2]])
    np.testing.assert_array_equal(values.numpy(), [[1, 3, 3], [4, 4, 5]])
    # equal() returns a Python bool, so its primitive is checked by the rule
    (same,), (d,) = batch_rule("array_equal")((x, x * cr.tensor([[1.0], [2.0]])),
                                              (0, 0))
    np.testing.assert_array_equal(same.numpy(), [True, False])
    (same,), _ = batch_rule("array_equal")((x, x[:, :2]), (0, 0))
    np.testing.assert_array_equal(same.numpy(), [False, False])
    logp = cr.randn(2, 2, 3).log_softmax(-1)
    w = cr.ones(3)
    out = F.vmap(lambda lp, t: cr.nn.functional.nll_loss(lp, t, weight=w))(logp, idx)
    want = [cr.nn.functional.nll_loss(logp[k], idx[k], weight=w).item() for k in (0, 1)]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-6)
    with pytest.raises(cr.errors.ChainruleError, match="out of bounds"):
        F.vmap(lambda lp, t: cr.nn.functional.nll_loss(lp, t, weight=w))(
            logp, idx + 5)


def test_in_place_writes_of_batched_values_raise():
    from chainrule.batching import VmapError

    def f(r):
        z = cr.zeros(3)
        z.copy_(r)
        return z

    with pytest.raises(VmapError, match="in-place"):
        cr.func.vmap(f)(cr.ones(2, 3))


@pytest.mark.parametrize("with_zero", [False, True])
def test_per_example_cumprod_gradients_match_torch(with_zero):
    import torch

    a = np.array([[1.5, 0.7, 2.0, -1.0], [0.5, 2.0, 1.1, 3.0]])
    if with_zero:
        a[0, 1] = a[1, 2] = 0.0  # the gradient kernel takes its O(n^2) branch
    got = cr.func.vmap(cr.func.grad(lambda r: (cr.cumprod(r, 0) ** 2).sum()))(
        cr.tensor(a))
    want = torch.func.vmap(torch.func.grad(
        lambda r: (torch.cumprod(r, 0) ** 2).sum()))(torch.tensor(a))
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-12, atol=1e-12)
