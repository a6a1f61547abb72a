"""Bad input to ops raises a clear error: it names the op and the shapes or
dtypes it got, and says what would be valid.

Each case runs in PyTorch too, which must reject the same input -- so the
checks never hold chainrule to an error PyTorch would not raise -- and the
chainrule error must be catchable as the built-in class PyTorch raises.
"""
import numpy as np
import pytest
import torch

import chainrule as cr

F32, F64 = "float32", "float64"


def _t(m, shape, dtype=F32):
    return m.ones(*shape, dtype=getattr(m, dtype))


CASES = [
    # (id, fn(m), chainrule class, built-in class, fragments the message contains)
    ("broadcast.add", lambda m: _t(m, (2, 3)) + _t(m, (4,)), cr.ShapeError,
     RuntimeError, ["add", "[2, 3]", "[4]", "broadcast", "must match or be 1"]),
    ("broadcast.mul3d", lambda m: m.mul(_t(m, (2, 3)), _t(m, (2, 1, 4))),
     cr.ShapeError, RuntimeError, ["mul", "[2, 3]", "[2, 1, 4]", "must match or be 1"]),
    ("broadcast.where", lambda m: m.where(_t(m, (2, 3)) > 0, _t(m, (3,)), _t(m, (4,))),
     cr.ShapeError, RuntimeError, ["where", "[3]", "[4]", "must match or be 1"]),
    ("broadcast.inplace", lambda m: _t(m, (3,)).add_(_t(m, (2, 3))), cr.ShapeError,
     RuntimeError, ["add_", "[3]", "[2, 3]", "cannot change the tensor's shape"]),
    ("matmul.inner", lambda m: _t(m, (2, 3)) @ _t(m, (4, 5)), cr.ShapeError,
     RuntimeError, ["matmul", "2x3", "4x5", "(3) must equal", "(4)"]),
    ("matmul.vector", lambda m: m.matmul(_t(m, (3,)), _t(m, (4,))), cr.ShapeError,
     RuntimeError, ["matmul", "(3) must equal", "(4)"]),
    ("matmul.batch", lambda m: _t(m, (2, 2, 3)) @ _t(m, (3, 3, 4)), cr.ShapeError,
     RuntimeError, ["matmul", "[2, 2, 3]", "[3, 3, 4]", "must match or be 1"]),
    ("matmul.0d", lambda m: m.matmul(_t(m, ()), _t(m, (3,))), cr.ShapeError,
     RuntimeError, ["matmul", "[]", "[3]", "at least 1 dimension"]),
    ("mm.inner", lambda m: m.mm(_t(m, (2, 3)), _t(m, (2, 3))), cr.ShapeError,
     RuntimeError, ["mm", "2x3 and 2x3", "columns (3) must equal", "rows (2)"]),
    ("mm.ndim", lambda m: m.mm(_t(m, (2, 3, 1)), _t(m, (1, 3))), cr.ShapeError,
     RuntimeError, ["mm", "[2, 3, 1]", "2-D"]),
    ("bmm.inner", lambda m: m.bmm(_t(m, (2, 2, 3)), _t(m, (2, 4, 4))), cr.ShapeError,
     RuntimeError, ["bmm", "[2, 2, 3]", "[2, 4, 4]", "[b, n, m] and [b, m, p]"]),
    ("mv.inner", lambda m: m.mv(_t(m, (2, 3)), _t(m, (4,))), cr.ShapeError,
     RuntimeError, ["mv", "[2, 3]", "[4]", "columns (3)"]),
    ("dot.size", lambda m: m.dot(_t(m, (3,)), _t(m, (4,))), cr.ShapeError,
     RuntimeError, ["dot", "[3]", "[4]", "same number of elements"]),
    ("index.int", lambda m: _t(m, (3, 4))[5], cr.IndexOutOfRange, IndexError,
     ["index", "index 5", "dimension 0", "size 3", "[3, 4]", "-3 to 2"]),
    ("index.neg", lambda m: _t(m, (3, 4))[-4], cr.IndexOutOfRange, IndexError,
     ["index -4", "dimension 0", "-3 to 2"]),
    ("index.second_dim", lambda m: _t(m, (3, 4))[:, 7], cr.IndexOutOfRange, IndexError,
     ["index 7", "dimension 1", "size 4", "-4 to 3"]),
    ("index.list", lambda m: _t(m, (3, 4))[[0, 9]], cr.IndexOutOfRange, IndexError,
     ["index 9", "dimension 0", "size 3"]),
    ("index.tensor", lambda m: _t(m, (3, 4))[m.tensor([1, 3])], cr.IndexOutOfRange,
     IndexError, ["index 3", "dimension 0", "size 3"]),
    ("index.too_many", lambda m: _t(m, (3, 4))[0, 0, 0], cr.IndexOutOfRange,
     IndexError, ["too many indices", "dimension 2", "[3, 4]"]),
    ("index.mask_shape", lambda m: _t(m, (3, 4))[m.tensor([True, False])],
     cr.IndexOutOfRange, IndexError, ["mask", "[2]", "[3]"]),
    ("index.negative_step", lambda m: _t(m, (3, 4))[::-1], cr.ArgumentError,
     ValueError, ["step", "greater than zero", "-1"]),
    ("index.float", lambda m: _t(m, (3, 4))[m.tensor([1.0])], cr.IndexOutOfRange,
     IndexError, ["long, int or bool", "float32"]),
    ("setitem.int", lambda m: _t(m, (3, 4)).__setitem__(7, 1.0), cr.IndexOutOfRange,
     IndexError, ["index 7", "dimension 0", "size 3"]),
    ("gather.range", lambda m: m.gather(_t(m, (3, 4)), 1, m.tensor([[0, 4]])),
     cr.IndexOutOfRange, RuntimeError, ["gather", "index 4", "dimension 1", "size 4",
                                        "0 to 3"]),
    ("index_select.range", lambda m: m.index_select(_t(m, (3, 4)), 0, m.tensor([3])),
     cr.IndexOutOfRange, IndexError, ["index_select", "index 3", "size 3", "0 to 2"]),
    ("dim.range", lambda m: _t(m, (3, 4)).sum(3), cr.IndexOutOfRange, IndexError,
     ["sum", "dimension out of range", "[-2, 1]", "got 3"]),
    ("reshape.size", lambda m: _t(m, (2, 3)).reshape(4, 2), cr.ShapeError,
     RuntimeError, ["reshape", "[4, 2]", "size 6", "[2, 3]", "must multiply to 6"]),
    ("reshape.infer", lambda m: _t(m, (2, 3)).reshape(4, -1), cr.ShapeError,
     RuntimeError, ["reshape", "[4, -1]", "size 6", "divisor of 6"]),
    ("view.size", lambda m: _t(m, (2, 3)).view(7), cr.ShapeError, RuntimeError,
     ["view", "[7]", "size 6"]),
    ("view.stride", lambda m: _t(m, (2, 3)).t().view(6), cr.ShapeError, RuntimeError,
     ["view", "[6]", "[3, 2]", "reshape"]),
    ("cat.size", lambda m: m.cat([_t(m, (2, 3)), _t(m, (2, 4))]), cr.ShapeError,
     RuntimeError, ["cat", "[2, 3]", "[2, 4]", "must match except in dimension 0",
                    "tensor number 1"]),
    ("cat.ndim", lambda m: m.cat([_t(m, (2, 3)), _t(m, (2, 3, 1))], 1), cr.ShapeError,
     RuntimeError, ["cat", "same number of dimensions", "[2, 3, 1]"]),
    ("stack.shape", lambda m: m.stack([_t(m, (2, 3)), _t(m, (3, 2))]), cr.ShapeError,
     RuntimeError, ["stack", "[2, 3]", "[3, 2]", "equal size"]),
    ("expand.size", lambda m: _t(m, (2, 3)).expand(4, 3), cr.ShapeError, RuntimeError,
     ["expand", "[4, 3]", "[2, 3]", "must match the existing size"]),
    ("matmul.dtype", lambda m: _t(m, (2, 3)) @ _t(m, (3, 2), F64), cr.DTypeError,
     RuntimeError, ["matmul", F32, F64, "same dtype"]),
    ("mm.dtype", lambda m: m.mm(_t(m, (2, 3), F64), _t(m, (3, 2))), cr.DTypeError,
     RuntimeError, ["mm", F32, F64, "same dtype"]),
    ("bmm.dtype", lambda m: m.bmm(_t(m, (1, 2, 3)), _t(m, (1, 3, 2), F64)),
     cr.DTypeError, RuntimeError, ["bmm", F32, F64]),
    ("mv.dtype", lambda m: m.mv(_t(m, (2, 3)), _t(m, (3,), F64)), cr.DTypeError,
     RuntimeError, ["mv", F32, F64]),
    ("dot.dtype", lambda m: m.dot(_t(m, (3,)), _t(m, (3,), F64)), cr.DTypeError,
     RuntimeError, ["dot", F32, F64]),
    ("solve.dtype", lambda m: m.linalg.solve(m.eye(3), _t(m, (3,), F64)),
     cr.DTypeError, RuntimeError, ["solve", F32, F64]),
    ("inplace.float_into_int", lambda m: _t(m, (3,), "int64").add_(1.5),
     cr.DTypeError, RuntimeError, ["add_", F32, "int64", "can't be cast"]),
    ("inplace.int_into_bool", lambda m: _t(m, (3,), "bool").mul_(_t(m, (3,), "int64")),
     cr.DTypeError, RuntimeError, ["mul_", "int64", "bool", "can't be cast"]),
    ("sub.bool", lambda m: _t(m, (3,), "bool") - _t(m, (3,), "bool"), cr.DTypeError,
     RuntimeError, ["sub", "bool", "logical_not"]),
    ("norm.int", lambda m: m.linalg.vector_norm(_t(m, (3,), "int64")), cr.DTypeError,
     RuntimeError, ["vector_norm", "int64", "floating"]),
]


@pytest.mark.parametrize("fn,cls,builtin,fragments",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_message(fn, cls, builtin, fragments):
    with pytest.raises((RuntimeError, IndexError, TypeError, ValueError)):
        fn(torch)  # the input really is invalid
    with pytest.raises(cls) as info:
        fn(cr)
    assert isinstance(info.value, builtin), \
        f"{type(info.value).__name__} is not a {builtin.__name__}"
    msg = str(info.value)
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"message lacks {missing}: {msg}"


def test_errors_are_raised_before_any_change():
    """A failed in-place op or setitem leaves the tensor as it was."""
    x = cr.ones(3, dtype=cr.int64)
    with pytest.raises(cr.DTypeError):
        x.add_(1.5)
    with pytest.raises(cr.IndexOutOfRange):
        x[5] = 7
    np.testing.assert_array_equal(x.numpy(), [1, 1, 1])
    assert x._version == 0
