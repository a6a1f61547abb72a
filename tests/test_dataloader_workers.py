"""DataLoader(num_workers > 0): worker processes with PyTorch's semantics."""
import os

import pytest
import torch

import chainrule as cr
from chainrule.data import (
    DataLoader, Dataset, IterableDataset, TensorDataset, get_worker_info,
)


class Items(Dataset):
    """Items built one by one (as a file-decoding dataset would), reporting
    which process and worker made them and a random draw."""

    def __init__(self, n=20, bad=None):
        self.n, self.bad = n, bad

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.bad:
            raise KeyError(f"no item {i}")
        info = get_worker_info()
        return {"x": cr.tensor([float(i), 2.0 * i]), "i": i,
                "noise": cr.rand(()), "pid": os.getpid(),
                "worker": -1 if info is None else info.id,
                "tag": _TAG.get("tag", "")}


_TAG = {}


def _init(worker_id):
    _TAG["tag"] = f"init{worker_id}"


def test_map_style_batches_match_in_process_loading():
    ref = list(DataLoader(Items(), batch_size=3))
    got = list(DataLoader(Items(), batch_size=3, num_workers=2, prefetch_factor=1))
    assert len(got) == len(ref) == 7
    for a, b in zip(got, ref):
        assert a["x"].tolist() == b["x"].tolist() and a["i"].tolist() == b["i"].tolist()
        assert a["x"].dtype == cr.float32
    # batches alternate between the two workers, in order, off the main process
    assert [b["worker"].tolist()[0] for b in got] == [0, 1, 0, 1, 0, 1, 0]
    assert os.getpid() not in {p for b in got for p in b["pid"].tolist()}


def test_worker_seeds_follow_the_loader_generator():
    def epoch(seed):
        g = cr.Generator().manual_seed(seed)
        return [b["noise"].tolist() + b["i"].tolist()
                for b in DataLoader(Items(12), batch_size=4, shuffle=True,
                                    num_workers=2, generator=g)]

    assert epoch(0) == epoch(0)
    assert epoch(0) != epoch(1)
    seeds = []

    class Seeds(Items):
        def __getitem__(self, i):
            return get_worker_info().seed

    for b in DataLoader(Seeds(4), batch_size=1, num_workers=2):
        seeds += b.tolist()
    assert seeds[1] - seeds[0] == 1 and seeds[0] == seeds[2]  # base + worker id


def test_worker_init_fn_runs_in_each_worker():
    tags = [b["tag"] for b in DataLoader(Items(8), batch_size=2, num_workers=2,
                                         worker_init_fn=_init)]
    assert tags == [["init0"] * 2, ["init1"] * 2] * 2
    assert _TAG == {}  # ran in the workers, not here


def _stream(lib, base):
    class Stream(base):
        def __iter__(self):
            info = (torch.utils.data.get_worker_info() if lib is torch
                    else get_worker_info())
            start, step = (0, 1) if info is None else (info.id, info.num_workers)
            return iter([lib.tensor(i) for i in range(start, 11, step)])

    return Stream()


def test_iterable_dataset_shards_and_interleaves_as_torch():
    ref = [b.tolist() for b in torch.utils.data.DataLoader(
        _stream(torch, torch.utils.data.IterableDataset), batch_size=2,
                                                           num_workers=2)]
    got = [b.tolist() for b in DataLoader(_stream(cr, IterableDataset), batch_size=2,
                                            num_workers=2)]
    assert got == ref


def test_a_worker_error_names_the_worker_and_indices():
    loader = DataLoader(Items(12, bad=7), batch_size=4, num_workers=2)
    with pytest.raises(KeyError, match=r"DataLoader worker 1 failed while loading "
                       r"indices \[4, 5, 6, 7\]:(.|\n)*no item 7"):
        list(loader)


def test_persistent_workers_survive_epochs():
    loader = DataLoader(Items(6), batch_size=3, num_workers=2, persistent_workers=True)
    pids1 = {p for b in loader for p in b["pid"].tolist()}
    pids2 = {p for b in loader for p in b["pid"].tolist()}
    assert pids1 == pids2 and len(pids1) == 2
    loader._pool.shutdown()
    short = DataLoader(Items(6), batch_size=3, num_workers=2)
    pids3 = {p for b in short for p in b["pid"].tolist()}
    assert short._pool is None and pids3.isdisjoint(pids1)


def test_in_memory_tensors_keep_the_in_process_fast_path():
    ds = TensorDataset(cr.arange(10.0).reshape(5, 2), cr.arange(5))
    loader = DataLoader(ds, batch_size=2, num_workers=2)
    assert [y.tolist() for _, y in loader] == [[0, 1], [2, 3], [4]]
    assert loader._pool is None


@pytest.mark.parametrize("kwargs,match", [
    ({"prefetch_factor": 2}, "need num_workers > 0"),
    ({"persistent_workers": True}, "need num_workers > 0"),
    ({"num_workers": 1, "prefetch_factor": 0}, "prefetch_factor should be"),
])
def test_worker_options_are_checked(kwargs, match):
    if kwargs.get("num_workers", 0) == 0:  # (torch checks prefetch_factor later)
        with pytest.raises(ValueError):
            torch.utils.data.DataLoader(list(range(4)), **kwargs)
    with pytest.raises(ValueError, match=match):
        DataLoader(list(range(4)), **kwargs)
