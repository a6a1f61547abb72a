"""Lottery tickets on the 8x8 digits (Frankle & Carbin, 2018).

A 64-300-100-10 fully connected network (the paper's LeNet-300-100, with
64 inputs) is trained, then pruned by iterative magnitude pruning: each
round removes 20% of the remaining weights (globally over the hidden
layers, 10% of the output layer), rewinds the survivors to their initial
values and trains again.  The control trains the same masks from a fresh
random initialisation.  Test accuracy against weights remaining goes to
``lottery_digits.png``.

Asserted result: the ticket with 10-20% of the weights left reaches the
dense network's accuracy within 1 point, and the same mask with fresh
random weights falls behind the ticket (short mode, ``CHAINRULE_QUICK=1`` or
``--quick``: 50% per round, 3 rounds, to 14% left; full: 20% per round, 9
rounds, to 14%; both within 1.5 points in the short mode).
Run: ``python examples/lottery_digits.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import lottery, nn, optim
from chainrule.data import Standardize
from chainrule.data.datasets import load_digits
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
RATE, ROUNDS, EPOCHS, TOL = (0.5, 3, 8, 0.015) if QUICK else (0.2, 9, 12, 0.01)


def mlp():
    """(N, 64) pixels -> (N, 10) logits."""
    return nn.Sequential(nn.Linear(64, 300), nn.ReLU(), nn.Linear(300, 100),
                         nn.ReLU(), nn.Linear(100, 10))


def main():
    X, y = load_digits()
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    X, y = X[perm], y[perm]
    scaler = Standardize().fit(X[:1200])
    train, test = (scaler(X[:1200]), y[:1200]), (scaler(X[1200:]), y[1200:])

    def fit(model):
        trainer = Trainer(model, optim.Adam(model.parameters(), lr=1.2e-3),
                          generator=cr.Generator().manual_seed(0))
        trainer.fit(train, epochs=EPOCHS, batch_size=60, verbose=0)

    def score(model):
        return Trainer(model, None, metrics=["accuracy"]).evaluate(test)["accuracy"]

    control = []

    def random_reinit(imp, entry):
        if entry["round"] == 0 or (QUICK and entry["round"] < ROUNDS):
            return
        saved = [p.detach().clone() for p in imp.model.parameters()]
        cr.manual_seed(1000 + entry["round"])
        imp.reinitialize(mlp())
        fit(imp.model)
        control.append((entry["remaining"], score(imp.model)))
        with cr.no_grad():  # back to the trained ticket for the next round
            for p, s in zip(imp.model.parameters(), saved):
                p.copy_(s)
        print(f"round {entry['round']}: {entry['remaining']:6.1%} weights left, "
              f"ticket {entry['score']:.2%}, random reinit {control[-1][1]:.2%}",
              flush=True)

    cr.manual_seed(0)
    model = mlp()
    imp, history = lottery.find_ticket(model, fit, score, rounds=ROUNDS, rate=RATE,
                                       on_round=random_reinit)
    dense = history[0]["score"]
    print(f"dense: {dense:.2%}")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.ticker
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    ax.plot([100 * h["remaining"] for h in history],
            [100 * h["score"] for h in history], "o-", label="winning ticket (rewound)")
    ax.plot([100 * r for r, _ in control], [100 * a for _, a in control], "s--",
            label="same mask, random reinit")
    ax.axhline(100 * dense, c="grey", lw=0.8, label="dense")
    ax.set_xscale("log")
    ax.set_xticks([100, 50, 25, 12.5])
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.invert_xaxis()
    ax.set_xlabel("weights remaining (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("lottery tickets on digits")
    ax.legend()
    fig.tight_layout()
    fig.savefig("lottery_digits.png", dpi=90)

    in_range = [h for h in history if 0.10 <= h["remaining"] <= 0.20]
    best = max(in_range, key=lambda h: h["score"])
    rnd = dict(control)[best["remaining"]] if best["remaining"] in dict(control) \
        else control[-1][1]
    print(f"ticket at {best['remaining']:.1%} weights left: {best['score']:.2%} vs "
          f"dense {dense:.2%} (gap {100 * (dense - best['score']):.2f} points, "
          f"target <= {100 * TOL:.1f})")
    print(f"random reinit at that mask: {rnd:.2%} (behind the ticket by "
          f"{100 * (best['score'] - rnd):.2f} points)")
    ok = dense - best["score"] <= TOL and rnd < best["score"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
