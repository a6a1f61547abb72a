import numpy as np
import torch

from tests.oracle import check_against_torch, numeric_grad_check


def test_mlp_gradients_match_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w = rng.standard_normal((4, 3)).astype(np.float32)
    check_against_torch(lambda a, b: (a @ b).relu().sum(1).exp(),
                        lambda a, b: (a @ b).relu().sum(1).exp(), [x, w])


def test_finite_differences():
    rng = np.random.default_rng(2)
    numeric_grad_check(lambda a, b: (a @ b).tanh(), [rng.standard_normal((3, 4)),
                                                      rng.standard_normal((4, 2))])
    assert torch.__version__.startswith("2.13.0")
