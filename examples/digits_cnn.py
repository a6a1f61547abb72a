"""The classic Keras MNIST convnet, on the 8x8 digits, with the Keras-style API.

The architecture is the one from Keras's ``mnist_cnn`` example:
conv(32, 3x3)-relu, conv(64, 3x3)-relu, max-pool 2x2, dropout 0.25,
dense(128)-relu, dropout 0.5, dense(10)-softmax.  The softmax output with
categorical cross-entropy is written in its numerically stable form: a
``LogSoftmax`` output layer and the negative log-likelihood loss (``'nll'``),
which is the same function; ``exp`` of the output gives the probabilities.

Training uses ``Trainer.fit`` with a 10% validation split, early stopping on
the validation loss (best weights restored) and a learning-rate schedule;
the 80/20 test split is evaluated once at the end.

Asserted result: test accuracy >= 97% (>= 90% in the short mode,
``CHAINRULE_QUICK=1`` or ``--quick``, which trains 3 epochs).
Run: ``python examples/digits_cnn.py``.
"""
import os
import sys

import chainrule as cr
from chainrule import nn, optim
from chainrule.data import Standardize
from chainrule.data.datasets import load_digits
from chainrule.train import EarlyStopping, LearningRateScheduler, Trainer

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
EPOCHS, TARGET = (3, 0.90) if QUICK else (12, 0.97)


def convnet():
    """(N, 1, 8, 8) images -> (N, 10) log-probabilities."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=3), nn.ReLU(),     # -> (N, 32, 6, 6)
        nn.Conv2d(32, 64, kernel_size=3), nn.ReLU(),    # -> (N, 64, 4, 4)
        nn.MaxPool2d(2),                                # -> (N, 64, 2, 2)
        nn.Dropout(0.25),
        nn.Flatten(),                                   # -> (N, 256)
        nn.Linear(64 * 2 * 2, 128), nn.ReLU(),
        nn.Dropout(0.5),
        nn.Linear(128, 10), nn.LogSoftmax(dim=1),
    )


def main():
    cr.manual_seed(0)
    X, y = load_digits(images=True)
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    n_train = int(0.8 * len(X))
    train_idx, test_idx = perm[:n_train], perm[n_train:]
    scaler = Standardize().fit(X[train_idx])
    x_train, y_train = scaler(X[train_idx]), y[train_idx]
    x_test, y_test = scaler(X[test_idx]), y[test_idx]

    model = convnet()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    trainer = Trainer(model, opt, loss="nll", metrics=["accuracy"])
    trainer.fit(
        (x_train, y_train), epochs=EPOCHS, batch_size=32, validation_split=0.1,
        callbacks=[
            EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
            LearningRateScheduler(optim.lr_scheduler.CosineAnnealingLR(opt, EPOCHS)),
        ],
        verbose=2)

    score = trainer.evaluate((x_test, y_test))
    probs = cr.exp(trainer.predict(x_test[:1]))[0]
    print(f"first test image: true {y_test[0].item()}, predicted "
          f"{probs.argmax().item()} with probability {probs.max().item():.3f}")
    print(f"test loss {score['loss']:.4f}, test accuracy {score['accuracy']:.2%} "
          f"(target {TARGET:.0%})")
    return 0 if score["accuracy"] >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
