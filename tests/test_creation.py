"""Creation functions against PyTorch: shapes, dtypes and values; random draws:
shapes, dtypes, value ranges, and reproducibility from ``manual_seed`` and
``Generator`` (chainrule's streams differ from PyTorch's by design)."""
import numpy as np
import pytest
import torch

import chainrule as cr


def _same(c, t, what=""):
    assert isinstance(c, cr.Tensor), what
    tname = str(t.dtype).split(".")[-1]
    assert c.dtype.name == tname, f"{what}: dtype {c.dtype.name}, torch {tname}"
    assert tuple(c.shape) == tuple(t.shape), f"{what}: shape {c.shape} vs {t.shape}"
    np.testing.assert_allclose(np.asarray(c.tolist(), np.float64),
                               np.asarray(t.tolist(), np.float64), rtol=1e-6,
                               atol=1e-7, err_msg=what)
    assert c.requires_grad == t.requires_grad, what


DETERMINISTIC = {
    "tensor.floats": lambda m: m.tensor([1.0, 2]),
    "tensor.ints": lambda m: m.tensor([[1, 2], [3, 4]]),
    "tensor.bools": lambda m: m.tensor([True, False]),
    "tensor.mixed": lambda m: m.tensor([1, 2.5, True]),
    "tensor.scalar": lambda m: m.tensor(3.5),
    "tensor.int_scalar": lambda m: m.tensor(3),
    "tensor.empty": lambda m: m.tensor([]),
    "tensor.ndarray64": lambda m: m.tensor(np.arange(3.0)),
    "tensor.ndarray_int32": lambda m: m.tensor(np.arange(3, dtype=np.int32)),
    "tensor.numpy_scalar": lambda m: m.tensor(np.float64(2.0)),
    "tensor.numpy_int32_scalar": lambda m: m.tensor(np.int32(2)),
    "tensor.dtype": lambda m: m.tensor([1, 2], dtype=m.float64),
    "tensor.requires_grad": lambda m: m.tensor([1.0], requires_grad=True),
    "tensor.of_0d_tensors": lambda m: m.tensor([m.tensor(1.0), m.tensor(2.0)]),
    "as_tensor.list": lambda m: m.as_tensor([1, 2]),
    "as_tensor.dtype": lambda m: m.as_tensor(np.arange(3), dtype=m.float32),
    "zeros": lambda m: m.zeros(2, 3),
    "zeros.tuple": lambda m: m.zeros((2, 3), dtype=m.int64),
    "zeros.list": lambda m: m.zeros([2]),
    "zeros.0d": lambda m: m.zeros(()),
    "zeros.empty_dim": lambda m: m.zeros(2, 0),
    "ones.bool": lambda m: m.ones(3, dtype=m.bool),
    "ones.requires_grad": lambda m: m.ones(2, requires_grad=True),
    "full.int": lambda m: m.full((2,), 7),
    "full.float": lambda m: m.full((2, 2), 1.5),
    "full.bool": lambda m: m.full((2,), True),
    "full.dtype": lambda m: m.full([2], 3, dtype=m.float64),
    "empty.shape": lambda m: m.zeros(m.empty(2, 3, dtype=m.int64).shape),
    "arange.int": lambda m: m.arange(5),
    "arange.start_end_step": lambda m: m.arange(2, 9, 3),
    "arange.float_step": lambda m: m.arange(0, 1, 0.1),
    "arange.negative": lambda m: m.arange(5, 0, -2),
    "arange.float_negative": lambda m: m.arange(1.0, -1.0, -0.25),
    "arange.float_end": lambda m: m.arange(3.0),
    "arange.dtype": lambda m: m.arange(4, dtype=m.float64),
    "arange.awkward": lambda m: m.arange(-3.3, 2.7, 0.6),
    "arange.empty": lambda m: m.arange(3, 3),
    "linspace": lambda m: m.linspace(0, 1, 5),
    "linspace.one": lambda m: m.linspace(2, 3, 1),
    "linspace.zero": lambda m: m.linspace(0, 1, 0),
    "linspace.dtype": lambda m: m.linspace(-1, 1, 4, dtype=m.float64),
    "logspace": lambda m: m.logspace(0, 2, 3),
    "eye": lambda m: m.eye(3),
    "eye.rect": lambda m: m.eye(2, 4),
    "eye.int": lambda m: m.eye(2, dtype=m.int64),
    "eye.bool": lambda m: m.eye(2, dtype=m.bool),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, dtype=m.int32)),
    "ones_like.dtype": lambda m: m.ones_like(m.ones(2), dtype=m.float64),
    "full_like": lambda m: m.full_like(m.ones(2, dtype=m.int64), 2.7),
    "full_like.float": lambda m: m.full_like(m.ones(2, 1), 2.5),
    "empty_like.shape": lambda m: m.zeros(m.empty_like(m.ones(2, 3)).shape),
}


@pytest.mark.parametrize("name", DETERMINISTIC)
def test_creation_matches_torch(name):
    fn = DETERMINISTIC[name]
    _same(fn(cr), fn(torch), name)


INVALID = {
    "ones.negative": lambda m: m.ones(-1),
    "arange.zero_step": lambda m: m.arange(0, 3, 0),
    "arange.wrong_sign": lambda m: m.arange(3, 1),
    "randint.empty_range": lambda m: m.randint(3, 3, (2,)),
    "tensor.ragged": lambda m: m.tensor([[1, 2], [3]]),
    "linspace.negative": lambda m: m.linspace(0, 1, -1),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_arguments_raise_like_torch(name):
    fn = INVALID[name]
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        fn(torch)
    with pytest.raises(cr.ChainruleError):
        fn(cr)


def test_tensor_copies_and_as_tensor_shares():
    a = np.arange(3.0)
    t, s, f = cr.tensor(a), cr.as_tensor(a), cr.from_numpy(a)
    a[0] = 10.0
    assert t.tolist() == [0.0, 1.0, 2.0]
    assert s.tolist()[0] == 10.0 and f.tolist()[0] == 10.0
    assert cr.as_tensor(a, dtype=cr.float32).dtype == cr.float32
    x = cr.ones(2)
    assert cr.as_tensor(x) is x


def test_from_numpy():
    for dt in (np.float32, np.float64, np.int32, np.int64, np.bool_):
        a = np.zeros(2, dt)
        _same(cr.from_numpy(a), torch.from_numpy(a), str(dt))
    with pytest.raises(cr.DTypeError, match="from_numpy"):
        cr.from_numpy([1, 2])
    with pytest.raises(cr.DTypeError, match="complex128"):
        cr.from_numpy(np.zeros(2, np.complex128))


RANDOM = {
    "rand": lambda m, **g: m.rand(2, 3, **g),
    "rand.0d": lambda m, **g: m.rand((), **g),
    "rand.float64": lambda m, **g: m.rand(4, dtype=m.float64, **g),
    "randn": lambda m, **g: m.randn((2,), **g),
    "randn.list": lambda m, **g: m.randn([2, 2], **g),
    "randn.float64": lambda m, **g: m.randn(2, dtype=m.float64, **g),
    "randint": lambda m, **g: m.randint(0, 5, (3,), **g),
    "randint.high_only": lambda m, **g: m.randint(5, (3,), **g),
    "randint.keywords": lambda m, **g: m.randint(low=2, high=5, size=(3,), **g),
    "randint.int32": lambda m, **g: m.randint(0, 3, (2,), dtype=m.int32, **g),
    "randperm": lambda m, **g: m.randperm(4, **g),
    "randperm.empty": lambda m, **g: m.randperm(0, **g),
    "normal": lambda m, **g: m.normal(0.0, 1.0, (2,), **g),
    "normal.tensor_mean": lambda m, **g: m.normal(m.zeros(3), 1.0, **g),
    "normal.tensors": lambda m, **g: m.normal(m.zeros(3, dtype=m.float64),
                                              m.ones(3, dtype=m.float64), **g),
    "rand.requires_grad": lambda m, **g: m.rand(2, requires_grad=True, **g),
}


@pytest.mark.parametrize("name", RANDOM)
def test_random_shapes_and_dtypes_match_torch(name):
    c, t = RANDOM[name](cr), RANDOM[name](torch)
    tname = str(t.dtype).split(".")[-1]
    assert (c.dtype.name, tuple(c.shape), c.requires_grad) == \
        (tname, tuple(t.shape), t.requires_grad)


@pytest.mark.parametrize("name", RANDOM)
def test_random_draws_are_reproducible(name):
    fn = RANDOM[name]
    cr.manual_seed(123)
    a = fn(cr).tolist()
    cr.manual_seed(123)
    assert fn(cr).tolist() == a
    g1, g2 = cr.Generator().manual_seed(7), cr.Generator().manual_seed(7)
    assert fn(cr, generator=g1).tolist() == fn(cr, generator=g2).tolist()


def test_like_functions_follow_the_input():
    x = cr.ones(2, 3, dtype=cr.float64)
    for fn in (cr.zeros_like, cr.ones_like, cr.empty_like, cr.rand_like, cr.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == cr.float64, fn.__name__
        assert fn(x, dtype=cr.float32).dtype == cr.float32
    r = cr.randint_like(x, 3)
    assert r.dtype == cr.float64 and set(r.flatten().tolist()) <= {0.0, 1.0, 2.0}
    assert cr.full_like(x, 4).tolist() == [[4.0] * 3] * 2
    assert cr.zeros_like(x, requires_grad=True).requires_grad


def test_value_ranges():
    n = 20000
    u = cr.rand(n).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 0.01 and abs(u.std() - np.sqrt(1 / 12)) < 0.01
    z = cr.randn(n, dtype=cr.float64).numpy()
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03
    k = cr.randint(-2, 3, (n,)).numpy()
    assert set(np.unique(k)) == {-2, -1, 0, 1, 2}
    assert sorted(cr.randperm(50).tolist()) == list(range(50))
    v = cr.normal(3.0, 0.5, (n,)).numpy()
    assert abs(v.mean() - 3.0) < 0.02 and abs(v.std() - 0.5) < 0.02
    w = cr.normal(cr.tensor([0.0, 100.0]), cr.tensor([1.0, 0.001]))
    assert abs(w.tolist()[1] - 100.0) < 0.01


def test_manual_seed_and_generators():
    cr.manual_seed(0)
    a = cr.rand(5).tolist()
    b = cr.rand(5).tolist()
    assert a != b  # the stream advances
    cr.manual_seed(0)
    assert cr.rand(5).tolist() == a and cr.rand(5).tolist() == b
    cr.manual_seed(1)
    assert cr.rand(5).tolist() != a
    # A private generator neither reads nor advances the global stream.
    cr.manual_seed(0)
    cr.randn(3, generator=cr.Generator().manual_seed(99))
    assert cr.rand(5).tolist() == a
    g = cr.Generator().manual_seed(5)
    assert g.initial_seed() == 5
    state = g.get_state()
    first = cr.randn(4, generator=g).tolist()
    g.set_state(state)
    assert cr.randn(4, generator=g).tolist() == first
    assert cr.manual_seed(3) is cr.default_generator
    assert cr.initial_seed() == 3
    state = cr.get_rng_state()
    x = cr.rand(3).tolist()
    cr.set_rng_state(state)
    assert cr.rand(3).tolist() == x
    with pytest.raises(cr.ArgumentError):
        cr.manual_seed("zero")


def test_created_tensors_are_leaves():
    for t in (cr.zeros(2, requires_grad=True), cr.randn(2, requires_grad=True),
              cr.tensor([1.0], requires_grad=True)):
        assert t.is_leaf and t.grad_fn is None and t.requires_grad
    with pytest.raises(cr.DTypeError, match="floating"):
        cr.zeros(2, dtype=cr.int64, requires_grad=True)
