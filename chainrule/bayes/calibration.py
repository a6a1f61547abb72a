"""Calibration metrics and the reliability diagram.

``probs`` (N, C) predicted class probabilities, ``labels`` (N,) int classes.
"""
import chainrule as cr
from chainrule.errors import ShapeError


def _check(probs, labels, op):
    if probs.ndim != 2 or labels.ndim != 1 or labels.shape[0] != probs.shape[0]:
        raise ShapeError(f"{op}: expected probs (N, C) and labels (N,), got "
                         f"{list(probs.shape)} and {list(labels.shape)}")


def _bins(probs, labels, n_bins):
    conf = probs.max(-1).values
    correct = (probs.argmax(-1) == labels).to(probs.dtype)
    idx = (conf * n_bins).floor().clamp(max=n_bins - 1).to(cr.int64)
    onehot = cr.one_hot(idx, n_bins).to(probs.dtype)  # (N, B)
    count = onehot.sum(0)
    return count, (onehot * conf[:, None]).sum(0), (onehot * correct[:, None]).sum(0)


def expected_calibration_error(probs, labels, n_bins=15):
    """``sum_b |B_b|/N |acc(B_b) - conf(B_b)|`` over equal-width confidence bins."""
    _check(probs, labels, "expected_calibration_error")
    count, conf, acc = _bins(probs, labels, n_bins)
    return float((conf - acc).abs().sum() / probs.shape[0])


def negative_log_likelihood(probs, labels, eps=1e-12):
    """Mean ``-log p(label)``."""
    _check(probs, labels, "negative_log_likelihood")
    p = probs.gather(1, labels.to(cr.int64)[:, None]).squeeze(1)
    return float(-cr.log(p.clamp(min=eps)).mean())


def interval_coverage(mean, std, y, level=0.9):
    """Fraction of ``y`` inside the central ``level`` Gaussian interval
    ``mean +- z std``."""
    z = float(cr.erfinv(cr.tensor(level, dtype=cr.float64)) * 2 ** 0.5)
    inside = ((y - mean).abs() <= z * std).to(cr.float64)
    return float(inside.mean())


def reliability_diagram(probs, labels, path, n_bins=10, title=None):
    """Write a PNG: accuracy against confidence per bin, with the diagonal of
    perfect calibration and the ECE in the legend.  Returns the path."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _check(probs, labels, "reliability_diagram")
    count, conf, acc = _bins(probs, labels, n_bins)
    cnt = count.numpy()
    nz = cnt > 0
    acc_b = acc.numpy()[nz] / cnt[nz]
    conf_b = conf.numpy()[nz] / cnt[nz]
    centers = (cr.arange(n_bins, dtype=cr.float64).numpy() + 0.5) / n_bins
    fig = Figure(figsize=(4.5, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(centers[nz], acc_b, width=1 / n_bins, edgecolor="k", alpha=0.7,
           label="accuracy")
    ax.plot(conf_b, acc_b, "o", color="C3", label="mean confidence")
    ax.plot([0, 1], [0, 1], "k--", label="perfect calibration")
    ece = expected_calibration_error(probs, labels, n_bins)
    ax.set(xlabel="confidence", ylabel="accuracy", xlim=(0, 1), ylim=(0, 1),
           title=title or f"ECE = {ece:.3f}")
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path
