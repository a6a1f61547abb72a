"""chainrule.data: datasets, samplers, the DataLoader, collation, Standardize."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.data import (
    BatchSampler, ConcatDataset, DataLoader, IterableDataset, RandomSampler,
    SequentialSampler, Standardize, Subset, SubsetRandomSampler, TensorDataset,
    WeightedRandomSampler, default_collate, random_split,
)


def _xy(n=10):
    X = cr.arange(2 * n).float().reshape(n, 2)
    return X, cr.arange(n)


def _order(loader):
    """The label sequence of one epoch (labels are the sample indices)."""
    return [i for _, y in loader for i in y.tolist()]


# -- datasets ------------------------------------------------------------------------
def test_tensor_dataset_items_and_errors():
    X, y = _xy(4)
    ds = TensorDataset(X, y)
    assert len(ds) == 4
    x2, y2 = ds[2]
    assert x2.tolist() == [4.0, 5.0] and y2.item() == 2
    assert ds[-1][1].item() == 3
    with pytest.raises(IndexError, match="TensorDataset: index 4 is out of range"):
        ds[4]
    with pytest.raises(ValueError, match=r"same first dimension.*\[4, 2\], \[3\]"):
        TensorDataset(X, cr.arange(3))
    with pytest.raises(ValueError, match="every argument must be a Tensor"):
        TensorDataset(X, [1, 2, 3, 4])


def test_subset_and_concat():
    X, y = _xy(5)
    ds = TensorDataset(X, y)
    sub = Subset(ds, [4, 0])
    assert len(sub) == 2 and sub[0][1].item() == 4 and sub[1][1].item() == 0
    cat = ds + TensorDataset(X[:2], y[:2] + 100)
    assert isinstance(cat, ConcatDataset) and len(cat) == 7
    assert [cat[i][1].item() for i in (0, 4, 5, 6, -1)] == [0, 4, 100, 101, 101]
    with pytest.raises(IndexError, match="ConcatDataset: index 7"):
        cat[7]
    with pytest.raises(ValueError, match="ConcatDataset: datasets should not be"):
        ConcatDataset([])


def test_random_split_fractions_cover_and_repeat():
    ds = TensorDataset(*_xy(10))
    a, b, c = random_split(ds, [0.5, 0.3, 0.2], generator=cr.Generator().manual_seed(3))
    assert (len(a), len(b), len(c)) == (5, 3, 2)
    assert sorted(a.indices + b.indices + c.indices) == list(range(10))
    g = cr.Generator().manual_seed(3)
    a2, _, _ = random_split(ds, [0.5, 0.3, 0.2], generator=g)
    assert a.indices == a2.indices
    # Flooring 10 * [1/3, 1/3, 1/3] leaves one item; it goes to the first split.
    assert [len(s) for s in random_split(ds, [1 / 3, 1 / 3, 1 / 3])] == [4, 3, 3]
    assert [len(s) for s in random_split(ds, [7, 3])] == [7, 3]
    with pytest.raises(ValueError, match=r"random_split: sum of input lengths \[7, "):
        random_split(ds, [7, 4])
    with pytest.raises(ValueError, match="fractions in \\[0, 1\\] summing to 1"):
        random_split(ds, [0.5, 0.6])


# -- the loader ------------------------------------------------------------------------
def test_sequential_order_batches_and_drop_last():
    ds = TensorDataset(*_xy(10))
    loader = DataLoader(ds, batch_size=4)
    sizes = [len(y) for _, y in loader]
    assert sizes == [4, 4, 2] and len(loader) == 3
    assert _order(loader) == list(range(10))
    xb, yb = next(iter(loader))
    assert xb.shape == (4, 2) and xb.dtype == cr.float32 and yb.dtype == cr.int64
    dl = DataLoader(ds, batch_size=4, drop_last=True)
    assert [len(y) for _, y in dl] == [4, 4] and len(dl) == 2


def test_shuffle_covers_every_index_once_and_varies():
    ds = TensorDataset(*_xy(50))
    loader = DataLoader(ds, batch_size=8, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    epochs = [_order(loader) for _ in range(3)]
    for e in epochs:
        assert sorted(e) == list(range(50))
    assert epochs[0] != epochs[1] != epochs[2]
    assert epochs[0] != list(range(50))


def test_shuffle_reproducible_from_seed_and_from_state():
    ds = TensorDataset(*_xy(30))
    runs = []
    for _ in range(2):
        g = cr.Generator().manual_seed(7)
        loader = DataLoader(ds, batch_size=4, shuffle=True, generator=g)
        runs.append([_order(loader) for _ in range(2)])
    assert runs[0] == runs[1]
    # The state between epochs determines the next epoch exactly.
    g = cr.Generator().manual_seed(11)
    loader = DataLoader(ds, batch_size=4, shuffle=True, generator=g)
    _order(loader)
    state = loader.generator.get_state()
    second = _order(loader)
    loader.generator.set_state(state)
    assert _order(loader) == second


def test_shuffle_order_drawn_when_iteration_starts():
    g = cr.Generator().manual_seed(5)
    loader = DataLoader(TensorDataset(*_xy(6)), batch_size=2, shuffle=True, generator=g)
    before = g.get_state()
    it = iter(loader)
    assert g.get_state() != before  # drawn at iter(), before any batch is read
    after = g.get_state()
    list(it)
    assert g.get_state() == after


def test_shuffle_without_generator_uses_global_seed():
    ds = TensorDataset(*_xy(20))
    cr.manual_seed(123)
    a = _order(DataLoader(ds, batch_size=5, shuffle=True))
    cr.manual_seed(123)
    b = _order(DataLoader(ds, batch_size=5, shuffle=True))
    assert a == b and sorted(a) == list(range(20))


def test_fast_path_equals_per_item_collation():
    ds = TensorDataset(*_xy(9))
    fast = DataLoader(ds, batch_size=4, shuffle=True,
                      generator=cr.Generator().manual_seed(1))
    slow = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=default_collate,
                      generator=cr.Generator().manual_seed(1))
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.tolist() == xs.tolist() and yf.tolist() == ys.tolist()


def test_fast_path_is_not_a_python_loop_over_items(monkeypatch):
    calls = []
    original = TensorDataset.__getitem__

    def counting(self, i):
        calls.append(i)
        return original(self, i)

    monkeypatch.setattr(TensorDataset, "__getitem__", counting)
    ds = TensorDataset(*_xy(12))
    assert len(list(DataLoader(Subset(ds, range(12)), batch_size=5))) == 3
    assert calls == []


def test_subclass_overriding_getitem_is_called_per_item():
    class Shifted(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x + 100, y

    loader = DataLoader(Shifted(*_xy(4)), batch_size=4)
    (xb, yb), = list(loader)
    assert xb.min().item() == 100 and yb.tolist() == [0, 1, 2, 3]


def test_custom_sampler_batch_sampler_and_collate():
    ds = TensorDataset(*_xy(6))
    dl = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0])
    assert _order(dl) == [5, 4, 3, 2, 1, 0]
    dl = DataLoader(ds, batch_sampler=[[0, 5], [1], [2, 3, 4]])
    assert [y.tolist() for _, y in dl] == [[0, 5], [1], [2, 3, 4]] and len(dl) == 3
    dl = DataLoader(ds, batch_size=3, collate_fn=lambda items: len(items))
    assert list(dl) == [3, 3]
    dl = DataLoader(ds, batch_size=None)
    first = next(iter(dl))
    assert first[0].shape == (2,)


def test_torch_import_path():
    from chainrule.utils.data import DataLoader as DL

    assert DL is DataLoader and cr.utils.data is cr.data


def test_loader_argument_errors():
    ds = TensorDataset(*_xy(4))
    with pytest.raises(ValueError, match="sampler option is mutually exclusive"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="must support len"):
        DataLoader(42)


def test_default_collate_structures():
    batch = [{"x": cr.ones(2), "n": 1, "f": 0.5, "s": "a"},
             {"x": cr.zeros(2), "n": 2, "f": 1.5, "s": "b"}]
    out = default_collate(batch)
    assert out["x"].shape == (2, 2)
    assert out["n"].dtype == cr.int64 and out["n"].tolist() == [1, 2]
    assert out["f"].dtype == cr.float64 and out["s"] == ["a", "b"]
    pairs = default_collate([(np.ones(3, np.float32), 0), (np.zeros(3, np.float32), 1)])
    assert isinstance(pairs, list) and pairs[0].shape == (2, 3)
    with pytest.raises(ValueError, match=r"equal size, got \[2\], \[3\]"):
        default_collate([cr.ones(2), cr.ones(3)])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object()])


def test_iterable_dataset_batches():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [
        [0, 1, 2], [3, 4, 5], [6]]
    assert len(list(DataLoader(Stream(), batch_size=3, drop_last=True))) == 2
    with pytest.raises(ValueError, match="IterableDataset defines its own order"):
        DataLoader(Stream(), shuffle=True)


# -- samplers -----------------------------------------------------------------------
def test_samplers():
    data = list(range(10))
    assert list(SequentialSampler(data)) == data
    g = cr.Generator().manual_seed(0)
    rs = RandomSampler(data, replacement=True, num_samples=25, generator=g)
    draws = list(rs)
    assert len(draws) == 25 and all(0 <= i < 10 for i in draws)
    long = list(RandomSampler(data, num_samples=20, generator=g))
    assert sorted(long) == sorted(data * 2)
    sub = list(SubsetRandomSampler([3, 5, 7], generator=g))
    assert sorted(sub) == [3, 5, 7]
    bs = BatchSampler(SequentialSampler(data), 4, drop_last=False)
    assert list(bs) == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]] and len(bs) == 3
    assert len(BatchSampler(SequentialSampler(data), 4, drop_last=True)) == 2
    with pytest.raises(ValueError, match="BatchSampler: batch_size should be a "):
        BatchSampler(data, 0, False)


def test_weighted_sampler_follows_weights():
    w = [0.0, 1.0, 3.0]
    g = cr.Generator().manual_seed(2)
    draws = list(WeightedRandomSampler(w, 4000, generator=g))
    counts = np.bincount(draws, minlength=3)
    assert counts[0] == 0
    assert abs(counts[2] / counts[1] - 3.0) < 0.3
    no_rep = list(WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_rep) == [0, 1, 2, 3]
    with pytest.raises(ValueError, match="WeightedRandomSampler: weights must be "):
        WeightedRandomSampler([-1.0, 2.0], 3)


# -- Standardize ----------------------------------------------------------------------
def test_standardize_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    train = rng.normal(3.0, 2.0, (200, 3)).astype(np.float32)
    test = rng.normal(-1.0, 5.0, (50, 3)).astype(np.float32)
    scaler = Standardize().fit(cr.from_numpy(train))
    z_train = scaler(cr.from_numpy(train)).numpy()
    z_test = scaler(cr.from_numpy(test)).numpy()
    np.testing.assert_allclose(z_train.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(z_train.std(0), 1, atol=1e-5)
    expected = (test - train.mean(0)) / train.std(0)
    np.testing.assert_allclose(z_test, expected, rtol=1e-5, atol=1e-5)
    assert abs(z_test.mean()) > 0.5  # not re-centred on the test data


def test_standardize_constant_feature_channels_and_state():
    x = cr.tensor([[1.0, 5.0], [3.0, 5.0]])
    z = Standardize().fit_transform(x)
    assert z.tolist() == [[-1.0, 0.0], [1.0, 0.0]]
    imgs = cr.randn(8, 3, 4, 4) * 2 + 1
    sc = Standardize(dim=(0, 2, 3)).fit(imgs)
    assert sc.mean.shape == (1, 3, 1, 1)
    out = sc(imgs)
    np.testing.assert_allclose(out.mean((0, 2, 3)).numpy(), 0, atol=1e-5)
    restored = Standardize(dim=(0, 2, 3)).load_state_dict(sc.state_dict())
    np.testing.assert_allclose(restored(imgs).numpy(), out.numpy())
    np.testing.assert_allclose(sc.inverse_transform(out).numpy(), imgs.numpy(),
                               rtol=1e-5, atol=1e-5)


def test_standardize_errors():
    with pytest.raises(ValueError, match=r"Standardize.transform: call fit"):
        Standardize()(cr.ones(2, 2))
    sc = Standardize().fit(cr.ones(4, 3))
    with pytest.raises(ValueError, match=r"data of shape \[4, 2\] does not match"):
        sc(cr.ones(4, 2))
    with pytest.raises(ValueError, match="Standardize.fit: expected a Tensor"):
        Standardize().fit([[1.0]])
