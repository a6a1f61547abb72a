"""Anomaly mode names the op, the shapes and the user's source line of the
first NaN (or Inf) in a forward result, a gradient or a tangent."""
import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule.autograd import (
    Function, detect_anomaly, is_anomaly_check_nan_enabled, is_anomaly_enabled,
    set_detect_anomaly,
)
from chainrule.autograd import forward_ad as fwad

HERE = __file__


def line_of(marker):
    """The line number in this file of the line ending with ``# marker``."""
    source = inspect.getsource(inspect.getmodule(line_of))
    for i, text in enumerate(source.splitlines()):
        if text.rstrip().endswith(f"# {marker}"):
            return i + 1
    raise AssertionError(marker)


def test_log_of_zero_names_the_op_and_the_line():
    x = cr.tensor([0.5, 0.0, 2.0])
    with detect_anomaly():
        with pytest.raises(cr.AutogradError) as info:
            cr.log(x)  # LOG0
    msg = str(info.value)
    assert "Function 'log' returned inf values in its output" in msg
    assert "(1 of 3 entries, shape [3]) from finite inputs (float32 [3])" in msg
    assert f"{HERE}:{line_of('LOG0')} in test_log_of_zero_names_the_op_and_the_line" \
        in msg
    assert "cr.log(x)  # LOG0" in msg


def test_nan_in_forward_names_the_first_op_only():
    x = cr.tensor([1.0, -1.0])
    with detect_anomaly():
        with pytest.raises(cr.AutogradError, match="'sqrt' returned nan") as info:
            y = cr.sqrt(x) * 2.0  # SQRT
        assert f":{line_of('SQRT')} " in str(info.value)
        # NaN already in the data is not blamed on the op that meets it.
        y = cr.tensor([np.nan, 1.0]) + 1.0
    assert np.isnan(y.numpy()[0])


def test_backward_inf_names_the_node_and_the_forward_line():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly():
        y = cr.sqrt(x)  # FWD-SQRT
        with pytest.raises(cr.AutogradError) as info:
            y.sum().backward()
    msg = str(info.value)
    assert "Function 'SqrtBackward' returned inf values in its 0th output" in msg
    assert "shape [2]: 1 of 2 entries" in msg
    assert "The forward op 'sqrt' (inputs float32 [2]) was called at" in msg
    assert f":{line_of('FWD-SQRT')} " in msg and "y = cr.sqrt(x)" in msg


def test_check_inf_false_only_catches_nan():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with detect_anomaly(check_inf=False):
        y = cr.sqrt(x.abs())  # sqrt's gradient at 0 is inf, abs turns it to NaN
        assert cr.log(cr.tensor([0.0])).isinf().all()  # no error: Inf allowed
        with pytest.raises(cr.AutogradError, match="'AbsBackward' returned nan"):
            y.sum().backward()


def test_masked_infinities_inside_rules_are_not_reported():
    # pow's vjp at 0 ** 0 computes 0 ** -1 and log(0), then masks them out.
    x = cr.tensor([0.0, 2.0], requires_grad=True)
    e = cr.tensor([0.0, 3.0], requires_grad=True)
    with detect_anomaly():
        (x ** e).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 12.0])
    assert e.grad.numpy()[0] == 0.0


def test_forward_mode_tangent_is_checked():
    with detect_anomaly():
        with fwad.dual_level():
            d = fwad.make_dual(cr.tensor([0.0, 1.0]), cr.ones(2))
            with pytest.raises(cr.AutogradError,
                               match="'sqrt' returned inf values in its forward-mode "
                                     "tangent"):
                cr.sqrt(d)


def test_custom_function_backward_is_named_after_its_class():
    class Broken(Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x = cr.tensor([1.0], requires_grad=True)
    with detect_anomaly():
        y = Broken.apply(x)  # CUSTOM
        with pytest.raises(cr.AutogradError, match="'BrokenBackward' returned nan") \
                as info:
            y.sum().backward()
    assert f":{line_of('CUSTOM')} " in str(info.value)


def test_check_nan_false_records_lines_without_raising():
    x = cr.tensor([-1.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        assert is_anomaly_enabled() and not is_anomaly_check_nan_enabled()
        y = cr.sqrt(x)  # TRACE
        assert f":{line_of('TRACE')} " in y.grad_fn.trace
        y.sum().backward()
    assert np.isnan(x.grad.numpy()[0])


def test_switches_restore_the_previous_state():
    assert not is_anomaly_enabled()
    with pytest.raises(KeyError):
        with detect_anomaly():
            assert is_anomaly_check_nan_enabled()
            raise KeyError
    assert not is_anomaly_enabled()
    with set_detect_anomaly(True):
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    assert not is_anomaly_enabled()
    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)

    @detect_anomaly()
    def f(x):
        return cr.log(x)

    with pytest.raises(cr.AutogradError, match="'log' returned inf"):
        f(cr.tensor([0.0]))
    assert not is_anomaly_enabled()


def test_no_checks_outside_anomaly_mode():
    x = cr.tensor([0.0], requires_grad=True)
    y = cr.log(x)
    y.sum().backward()
    assert np.isinf(y.detach().numpy()[0]) and np.isinf(x.grad.numpy()[0])
    assert y.grad_fn.trace is None


def test_in_place_error_in_backward_names_the_forward_line():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        h = x * 1.0
        y = h.exp()  # SAVED-OUT
        y.add_(1.0)
        with pytest.raises(cr.AutogradError, match="modified by an inplace") as info:
            y.sum().backward()
    assert f":{line_of('SAVED-OUT')} " in str(info.value)
    y = (x * 1.0).exp()
    y.add_(1.0)
    with pytest.raises(cr.AutogradError, match="Hint: inside chainrule.autograd."
                                               "detect_anomaly"):
        y.sum().backward()
