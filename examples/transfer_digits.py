"""Transfer learning on the 8x8 digits: a CNN trained on digits 0-4 is
repurposed for digits 5-9 from only 10 examples per class.

1. Pre-train the CNN on the digits 0-4 (about 720 images).
2. New task, digits 5-9, 10 labelled images per class (50 in all):
   - *scratch*: the same architecture, freshly initialised, trained on the 50;
   - *feature extraction*: the pre-trained body frozen, its 64 features
     computed once (``extract_features``) and a new 5-way head
     (``replace_head``) trained on them;
   - *fine-tuning*: then the whole network trained further with
     discriminative learning rates (``discriminative_groups``) and gradual
     unfreezing (``GradualUnfreezing``), head first.
3. Score on every held-out 5-9 image; repeat for several draws of the 50.

Measured (10 draws): scratch 92.1%, feature extraction 78.1%, fine-tuning
84.2%.
On these 8x8 digits the 50 examples already train the small CNN from
scratch to about 92%, and features learnt from five classes carry less
than the 50 new images teach, so transfer from 0-4 does NOT win here (the
10-point gain expected on larger images is not reproduced; see
docs/transfer.md).

Asserted result: the frozen body is unchanged by training the head on its
cached features, and fine-tuning improves on feature extraction by >= 2
points on average (1 draw in the short mode, ``CHAINRULE_QUICK=1`` or
``--quick``; 10 otherwise); the gain over scratch is printed.
Run: ``python examples/transfer_digits.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import nn, optim, transfer
from chainrule.data.datasets import load_digits
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
DRAWS, PRE_EPOCHS = (1, 4) if QUICK else (10, 15)
SHOTS = 10


def convnet():
    """(N, 1, 8, 8) images -> (N, 5) logits; ``[:-1]`` is the 64-feature body."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(),          # -> (N, 16, 6, 6)
        nn.Conv2d(16, 32, 3), nn.ReLU(),         # -> (N, 32, 4, 4)
        nn.MaxPool2d(2), nn.Flatten(),           # -> (N, 128)
        nn.Linear(128, 64), nn.ReLU(),           # -> (N, 64) features
        nn.Linear(64, 5),                        # -> (N, 5) the head
    )


def few_shot(X, y, draw):
    """10 images per class of 5-9 (labels 0-4) and the rest as the test set."""
    g = cr.Generator().manual_seed(100 + draw)
    picked = []
    for c in range(5):
        idx = (y == c).nonzero().reshape(-1)
        picked.append(idx[cr.randperm(len(idx), generator=g)[:SHOTS]])
    picked = cr.cat(picked)
    mask = cr.ones(len(y), dtype=cr.bool)
    mask[picked] = False
    return (X[picked], y[picked]), (X[mask], y[mask])


def fit(model, opt, data, epochs, callbacks=()):
    trainer = Trainer(model, opt, loss="cross_entropy", metrics=["accuracy"],
                      generator=cr.Generator().manual_seed(0))
    trainer.fit(data, epochs=epochs, batch_size=10, verbose=0,
                callbacks=list(callbacks))
    return trainer


def main():
    X, y = load_digits(images=True)
    X = X / 16.0
    old, new = y < 5, y >= 5
    cr.manual_seed(0)
    pre = convnet()
    fit(pre, optim.Adam(pre.parameters(), lr=2e-3), (X[old], y[old]), PRE_EPOCHS)
    state = {k: v.clone() for k, v in pre.state_dict().items()}

    scores = {"scratch": [], "features": [], "finetune": []}
    for draw in range(DRAWS):
        train, test = few_shot(X[new], y[new] - 5, draw)

        cr.manual_seed(draw)
        scratch = convnet()
        t = fit(scratch, optim.Adam(scratch.parameters(), lr=2e-3), train, 60)
        scores["scratch"].append(t.evaluate(test)["accuracy"])

        # Feature extraction: the frozen body runs once over the data.
        model = convnet()
        model.load_state_dict(state)
        transfer.freeze(model)
        cr.manual_seed(draw)
        transfer.replace_head(model, "-1", nn.Linear(64, 5))
        body = model[:-1]
        feats = transfer.extract_features(body, train)
        head = model[-1]
        body_before = [p.clone() for p in body.parameters()]
        fit(head, optim.Adam(head.parameters(), lr=1e-2), feats, 60)
        unchanged = all(cr.equal(a, b)
                        for a, b in zip(body_before, body.parameters()))
        t = Trainer(model, None, loss="cross_entropy", metrics=["accuracy"])
        scores["features"].append(t.evaluate(test)["accuracy"])

        # Fine-tuning: everything, input layers slower, unfrozen from the top.
        groups = ["0", "2", "6", "8"]
        opt = optim.Adam(transfer.discriminative_groups(model, 1e-3, decay=3.0,
                                                        groups=groups))
        t = fit(model, opt, train, 20, [transfer.GradualUnfreezing(groups, every=3)])
        scores["finetune"].append(t.evaluate(test)["accuracy"])

    mean = {k: sum(v) / len(v) for k, v in scores.items()}
    for k, v in scores.items():
        print(f"{k:9s} accuracy {mean[k]:.2%} over {len(v)} draws "
              f"({', '.join(f'{a:.1%}' for a in v)})")
    gain = max(mean["features"], mean["finetune"]) - mean["scratch"]
    tune_gain = mean["finetune"] - mean["features"]
    print(f"transfer gain over scratch {100 * gain:.1f} points")
    print(f"body unchanged by head training: {unchanged}")
    print(f"fine-tuning gain over feature extraction {100 * tune_gain:.1f} points "
          f"(target >= 2)")
    return 0 if unchanged and tune_gain >= 0.02 else 1


if __name__ == "__main__":
    sys.exit(main())
