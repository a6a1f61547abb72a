"""RandomSampler epochs of any length (the "infinite loader" idiom
``RandomSampler(ds, replacement=True, num_samples=int(1e10))``) are drawn
lazily, in bounded memory, and stay deterministic."""
import itertools
import tracemalloc

import pytest

import chainrule as cr
from chainrule.data import DataLoader, RandomSampler, TensorDataset
from chainrule.data import sampler as _sampler_module

_CHUNK = getattr(_sampler_module, "_CHUNK", 1 << 16)

HUGE = int(1e10)


def _head(sampler, k):
    return list(itertools.islice(iter(sampler), k))


@pytest.mark.parametrize("replacement", [True, False])
def test_a_huge_epoch_starts_at_once_in_bounded_memory(replacement):
    data = list(range(100))
    sampler = RandomSampler(data, replacement=replacement, num_samples=HUGE,
                            generator=cr.Generator().manual_seed(0))
    assert len(sampler) == HUGE
    tracemalloc.start()
    try:
        head = _head(sampler, 3 * _CHUNK + 5)  # crosses chunk boundaries
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak  # an eager draw would be 74.5 GiB
    assert all(0 <= i < 100 for i in head)
    if not replacement:  # whole permutations, one after another
        for start in range(0, 1000, 100):
            assert sorted(head[start:start + 100]) == data
    else:
        assert len(set(head[:100])) < 100  # repeats within 100 draws: replacement


@pytest.mark.parametrize("replacement", [True, False])
def test_lazy_epochs_are_deterministic_and_fixed_when_iteration_starts(replacement):
    data = list(range(37))

    def sampler(seed):
        return RandomSampler(data, replacement=replacement, num_samples=HUGE,
                             generator=cr.Generator().manual_seed(seed))

    a, b = sampler(3), sampler(3)
    assert _head(a, _CHUNK + 10) == _head(b, _CHUNK + 10)
    assert _head(sampler(4), 50) != _head(sampler(3), 50)
    # Starting an epoch takes one fixed draw from the generator, however far
    # the epoch is read, so the generator's state between epochs replays the
    # next one (what exact resume relies on).
    g1, g2 = cr.Generator().manual_seed(9), cr.Generator().manual_seed(9)
    it1 = iter(RandomSampler(data, replacement, HUGE, generator=g1))
    iter(RandomSampler(data, replacement, HUGE, generator=g2))
    _ = list(itertools.islice(it1, 2 * _CHUNK))
    assert g1.get_state() == g2.get_state()
    # Epochs differ, and the global generator is used when none is given.
    s = sampler(5)
    assert _head(s, 40) != _head(s, 40)
    cr.manual_seed(11)
    first = _head(RandomSampler(data, replacement, HUGE), 40)
    cr.manual_seed(11)
    assert _head(RandomSampler(data, replacement, HUGE), 40) == first


def test_the_infinite_loader_idiom_in_a_dataloader():
    ds = TensorDataset(cr.randn(50, 3), cr.arange(50))
    sampler = RandomSampler(ds, replacement=True, num_samples=HUGE,
                            generator=cr.Generator().manual_seed(0))
    loader = DataLoader(ds, batch_size=16, sampler=sampler)
    assert len(loader) == HUGE // 16
    it = iter(loader)
    for _ in range(100):
        x, y = next(it)
        assert x.shape == (16, 3) and y.shape == (16,)


def test_short_epochs_without_replacement_are_one_permutation():
    data = list(range(10))
    g = cr.Generator().manual_seed(0)
    assert sorted(RandomSampler(data, generator=g)) == data
    part = list(RandomSampler(data, num_samples=4, generator=g))
    assert len(part) == len(set(part)) == 4
    counts = [0] * 10
    for i in RandomSampler(data, num_samples=25, generator=g):
        counts[i] += 1
    assert sorted(counts) == [2] * 5 + [3] * 5
