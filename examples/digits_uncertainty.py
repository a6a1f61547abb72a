"""Calibration on the 8x8 digits: a deterministic CNN against a Bayesian CNN,
MC dropout and a 5-member deep ensemble.

All four share one small architecture (conv 3x3 with 16 channels, ReLU,
dense 64, ReLU, dense to 10 classes) and are trained with Adam on the same
400 images (a small training set, where overconfidence shows); the
Bayesian CNN uses ``BayesConv2d``/``BayesLinear`` and the ELBO, MC dropout
keeps a dropout layer (p = 0.2) on at prediction (32 passes), the ensemble trains five
copies from different seeds.  Prints accuracy, NLL and expected calibration
error (15 bins) on a held-out 20% test split and writes ``digits_uncertainty.png``
(a reliability diagram per model).

Asserted result: every model reaches 90% accuracy and each probabilistic
model has a lower test NLL than the deterministic network.  ECE is reported,
not asserted: on this small problem the deterministic network is already well
calibrated (ECE about 0.02) and the averaged models lean slightly towards
underconfidence, so their ECE is not lower.
``CHAINRULE_QUICK=1`` or ``--quick`` trains fewer epochs.
Run: ``python examples/digits_uncertainty.py``.
"""
import os
import sys

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import bayes, nn, optim
from chainrule.bayes.calibration import _bins
from chainrule.data.datasets import load_digits

QUICK = os.environ.get("CHAINRULE_QUICK") == "1" or "--quick" in sys.argv
EPOCHS = 40 if QUICK else 60
N_TRAIN = 400  # a small training set: where overconfidence shows


def cnn(dropout=0.0):
    drop = [nn.Dropout(dropout)] if dropout else []
    return nn.Sequential(nn.Conv2d(1, 16, 3), nn.ReLU(), nn.Flatten(), *drop,
                         nn.Linear(16 * 36, 64), nn.ReLU(), *drop, nn.Linear(64, 10))


def bayes_cnn():
    return nn.Sequential(bayes.BayesConv2d(1, 16, 3, rho_init=-6.0), nn.ReLU(),
                         nn.Flatten(), bayes.BayesLinear(16 * 36, 64, rho_init=-6.0),
                         nn.ReLU(), bayes.BayesLinear(64, 10, rho_init=-6.0))


def train(model, x, y, seed, variational=False):
    gen = cr.Generator().manual_seed(seed)
    opt = optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(EPOCHS):
        perm = cr.randperm(len(x), generator=gen)
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            if variational:
                loss = bayes.elbo(model, loss, len(x))
            loss.backward()
            opt.step()
    model.eval()
    return model


def scores(probs, y):
    acc = float((probs.argmax(-1) == y).to(cr.float32).mean())
    return (acc, bayes.negative_log_likelihood(probs, y),
            bayes.expected_calibration_error(probs, y))


def main():
    X, y = load_digits(images=True)
    X = X / 16.0
    perm = cr.randperm(len(X), generator=cr.Generator().manual_seed(0))
    tr, te = perm[:N_TRAIN], perm[1437:]
    xtr, ytr, xte, yte = X[tr], y[tr], X[te], y[te]
    results = {}
    cr.manual_seed(0)
    det = train(cnn(), xtr, ytr, 0)
    with cr.no_grad():
        results["deterministic"] = F.softmax(det(xte), -1)
    cr.manual_seed(1)
    bnn = train(bayes_cnn(), xtr, ytr, 1, variational=True)
    results["Bayesian CNN"] = bayes.predict(bnn, xte, samples=32)
    cr.manual_seed(2)
    mcd = train(cnn(dropout=0.2), xtr, ytr, 2)
    results["MC dropout"] = bayes.predict(mcd, xte, samples=32)
    members = []
    for s in range(5):
        cr.manual_seed(10 + s)
        members.append(train(cnn(), xtr, ytr, 10 + s))
    results["ensemble of 5"] = bayes.predict(bayes.Ensemble(members), xte)
    table = {k: scores(p, yte) for k, p in results.items()}
    print(f"{'model':<16}{'accuracy':>10}{'NLL':>8}{'ECE':>8}")
    for k, (acc, nll, ece) in table.items():
        print(f"{k:<16}{acc:>10.3f}{nll:>8.3f}{ece:>8.3f}")
    _plot(results, yte, table)
    d_nll = table["deterministic"][1]
    for k, (acc, nll, ece) in table.items():
        assert acc >= 0.90, (k, acc)
        if k != "deterministic":
            assert nll < d_nll, (k, nll, d_nll)


def _plot(results, y, table, n_bins=10):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 3.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(results), sharey=True)
    for ax, (name, p) in zip(axes, results.items()):
        count, conf, acc = (t.numpy() for t in _bins(p, y, n_bins))
        nz = count > 0
        centers = (cr.arange(n_bins).numpy() + 0.5) / n_bins
        ax.bar(centers[nz], acc[nz] / count[nz], width=1 / n_bins, edgecolor="k",
               alpha=0.7, label="accuracy")
        ax.plot(conf[nz] / count[nz], acc[nz] / count[nz], "o", color="C3",
                label="mean confidence")
        ax.plot([0, 1], [0, 1], "k--", lw=1)
        ax.set(title=f"{name}\nECE {table[name][2]:.3f}, NLL {table[name][1]:.3f}",
               xlabel="confidence", xlim=(0, 1), ylim=(0, 1))
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig("digits_uncertainty.png", dpi=100)


if __name__ == "__main__":
    main()
