"""An old-style regression script: tensors made with the legacy constructor
``torch.Tensor(40, 1)`` / ``torch.Tensor(3)`` / ``torch.Tensor(list)`` and
filled in place, trained by hand-written full-batch gradient descent.

Everything is deterministic given the seed (data and initial weights come
from NumPy), so the two frameworks agree closely.
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn

TOLERANCE = {"loss": 1e-4, "w0": 1e-4, "w1": 1e-4, "b": 1e-4, "n_params": 0.0}


class Regressor(nn.Module):
    def __init__(self, n_in, n_hidden):
        super().__init__()
        # The legacy idiom: uninitialised storage, filled afterwards.
        self.w1 = nn.Parameter(torch.Tensor(n_in, n_hidden))
        self.b1 = nn.Parameter(torch.Tensor(n_hidden))
        self.w2 = nn.Parameter(torch.Tensor(n_hidden, 1))
        self.b2 = nn.Parameter(torch.Tensor(1))

    def reset(self, rng):
        with torch.no_grad():
            for p in (self.w1, self.b1, self.w2, self.b2):
                p.copy_(torch.Tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).tolist()))

    def forward(self, x):
        return torch.tanh(x @ self.w1 + self.b1) @ self.w2 + self.b2


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)

    x = torch.Tensor(40, 1)  # 40 rows, one feature
    assert x.dtype == torch.float32 and tuple(x.shape) == (40, 1)
    x.copy_(torch.Tensor(rng.uniform(-2, 2, (40, 1)).tolist()))
    y = torch.Tensor((np.sin(x.numpy()) + 0.1 * rng.standard_normal((40, 1))).tolist())
    assert y.dtype == torch.float32
    scale = torch.Tensor([0.5, 2])  # data, not sizes: two floats
    assert tuple(scale.shape) == (2,) and scale.dtype == torch.float32

    model = Regressor(1, 16)
    model.reset(rng)
    lr = 0.1
    steps = 200 if args.short else 1000
    for _ in range(steps):
        loss = ((model(x) - y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
    with torch.no_grad():
        loss = ((model(x) - y) ** 2).mean().item()
        probe = model(torch.Tensor([[-1.0], [1.0]])).reshape(-1).tolist()
    result = {"loss": loss, "w0": probe[0], "w1": probe[1],
              "b": model.b2.item(), "n_params": sum(p.numel() for p in
                                                     model.parameters())}
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
