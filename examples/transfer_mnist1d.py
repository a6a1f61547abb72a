"""Transfer learning on MNIST-1D: a 1-D CNN trained on digits 0-4 is
repurposed for digits 5-9 from only 10 examples per class.

MNIST-1D (Greydanus, 2020; ``load_mnist1d``, generated offline) turns ten
1-D digit templates into signals of length 40 with random padding, scale,
translation, shear and correlated noise: hard for a model that sees few
examples, easier for one that has learnt translation-tolerant shape
detectors.  (The example used to run on the 8x8 digits, where the CNN from
scratch already reaches 92% from 50 images, so the issue's 10-point gain
could not exist; see docs/transfer.md.)

1. Pre-train the CNN on the signals of 0-4 (5,000 of 10,000 generated).
2. New task, 5-9, 10 labelled signals per class (50 in all).  Every model
   gets the same budget, the 8x8 example's recipe carried over untuned
   (60 epochs of Adam, batches of 10, rate 2e-3 for the head):
   - *scratch*: the same architecture, freshly initialised;
   - *feature extraction*: the pre-trained body frozen, its 64 features
     computed once (``extract_features``) and a new 5-way head
     (``replace_head``) trained on them;
   - *fine-tuning*: every layer from the 0-4 weights and a new head;
   - *gradual*: fine-tuning with discriminative learning rates
     (``discriminative_groups``, 3x slower per group towards the input) and
     gradual unfreezing (``GradualUnfreezing``), head first.
3. Score on every 5-9 signal not drawn (4,950); repeat for 10 draws of the
   50 and report each arm's mean +- std and fine-tuning's gain per draw.

Measured (10 draws, mean +- std; 66 s on one core): scratch 51.2 +- 3.6%,
feature extraction 70.5 +- 2.3%, fine-tuning 68.1 +- 6.5%, gradual 68.4 +-
4.3%; fine-tuning - scratch +16.9 +- 5.6 points per draw, positive in all
10 (smallest +10.3); with ``--seed 1``, +20.4 +- 4.2.  The recipe is not
tuned for transfer: ``tools/transfer_study.py --data mnist1d`` picks each
arm's learning rate and epochs by 5-fold cross-validation inside the 50
signals (never the test set) and finds the same gap: scratch 51.8 +- 5.0%,
fine-tuning 67.2 +- 6.4% (+15.4 +- 6.4 per draw, 10 of 10 > 0), feature
extraction 69.2 +- 3.0%.  So the issue's target (transfer beats scratch by
>= 10 points) holds here; the frozen features do as well as fine-tuning
(within the draw-to-draw noise), which is what a good source predicts.
Tables in docs/transfer.md.

Asserted result: the frozen body is unchanged by training the head on its
cached features; fine-tuning beats scratch on average by >= 10 points in
full mode (the issue's target), by >= 5 points in short mode
(``CHAINRULE_QUICK=1`` or ``--quick``: 6,000 signals generated, 1 draw,
pre-training 15 epochs instead of 20; about 15 s; measured gains +12.4,
+19.2, +15.1, +19.9 with seeds 0-3).
Run: ``python examples/transfer_mnist1d.py`` (``--seed S`` changes the
generated data and the draws).
"""
import os
import sys

import chainrule as cr
from chainrule import nn, optim, transfer
from chainrule.data.datasets import load_mnist1d
from chainrule.train import Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
SEED = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 0
SIGNALS, DRAWS, PRE_EPOCHS = (6000, 1, 15) if QUICK else (10000, 10, 20)
SHOTS, EPOCHS, LR = 10, 60, 2e-3
GROUPS = ["0", "3", "6", "10", "12"]   # the layers with weights, input first


def convnet():
    """(N, 1, 40) signals -> (N, 5) logits; ``[:-1]`` is the 64-feature body."""
    return nn.Sequential(
        nn.Conv1d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),   # (N, 32, 20)
        nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),  # (N, 32, 10)
        nn.Conv1d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool1d(2),  # (N, 32, 5)
        nn.Flatten(),                                                 # (N, 160)
        nn.Linear(160, 64), nn.ReLU(),                                # (N, 64)
        nn.Linear(64, 5),                                             # the head
    )


def few_shot(X, y, draw):
    """10 signals per class of 5-9 (labels 0-4) and the rest as the test set."""
    g = cr.Generator().manual_seed(100 + 1000 * SEED + draw)
    picked = []
    for c in range(5):
        idx = (y == c).nonzero().reshape(-1)
        picked.append(idx[cr.randperm(len(idx), generator=g)[:SHOTS]])
    picked = cr.cat(picked)
    mask = cr.ones(len(y), dtype=cr.bool)
    mask[picked] = False
    return (X[picked], y[picked]), (X[mask], y[mask])


def fit(model, opt, data, epochs, callbacks=(), batch_size=10):
    trainer = Trainer(model, opt, loss="cross_entropy", metrics=["accuracy"],
                      generator=cr.Generator().manual_seed(SEED))
    trainer.fit(data, epochs=epochs, batch_size=batch_size, verbose=0,
                callbacks=list(callbacks))
    return trainer


def stats(v):
    """Mean and sample standard deviation of a list of fractions, in %."""
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
    X, y = load_mnist1d(SIGNALS, seed=SEED)
    old, new = y < 5, y >= 5
    cr.manual_seed(SEED)
    pre = convnet()
    fit(pre, optim.Adam(pre.parameters(), lr=1e-3), (X[old], y[old]), PRE_EPOCHS,
        batch_size=64)
    state = {k: v.clone() for k, v in pre.state_dict().items()}

    scores = {"scratch": [], "features": [], "finetune": [], "gradual": []}
    for draw in range(DRAWS):
        train, test = few_shot(X[new], y[new] - 5, draw)

        # Every model below gets the same budget: EPOCHS epochs of Adam on the
        # 50 signals, batches of 10, head learning rate LR.
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
                                                        groups=GROUPS))
        t = fit(model, opt, train, EPOCHS,
                [transfer.GradualUnfreezing(GROUPS, every=3)])
        scores["gradual"].append(t.evaluate(test)["accuracy"])

    print(f"test set: the {len(test[1])} signals of 5-9 not drawn; {DRAWS} draws, "
          f"{EPOCHS} epochs each; source: {int(old.sum())} signals of 0-4")
    for k, v in scores.items():
        mu, sd = stats(v)
        print(f"{k:9s} accuracy {mu:.1f} +- {sd:.1f}% "
              f"({', '.join(f'{100 * a:.1f}' for a in v)})")
    gains = [f - s for f, s in zip(scores["finetune"], scores["scratch"])]
    gain, gain_sd = stats(gains)
    target = 5 if QUICK else 10
    print(f"fine-tuning gain over scratch {gain:.1f} +- {gain_sd:.1f} points "
          f"(target >= {target}); per draw "
          f"{', '.join(f'{100 * g:+.1f}' for g in gains)}; "
          f"{sum(g > 0 for g in gains)} of {DRAWS} > 0")
    print(f"body unchanged by head training: {unchanged}")
    return 0 if unchanged and gain >= target else 1


if __name__ == "__main__":
    sys.exit(main())
