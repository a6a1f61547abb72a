"""In-place ops: version counters, leaf protection, views, setitem."""
import numpy as np
import pytest
import torch

import chainrule as cr
from tests.oracle import assert_close, to_torch


def _pair(shape=(4,), seed=0):
    a = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    x = cr.tensor(a, requires_grad=True)
    return x, to_torch(x)


@pytest.mark.parametrize("name", ["add_", "sub_", "mul_", "div_"])
def test_inplace_arithmetic_on_non_leaf_matches_torch(name):
    x, tx = _pair()
    y, ty = x * 1.5, tx * 1.5
    getattr(y, name)(x)
    getattr(ty, name)(tx)
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(y, ty)
    assert_close(x.grad, tx.grad, atol=1e-4)


def test_version_counter_counts_inplace_ops():
    x = cr.zeros(3)
    assert x._version == 0
    x.add_(1)
    x[0] = 2.0
    x.zero_()
    assert x._version == 3
    v = x[1:]
    v.fill_(1.0)
    assert x._version == 4 and x.tolist() == [0.0, 1.0, 1.0]


def test_modifying_a_saved_tensor_fails_at_backward_naming_op_and_versions():
    x = cr.randn(3, requires_grad=True)
    y = x * 1
    z = y.exp()  # exp saves its output
    z.add_(1)
    with pytest.raises(RuntimeError) as e:
        z.sum().backward()
    msg = str(e.value)
    assert "exp" in msg and "version 1" in msg and "expected version 0" in msg


def test_modifying_a_saved_input_fails():
    x = cr.randn(3, requires_grad=True)
    y = x * 2
    z = y * y  # mul saves both inputs
    y.mul_(3)
    with pytest.raises(RuntimeError,
                       match=r"input 0 of mul .*version 1; expected version 0"):
        z.sum().backward()


def test_modifying_an_unsaved_input_is_fine():
    x = cr.randn(3, requires_grad=True)
    y = x * 2
    z = y + 1  # add saves nothing
    y.mul_(3)
    z.sum().backward()
    assert_close(x.grad, np.full(3, 2.0))


def test_inplace_on_leaf_requiring_grad_raises_and_leaves_data_unchanged():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(),
               lambda: x.__setitem__(0, 5.0), lambda: x.clamp_(0, 1),
               lambda: x.copy_(cr.ones(2)), lambda: x.fill_(3.0)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    assert x.tolist() == [1.0, 2.0] and x._version == 0
    with cr.no_grad():
        x.add_(1)
    assert x.tolist() == [2.0, 3.0]


def test_inplace_on_view_of_leaf_raises():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf"):
        x[0:1].mul_(2)


def test_inplace_through_view_reaches_base_history():
    x, tx = _pair((3, 4))
    y, ty = x * 2, tx * 2
    y[:, 1].mul_(5)
    ty[:, 1].mul_(5)
    y.transpose(0, 1)[2].add_(x[:, 0])
    ty.transpose(0, 1)[2].add_(tx[:, 0])
    (y ** 2).sum().backward()
    (ty ** 2).sum().backward()
    assert_close(y, ty)
    assert_close(x.grad, tx.grad)


@pytest.mark.parametrize("index", [1, (slice(None), 2), (slice(0, 3, 2),),
                                   ([0, 2],), (np.array([True, False, True]),)])
def test_setitem_gradients_match_torch(index):
    x, tx = _pair((3, 4))
    v, tv = _pair((1,), seed=1)
    y, ty = x * 1, tx * 1
    y[index] = v * 3
    ty[index if not isinstance(index, tuple) or not isinstance(index[0], np.ndarray)
       else (torch.from_numpy(index[0]),)] = tv * 3
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)
    assert_close(v.grad, tv.grad)


def test_augmented_assignment_on_slice():
    x, tx = _pair((3,))
    y, ty = x * 1, tx * 1
    y[1:] += 2 * x[:2]
    ty[1:] += 2 * tx[:2]
    (y * y).sum().backward()
    (ty * ty).sum().backward()
    assert_close(x.grad, tx.grad)


def test_inplace_integer_result_type_error():
    x = cr.tensor([1, 2])
    with pytest.raises(TypeError, match="float32 can't be cast.*int64"):
        x.add_(1.5)
    x.add_(1)
    assert x.tolist() == [2, 3]


def test_copy_and_fill_cut_history():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    y.fill_(7.0)
    assert not y.requires_grad
    z = x * 2
    z.copy_(x * 5)
    z.sum().backward()
    assert_close(x.grad, np.full(3, 5.0))


def test_numpy_view_shares_memory():
    x = cr.zeros(3)
    x.numpy()[1] = 4.0
    assert x[1].item() == 4.0


@pytest.mark.parametrize("index", ["int", "mask"])
def test_index_tensor_modified_before_backward_raises_as_in_torch(index):
    """The index Tensor is an input of getitem, saved for the backward: changing
    it in place before backward is an error (PyTorch saves it too)."""
    x, tx = _pair((4, 3))
    if index == "int":
        i, ti = cr.tensor([0, 2]), torch.tensor([0, 2])
    else:
        i, ti = cr.tensor([True, False, True, False]), torch.tensor(
            [True, False, True, False])
    y, ty = x[i], tx[ti]
    with cr.no_grad():
        i.logical_not_() if index == "mask" else i.add_(1)
    with torch.no_grad():
        ti.logical_not_() if index == "mask" else ti.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        ty.sum().backward()
    with pytest.raises(cr.AutogradError, match="modified by an inplace operation"):
        y.sum().backward()
