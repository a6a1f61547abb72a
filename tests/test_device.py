"""Devices, the ``cuda`` and ``backends`` namespaces and BLAS threads, as a
program written for PyTorch uses them on a machine without a GPU."""
import pickle

import numpy as np
import pytest
import torch

import chainrule as cr
import chainrule.nn as nn
from chainrule.errors import ArgumentError


def test_the_standard_device_line_runs_a_model_on_the_cpu():
    device = cr.device("cuda" if cr.cuda.is_available() else "cpu")
    model = nn.Linear(3, 2).to(device)
    x = cr.randn(4, 3, device=device).to(device)
    assert model(x).shape == (4, 2)
    assert x.device == device == cr.device("cpu")
    assert model.weight.device.type == "cpu"


@pytest.mark.parametrize("spec", ["cpu", "cuda", "cuda:1", "mps", "meta", "cpu:0"])
def test_device_parses_as_torch(spec):
    d, t = cr.device(spec), torch.device(spec)
    assert (d.type, d.index, str(d), repr(d)) == (t.type, t.index, str(t), repr(t))
    assert cr.device(d.type, d.index) == d
    assert hash(d) == hash(cr.device(spec))
    assert pickle.loads(pickle.dumps(d)) == d


@pytest.mark.parametrize("spec", ["banana", "cuda:x", "cuda:-1", -1])
def test_bad_device_names_are_rejected(spec):
    with pytest.raises(RuntimeError):
        torch.device(spec)
    with pytest.raises(ArgumentError, match="device"):
        cr.device(spec)


@pytest.mark.parametrize("make", [
    lambda d: cr.ones(2, device=d), lambda d: cr.zeros(2, 3, device=d),
    lambda d: cr.empty(2, device=d), lambda d: cr.full((2,), 1.0, device=d),
    lambda d: cr.tensor([1.0], device=d), lambda d: cr.as_tensor([1.0], device=d),
    lambda d: cr.arange(3, device=d), lambda d: cr.linspace(0, 1, 3, device=d),
    lambda d: cr.eye(2, device=d), lambda d: cr.rand(2, device=d),
    lambda d: cr.randn(2, device=d), lambda d: cr.randint(0, 3, (2,), device=d),
    lambda d: cr.randperm(3, device=d), lambda d: cr.zeros_like(cr.ones(2), device=d),
    lambda d: cr.ones_like(cr.ones(2), device=d),
    lambda d: cr.full_like(cr.ones(2), 3.0, device=d),
    lambda d: cr.empty_like(cr.ones(2), device=d),
    lambda d: nn.Linear(2, 2, device=d), lambda d: nn.Bilinear(2, 2, 2, device=d),
])
def test_factories_validate_the_device(make):
    make("cpu")
    make(cr.device("cpu"))
    with pytest.raises(ArgumentError, match="unknown device type 'banana'"):
        make("banana")
    with pytest.raises(ArgumentError, match="device 'cuda' is not available; "
                       "chainrule runs on the CPU"):
        make("cuda")
    with pytest.raises(ArgumentError, match="not available"):
        make(cr.device("cuda", 0))


def test_tensor_cuda_errors_as_module_cuda():
    with pytest.raises(ArgumentError, match="cuda: no GPU backend; chainrule runs on "
                       "the CPU"):
        cr.ones(2).cuda()
    with pytest.raises(ArgumentError, match="cuda: no GPU backend; chainrule runs on "
                       "the CPU"):
        nn.Linear(1, 1).cuda()


def test_to_checks_devices_given_any_way():
    x = cr.ones(2)
    assert x.to("cpu") is x and x.to(device="cpu") is x and x.to(cr.device("cpu")) is x
    for call in (lambda: x.to("cuda"), lambda: x.to(device="cuda"),
                 lambda: x.to(cr.device("cuda")), lambda: x.to("cuda", cr.float64),
                 lambda: nn.Linear(1, 1).to(cr.device("cuda")),
                 lambda: nn.Linear(1, 1).to(device="mps")):
        with pytest.raises(ArgumentError, match="not available"):
            call()
    with pytest.raises(ArgumentError, match="unknown device type"):
        x.to(device="banana")
    m = nn.Linear(1, 1).to(cr.device("cpu"), cr.float64)
    assert m.weight.dtype == cr.float64


def test_cuda_namespace_answers_as_torch_without_a_gpu():
    for name in ("is_available", "device_count", "is_initialized",
                 "memory_allocated", "max_memory_allocated"):
        assert getattr(cr.cuda, name)() == getattr(torch.cuda, name)(), name
    assert cr.cuda.is_bf16_supported() is False
    for name in ("manual_seed", "manual_seed_all"):  # no-ops in both
        assert getattr(cr.cuda, name)(0) is getattr(torch.cuda, name)(0) is None
    assert cr.cuda.empty_cache() is None and cr.cuda.reset_peak_memory_stats() is None
    for name in ("synchronize", "current_device", "get_device_name",
                 "get_device_capability", "get_rng_state"):
        with pytest.raises(ArgumentError, match=f"cuda.{name}: no GPU backend"):
            getattr(cr.cuda, name)()


def test_backends_flags():
    assert cr.backends.mps.is_available() is torch.backends.mps.is_available()
    assert cr.backends.cudnn.benchmark is False
    cr.backends.cudnn.benchmark = True  # accepted and ignored, as a program sets it
    cr.backends.cudnn.benchmark = False


def test_set_and_get_num_threads_drive_the_blas_pool():
    from threadpoolctl import threadpool_info

    def blas():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    before = cr.get_num_threads()
    assert blas() == {before}
    try:
        cr.set_num_threads(2)
        assert cr.get_num_threads() == 2 and blas() == {2}
        cr.set_num_threads(1)
        assert cr.get_num_threads() == 1 and blas() == {1}
        a = np.ones((64, 64))
        assert (cr.tensor(a) @ cr.tensor(a)).numpy().sum() == 64 ** 3
    finally:
        cr.set_num_threads(before)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ArgumentError, match="set_num_threads expects a positive "
                           "integer"):
            cr.set_num_threads(bad)
