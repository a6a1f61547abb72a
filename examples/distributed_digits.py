"""The digits CNN trained data-parallel on several processes, over MPI.

Run with ``chainrule run -n 2 examples/distributed_digits.py`` (any number of
processes; ``python examples/distributed_digits.py`` runs it on one).  Each
process builds the same model and data; ``Trainer(..., strategy="ddp")``
wraps the model in ``DistributedDataParallel`` (rank 0's initial weights,
gradients averaged over processes), gives each process its share of every
epoch through a ``DistributedSampler``, averages the logged loss and
accuracy over processes, and lets only rank 0 print and write files.

With N processes of batch 32/N the optimizer sees the same batches of 32 as
one process would, so the result does not depend on N beyond rounding.

Asserted result: test accuracy >= 97% (>= 90% in the short mode,
``CHAINRULE_QUICK=1`` or ``--quick``, which trains 3 epochs), checked on
every process.
"""
import os
import sys

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn, optim
from chainrule.data import Standardize
from chainrule.data.datasets import load_digits
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
EPOCHS, TARGET = (3, 0.90) if QUICK else (12, 0.97)
GLOBAL_BATCH = 32


def convnet():
    """(N, 1, 8, 8) images -> (N, 10) logits."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3), nn.ReLU(),     # -> (N, 32, 6, 6)
        nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(),    # -> (N, 64, 4, 4)
        nn.MaxPool2d(2), nn.Flatten(),                  # -> (N, 256)
        nn.Linear(256, 128), nn.ReLU(),
        nn.Linear(128, 10),
    )


def main():
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if GLOBAL_BATCH % world:
        raise SystemExit(f"use a process count that divides {GLOBAL_BATCH}")
    cr.manual_seed(0)
    X, y = load_digits(images=True)
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    n_train = int(0.8 * len(X))
    scaler = Standardize().fit(X[perm[:n_train]])
    x_train, y_train = scaler(X[perm[:n_train]]), y[perm[:n_train]]
    x_test, y_test = scaler(X[perm[n_train:]]), y[perm[n_train:]]

    model = convnet()
    trainer = Trainer(model, optim.Adam(model.parameters(), lr=1e-3),
                      metrics=["accuracy"], strategy="ddp")
    trainer.fit((x_train, y_train), epochs=EPOCHS, batch_size=GLOBAL_BATCH // world,
                verbose=2)
    score = trainer.evaluate((x_test, y_test))
    if rank == 0:
        print(f"{world} processes, batch {GLOBAL_BATCH // world} each: test accuracy "
              f"{score['accuracy']:.2%} (target {TARGET:.0%})", flush=True)
    dist.destroy_process_group()
    return 0 if score["accuracy"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
