"""gradcheck / gradgradcheck: they pass on correct derivatives and catch wrong
ones with a readable table."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.autograd import Function, GradcheckError, gradcheck, gradgradcheck


def leaf(*shape, seed=0):
    return cr.tensor(np.random.default_rng(seed).standard_normal(shape),
                     requires_grad=True)


class WrongBackward(Function):
    """x^2 whose backward forgets the factor 2."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 2 * x * t


class WrongJvp(WrongBackward):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 2 * g * x

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 3 * x * t


class FrozenBackward(Function):
    """sin(x) whose backward is right once but not differentiable correctly:
    it treats cos(x) as a constant."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * x.detach().cos()


def test_passes_on_correct_derivatives_of_several_inputs_and_outputs():
    a, b = leaf(2, 3), leaf(3, seed=1)
    assert gradcheck(lambda x, y: ((x * y).tanh(), (x @ y.exp()).sum()), (a, b))
    assert gradcheck(lambda x, y: x.sin() * y, (a, b), check_forward_ad=True)
    assert gradgradcheck(lambda x, y: (x * y).tanh(), (a, b))
    assert gradgradcheck(lambda x: x.exp().sum(), (a,), check_fwd_over_rev=True)


def test_non_tensor_inputs_and_inputs_without_grad_are_passed_through():
    a, c = leaf(3), cr.tensor([1.0, 2.0, 3.0], dtype=cr.float64)
    assert gradcheck(lambda x, k, y: x ** k * y, (a, 3, c))


def test_catches_a_wrong_backward_with_a_table():
    x = leaf(3)
    with pytest.raises(GradcheckError) as info:
        gradcheck(WrongBackward.apply, (x,))
    msg = str(info.value)
    assert "Jacobian mismatch for output 0 with respect to input 0 (backward mode)" \
        in msg
    assert "3 of 9 entries differ" in msg
    assert "largest differences:" in msg and "analytic" in msg and "numeric" in msg
    # The worst entry is the diagonal entry with the largest |x|.
    j = int(np.argmax(np.abs(x.detach().numpy())))
    worst = msg.splitlines()[4].split()
    assert worst[0] == f"({j},)" and worst[1] == f"({j},)"
    assert float(worst[2]) == pytest.approx(x[j].item(), rel=1e-5)
    assert float(worst[3]) == pytest.approx(2 * x[j].item(), rel=1e-5)
    assert isinstance(info.value, RuntimeError) and isinstance(info.value,
                                                              cr.ChainruleError)
    assert gradcheck(WrongBackward.apply, (x,), raise_exception=False) is False


def test_catches_a_wrong_jvp_in_forward_mode():
    x = leaf(3)
    assert gradcheck(WrongJvp.apply, (x,))
    with pytest.raises(GradcheckError, match=r"\(forward mode\)"):
        gradcheck(WrongJvp.apply, (x,), check_forward_ad=True, check_backward_ad=False)


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable():
    x = leaf(3)
    assert gradcheck(FrozenBackward.apply, (x,))
    with pytest.raises(GradcheckError, match="Jacobian mismatch"):
        gradgradcheck(FrozenBackward.apply, (x,))


def test_agrees_with_torch_gradcheck_on_a_composite():
    a = np.random.default_rng(3).standard_normal((2, 2)) + 2 * np.eye(2)
    f = lambda m: (lambda x: (x @ x.T).tanh().sum(1))  # noqa: E731
    assert gradcheck(f(cr), (cr.tensor(a, requires_grad=True),))
    assert torch.autograd.gradcheck(f(torch), (torch.tensor(a, requires_grad=True),))


def test_nondeterministic_backward_is_reported():
    state = {"n": 0}

    class Flaky(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1.0

        @staticmethod
        def backward(ctx, g):
            state["n"] += 1
            return g * (1.0 + 1e-9 * state["n"])

    with pytest.raises(GradcheckError, match="not reentrant"):
        gradcheck(Flaky.apply, (leaf(2),))
    assert gradcheck(Flaky.apply, (leaf(2),), nondet_tol=1e-6)


def test_usage_errors_and_warnings():
    with pytest.raises(cr.ShapeError, match="at least one input Tensor with "
                                            "requires_grad=True"):
        gradcheck(cr.sin, (cr.tensor([1.0], dtype=cr.float64),))
    with pytest.warns(UserWarning, match="input 0 requires grad and is float32"):
        gradcheck(cr.sin, (cr.tensor([1.0], requires_grad=True),), atol=1e-2,
                  rtol=1e-2, eps=1e-3)
    with pytest.raises(cr.ShapeError, match="output 0 of the function is a float"):
        gradcheck(lambda x: 1.0, (leaf(1),))


def test_cumprod_second_order_with_and_without_zeros():
    # cumprod's gradient is one kernel that branches on zeros in the input; its
    # own derivative differentiates the zero-safe composite.
    for a in ([[1.5, 0.0, 2.0, -1.0], [0.5, 2.0, 0.0, 3.0]],
              [[1.5, 0.7, 2.0, -1.0], [0.5, 2.0, 1.1, 3.0]]):
        x = cr.tensor(np.array(a), requires_grad=True)
        assert gradgradcheck(lambda t: cr.cumprod(t, 1), (x,))
        assert gradgradcheck(lambda t: cr.cumprod(t, 0), (x,))
