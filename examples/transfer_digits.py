"""Transfer learning on the 8x8 digits: a CNN trained on digits 0-4 is
repurposed for digits 5-9 from only 10 examples per class.

1. Pre-train the CNN on the digits 0-4 (about 900 images).
2. New task, digits 5-9, 10 labelled images per class (50 in all), each
   model with the same budget (60 epochs of Adam, batches of 10, head rate
   2e-3):
   - *scratch*: the same architecture, freshly initialised;
   - *feature extraction*: the pre-trained body frozen, its 64 features
     computed once (``extract_features``) and a new 5-way head
     (``replace_head``) trained on them;
   - *fine-tuning*: every layer from the 0-4 weights, the scratch recipe;
   - *gradual*: fine-tuning with discriminative learning rates
     (``discriminative_groups``, 3x slower per group towards the input) and
     gradual unfreezing (``GradualUnfreezing``), head first.
3. Score on every 5-9 image not drawn (846); repeat for 10 draws of the 50.

Measured (10 draws, mean +- std): scratch 92.1 +- 1.5%, feature extraction
72.2 +- 2.0%, fine-tuning 91.3 +- 1.7%, gradual 89.6 +- 2.0%.
The issue's target, transfer beating scratch by >= 10 points, is NOT met
and cannot be on this data: scratch already reaches 92.1%, leaving 7.9
points below 100%.  Features learnt from five classes carry less than the
50 new images teach.  With a fair tuning budget (each arm's lr and epochs
picked by 5-fold cross-validation inside the 50 images, never on the test
set; 10 draws; ``tools/transfer_study.py``), fine-tuning and scratch are
level: 94.5% vs 93.8% (gain +0.7 +- 2.4 per draw) when both train on
random 1-pixel shifts, 91.7% vs 91.1% (+0.6 +- 2.5) without; a deeper
source CNN, frozen or transferred conv layers and discriminative rates do
no better.  See the tables in docs/transfer.md.

Asserted result: the frozen body is unchanged by training the head on its
cached features; fine-tuning (gradual) improves on feature extraction by
>= 2 points on average; in full mode, scratch reaches >= 90% (the reason a
10-point gain is out of reach); the gain over scratch is printed (short
mode, ``CHAINRULE_QUICK=1`` or ``--quick``: 1 draw, 30 epochs).
Run: ``python examples/transfer_digits.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import nn, optim, transfer
from chainrule.data.datasets import load_digits
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
DRAWS, PRE_EPOCHS, EPOCHS = (1, 4, 30) if QUICK else (10, 15, 60)
SHOTS, LR = 10, 2e-3


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


def stats(v):
    """Mean and sample standard deviation of a list of accuracies, in %."""
    mu = sum(v) / len(v)
    sd = (sum((a - mu) ** 2 for a in v) / max(1, len(v) - 1)) ** 0.5
    return 100 * mu, 100 * sd


def pretrained(state, draw):
    """The CNN with the 0-4 weights and a fresh 5-way head."""
    model = convnet()
    model.load_state_dict(state)
    cr.manual_seed(draw)
    transfer.replace_head(model, "-1", nn.Linear(64, 5))
    return model


def main():
    X, y = load_digits(images=True)
    X = X / 16.0
    old, new = y < 5, y >= 5
    cr.manual_seed(0)
    pre = convnet()
    fit(pre, optim.Adam(pre.parameters(), lr=LR), (X[old], y[old]), PRE_EPOCHS)
    state = {k: v.clone() for k, v in pre.state_dict().items()}

    scores = {"scratch": [], "features": [], "finetune": [], "gradual": []}
    groups = ["0", "2", "6", "8"]
    for draw in range(DRAWS):
        train, test = few_shot(X[new], y[new] - 5, draw)

        # Every model below gets the same budget: EPOCHS epochs of Adam on the
        # 50 images, batches of 10, head learning rate LR.
        cr.manual_seed(draw)
        scratch = convnet()
        t = fit(scratch, optim.Adam(scratch.parameters(), lr=LR), train, EPOCHS)
        scores["scratch"].append(t.evaluate(test)["accuracy"])

        # Feature extraction: the frozen body runs once over the data.
        model = pretrained(state, draw)
        transfer.freeze(model[:-1])
        body, head = model[:-1], model[-1]
        feats = transfer.extract_features(body, train)
        body_before = [p.clone() for p in body.parameters()]
        fit(head, optim.Adam(head.parameters(), lr=LR), feats, EPOCHS)
        unchanged = all(cr.equal(a, b)
                        for a, b in zip(body_before, body.parameters()))
        t = Trainer(model, None, loss="cross_entropy", metrics=["accuracy"])
        scores["features"].append(t.evaluate(test)["accuracy"])

        # Fine-tuning every layer with the scratch recipe, from the 0-4 weights.
        model = pretrained(state, draw)
        t = fit(model, optim.Adam(model.parameters(), lr=LR), train, EPOCHS)
        scores["finetune"].append(t.evaluate(test)["accuracy"])

        # ULMFiT's recipe: input layers slower, unfrozen from the top.
        model = pretrained(state, draw)
        opt = optim.Adam(transfer.discriminative_groups(model, LR, decay=3.0,
                                                        groups=groups))
        t = fit(model, opt, train, EPOCHS,
                [transfer.GradualUnfreezing(groups, every=3)])
        scores["gradual"].append(t.evaluate(test)["accuracy"])

    mean = {k: stats(v)[0] for k, v in scores.items()}
    print(f"test set: the {len(test[1])} images of 5-9 not drawn; {DRAWS} draws, "
          f"{EPOCHS} epochs each")
    for k, v in scores.items():
        mu, sd = stats(v)
        print(f"{k:9s} accuracy {mu:.1f} +- {sd:.1f}% "
              f"({', '.join(f'{100 * a:.1f}' for a in v)})")
    gain = max(mean["features"], mean["finetune"], mean["gradual"]) - mean["scratch"]
    tune_gain = mean["gradual"] - mean["features"]
    print(f"transfer gain over scratch {gain:.1f} points (issue's target >= 10; "
          f"headroom above scratch {100 - mean['scratch']:.1f} points)")
    print(f"body unchanged by head training: {unchanged}")
    print(f"fine-tuning gain over feature extraction {tune_gain:.1f} points "
          f"(target >= 2)")
    ok = unchanged and tune_gain >= 2
    if not QUICK:  # the reason the 10-point target cannot be met here
        ok = ok and mean["scratch"] >= 90
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
