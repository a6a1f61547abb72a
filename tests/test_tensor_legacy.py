"""``Tensor(...)``, PyTorch's legacy constructor: sizes give a float32 tensor
of that shape, data give float32 (the default dtype), a tensor is shared."""
import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.errors import ArgumentError, DTypeError

CASES = [(), (40, 1), (40,), (0,), (2, 0, 3), ([1, 2],), ((2, 3),), ([[1, 2], [3, 4]],),
         ([True, False],), ([1.5, 2],), ([],), (np.array([1, 2]),),
         (np.array([1.0, 2.0]),), (np.array(5.0),), (np.int64(3),),
         ([np.float64(1)],)]


@pytest.mark.parametrize("args", CASES, ids=repr)
def test_legacy_constructor_as_torch(args):
    ours, theirs = cr.Tensor(*args), torch.Tensor(*args)
    assert ours.shape == tuple(theirs.shape)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    if args and not all(isinstance(a, (int, np.integer)) for a in args):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())  # data, not sizes
    else:
        assert (ours.numpy() == 0).all()  # uninitialised in torch, zeros here


def test_sizes_by_keyword_and_default_dtype():
    assert cr.Tensor(size=(2, 3)).shape == (2, 3)
    prev = cr.get_default_dtype()
    cr.set_default_dtype(cr.float64)
    try:
        assert cr.Tensor([1, 2]).dtype == cr.float64
        assert cr.Tensor(2).dtype == cr.float64
    finally:
        cr.set_default_dtype(prev)


def test_a_tensor_argument_shares_storage_and_dtype():
    x = cr.tensor([1, 2])
    y = cr.Tensor(x)
    theirs = torch.Tensor(torch.tensor([1, 2])).numpy()
    assert y.dtype == cr.int64 == cr.tensor(theirs).dtype
    y[0] = 5
    assert x.tolist() == [5, 2]


@pytest.mark.parametrize("args,error,match", [
    ((3.5,), DTypeError, "data must be a sequence \\(got float\\)"),
    ((True,), DTypeError, "data must be a sequence \\(got bool\\)"),
    (("abc",), DTypeError, "invalid data type 'str'"),
    ((2, 3.0), DTypeError, "sizes must be ints"),
    ((-1,), ArgumentError, "negative dimension"),
    ((2, -1), ArgumentError, "negative dimension"),
    (([[1, 2], [3]],), ArgumentError, "could not convert"),
])
def test_bad_arguments_fail_as_in_torch(args, error, match):
    with pytest.raises((TypeError, RuntimeError, ValueError)):
        torch.Tensor(*args)
    with pytest.raises(error, match=match):
        cr.Tensor(*args)


def test_the_legacy_idiom_builds_a_trainable_parameter():
    # The pattern of old tutorials: an uninitialised Tensor filled by init.
    w = cr.nn.Parameter(cr.Tensor(3, 2))
    cr.nn.init.uniform_(w, -1, 1)
    assert w.dtype == cr.float32 and w.shape == (3, 2) and w.requires_grad
    (w * 2).sum().backward()
    assert (w.grad.numpy() == 2).all()
