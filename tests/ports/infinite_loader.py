"""A trainer in the style of popular GPT trainers: an "infinite" loader,
``RandomSampler(replacement=True, num_samples=int(1e10))``, read with
``next(iter)`` for a fixed number of iterations, AdamW, gradient clipping.

Data and initial weights come from NumPy with the seed, so two frameworks
start from the same point; their samplers draw different batches, so the
results agree to the tolerances below, not bit for bit.
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, RandomSampler

# (the mean loss of the last 50 batches is small and sampler-noise dominated)
TOLERANCE = {"loss": 0.5, "accuracy": 0.05}
SEEDS = [0, 1]


class Blobs(Dataset):
    """Four Gaussian blobs in 8 dims; items built on demand, as a file-backed
    dataset would."""

    def __init__(self, n, seed):
        rng = np.random.default_rng(seed)
        self.centers = rng.standard_normal((4, 8)) * 2.0
        self.labels = rng.integers(0, 4, n)
        self.noise = rng.standard_normal((n, 8)).astype(np.float32)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        x = self.centers[self.labels[i]].astype(np.float32) + self.noise[i]
        return torch.tensor(x), torch.tensor(int(self.labels[i]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--short", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_ds, test_ds = Blobs(512, args.seed), Blobs(256, args.seed + 100)
    test_ds.centers = train_ds.centers
    model = nn.Sequential(nn.Linear(8, 32), nn.GELU(), nn.Linear(32, 4)).to(device)
    rng = np.random.default_rng(args.seed + 1)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.3, 0.3, tuple(p.shape)),
                                 dtype=torch.float32))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, betas=(0.9, 0.95),
                            weight_decay=0.1)
    sampler = RandomSampler(train_ds, replacement=True, num_samples=int(1e10))
    loader = DataLoader(train_ds, sampler=sampler, shuffle=False, pin_memory=False,
                        batch_size=32, num_workers=0)
    max_iters = 150 if args.short else 400
    data_iter = iter(loader)
    losses = []
    model.train()
    for _ in range(max_iters):
        try:
            x, y = next(data_iter)
        except StopIteration:
            data_iter = iter(loader)
            x, y = next(data_iter)
        x, y = x.to(device), y.to(device)
        loss = F.cross_entropy(model(x), y)
        model.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    xs = torch.stack([test_ds[i][0] for i in range(len(test_ds))])
    ys = torch.stack([test_ds[i][1] for i in range(len(test_ds))])
    with torch.no_grad():
        accuracy = (model(xs).argmax(dim=1) == ys).float().mean().item()
    result = {"loss": float(np.mean(losses[-50:])), "accuracy": accuracy}
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
