"""Hyper-parameter search for an MLP on the 8x8 digits, with early stopping of
poor trials, then the learning-rate finder.

The search space has a conditional entry (momentum exists only for SGD).
Optuna's TPE sampler proposes the trials, two worker processes run them in
parallel, and Hyperband's pruner stops trials whose validation loss lags,
fed each epoch by ``tune.TuneCallback`` inside ``Trainer.fit``.  Every trial
is recorded in the study file ``tune_digits.study``: run the script again
and the search continues where it stopped.  The best configuration is then
retrained on train + validation data and scored once on the test split.
Plots: ``tune_digits.png`` (objective per trial, slices, learning curves with
pruned trials marked) and ``lr_find.png``.

Asserted result: test accuracy of the best configuration >= 96% (>= 90% in
the short mode, ``CHAINRULE_QUICK=1`` or ``--quick``: 8 trials of 4 epochs),
and at least one trial pruned.
Run: ``python examples/tune_digits.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import nn, optim, tune
from chainrule.data import DataLoader, Standardize, TensorDataset
from chainrule.data.datasets import load_digits
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
BUDGET, EPOCHS, TARGET = (8, 4, 0.90) if QUICK else (40, 15, 0.96)

SPACE = {
    "lr": tune.Float(1e-4, 1.0, log=True),
    "width": tune.Int(16, 128, log=True),
    "optimizer": tune.Choice(["sgd", "adam"]),
    "momentum": tune.Float(0.0, 0.95, when={"optimizer": "sgd"}),
    "weight_decay": tune.Float(1e-6, 1e-2, log=True),
}


def data():
    X, y = load_digits()
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    X, y = X[perm], y[perm]
    tr, va = slice(0, 1100), slice(1100, 1437)
    scaler = Standardize().fit(X[tr])
    return ((scaler(X[tr]), y[tr]), (scaler(X[va]), y[va]),
            (scaler(X[1437:]), y[1437:]))


def build(p):
    """(N, 64) pixels -> (N, 10) logits, and its optimizer."""
    model = nn.Sequential(nn.Linear(64, p["width"]), nn.ReLU(),
                          nn.Linear(p["width"], 10))
    if p["optimizer"] == "sgd":
        opt = optim.SGD(model.parameters(), lr=p["lr"], momentum=p["momentum"],
                        weight_decay=p["weight_decay"])
    else:
        opt = optim.Adam(model.parameters(), lr=p["lr"],
                         weight_decay=p["weight_decay"])
    return model, opt


def main():
    train, val, test = data()

    def objective(p, trial):
        cr.manual_seed(0)
        model, opt = build(p)
        trainer = Trainer(model, opt, loss="cross_entropy", metrics=["accuracy"],
                          generator=cr.Generator().manual_seed(trial.number))
        trainer.fit(train, epochs=EPOCHS, batch_size=64, validation_data=val,
                    verbose=0, callbacks=[tune.TuneCallback(trial, "val_loss")])
        return trainer.history.history["val_loss"][-1]

    study = "tune_digits.study"
    res = tune.search(objective, SPACE, method="bayes", pruner="hyperband",
                      budget=BUDGET, seed=0, n_jobs=2, study=study)
    print(res.trials)
    print(f"best validation loss {res.best_value:.4f} with {res.best_params}")
    res.plot("tune_digits.png")

    cr.manual_seed(0)
    model, opt = build(res.best_params)
    both = tuple(cr.cat([a, b]) for a, b in zip(train, val))
    trainer = Trainer(model, opt, loss="cross_entropy", metrics=["accuracy"])
    trainer.fit(both, epochs=EPOCHS, batch_size=64, verbose=0)
    acc = trainer.evaluate(test)["accuracy"]

    cr.manual_seed(0)
    model, _ = build({"width": 64, "optimizer": "sgd", "lr": 0.1, "momentum": 0.0,
                      "weight_decay": 0.0})
    loader = DataLoader(TensorDataset(*train), batch_size=64, shuffle=True,
                        generator=cr.Generator().manual_seed(0))
    found = tune.lr_find(model, loader, nn.CrossEntropyLoss(), start_lr=1e-4,
                         end_lr=100.0, num_iter=80, smooth=0.9)
    found.plot("lr_find.png")
    print(f"lr finder: suggested learning rate {found.suggestion:.3g} for SGD")

    pruned = res.trials.count("PRUNED")
    print(f"trials: {len(res.trials)}, pruned {pruned}")
    print(f"test accuracy {acc:.2%} (target {TARGET:.0%})")
    return 0 if acc >= TARGET and pruned >= 1 else 1


if __name__ == "__main__":
    sys.exit(main())
