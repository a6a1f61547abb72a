"""Metrics: functions for one batch, and accumulating objects for an epoch.

Every metric exists twice: a function ``accuracy(outputs, targets)`` that
returns a Python float for the tensors given, and a :class:`Metric` class
(``Accuracy()``) with ``reset / update / compute`` that accumulates over the
batches of an epoch and returns the exact value over all its samples (not an
average of per-batch values, which would be wrong for precision, recall and
F1).  :func:`get` turns a name such as ``'accuracy'`` into a fresh metric.

Conventions for classification:

- ``outputs`` of shape (N, C, ...) with C > 1 hold one score per class
  (logits or probabilities; the class dimension is 1, as for
  ``cross_entropy``); the prediction is the arg-max over it.
- ``outputs`` of shape (N,) or (N, 1) are binary scores; the prediction is
  ``outputs > threshold`` (0.5 for probabilities; pass ``threshold=0.0``
  for logits).
- ``targets`` hold class indices (int) of shape (N, ...), or one-hot /
  probability rows of the same shape as ``outputs`` (arg-maxed).

Precision, recall and F1 are those of the positive class (1) for binary
problems and **macro** averages for multi-class problems: the unweighted
mean over the classes that occur in the targets or the predictions (as
scikit-learn's ``average='macro'``); a class never predicted has precision
0, a class never present has recall 0.
"""
from .. import ops
from ..autograd import no_grad
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..tensor import Tensor


def _check(outputs, targets, who):
    if not isinstance(outputs, Tensor) or not isinstance(targets, Tensor):
        raise ArgumentError(f"{who}: outputs and targets must be Tensors, got "
                            f"{type(outputs).__name__} and {type(targets).__name__}")
    if outputs.ndim == 0 or outputs.shape[0] != (targets.shape[0] if targets.ndim
                                                 else -1):
        raise ShapeError(f"{who}: outputs {fmt_shape(outputs.shape)} and targets "
                         f"{fmt_shape(targets.shape)} must have the same number of "
                         "samples (first dimension)")


def _binary(outputs):
    return outputs.ndim == 1 or (outputs.ndim == 2 and outputs.shape[1] == 1)


def _labels(outputs, targets, threshold, who):
    """(predicted classes, true classes, number of classes), int64 of equal shape."""
    _check(outputs, targets, who)
    outputs, targets = outputs.detach(), targets.detach()
    if _binary(outputs):
        pred = (outputs.reshape(-1) > threshold).long()
        if targets.numel() != pred.numel():
            raise ShapeError(f"{who}: binary outputs {fmt_shape(outputs.shape)} need "
                             f"one target per sample, got {fmt_shape(targets.shape)}")
        true = targets.reshape(-1)
        true = (true > 0.5).long() if true.is_floating_point() else true.long()
        return pred, true, 2
    n_classes = outputs.shape[1]
    pred = outputs.argmax(1)
    if targets.shape == outputs.shape:
        true = targets.argmax(1)
    elif targets.shape == pred.shape:
        if targets.is_floating_point():
            raise ShapeError(f"{who}: class-index targets must be integers, got "
                             f"{targets.dtype.name} {fmt_shape(targets.shape)}")
        true = targets.long()
    else:
        raise ShapeError(
            f"{who}: outputs {fmt_shape(outputs.shape)} (class scores along dim 1) "
            f"need targets of shape {fmt_shape(pred.shape)} (class indices) or "
            f"{fmt_shape(outputs.shape)} (one-hot), got {fmt_shape(targets.shape)}")
    return pred.reshape(-1), true.reshape(-1), n_classes


class Metric:
    """Accumulates a quantity over batches: ``reset``, ``update``, ``compute``.

    ``name`` is the key in logs and the History; ``mode`` says whether
    larger values are better ('max') or smaller ('min').
    """

    name = "metric"
    mode = "max"

    def __init__(self):
        self.reset()

    def reset(self):
        raise NotImplementedError

    def update(self, outputs, targets):
        raise NotImplementedError

    def compute(self):
        raise NotImplementedError

    def __call__(self, outputs, targets):
        """The metric of these tensors alone (the accumulated state is untouched)."""
        fresh = self.__class__.__new__(self.__class__)
        fresh.__dict__.update(self.__dict__)
        fresh.reset()
        fresh.update(outputs, targets)
        return fresh.compute()

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Accuracy(Metric):
    """Fraction of samples whose predicted class is the true class."""

    name = "accuracy"

    def __init__(self, threshold=0.5):
        self.threshold = threshold
        super().__init__()

    def reset(self):
        self.correct = 0
        self.total = 0

    def update(self, outputs, targets):
        with no_grad():
            pred, true, _ = _labels(outputs, targets, self.threshold, self.name)
            self.correct += int((pred == true).sum().item())
        self.total += pred.numel()

    def compute(self):
        return self.correct / self.total if self.total else float("nan")


class TopKAccuracy(Metric):
    """Fraction of samples whose true class is among the ``k`` highest scores."""

    def __init__(self, k=5):
        if not isinstance(k, int) or k < 1:
            raise ArgumentError(f"top_k_accuracy: k must be a positive int, got {k!r}")
        self.k = k
        self.name = f"top_{k}_accuracy"
        super().__init__()

    def reset(self):
        self.correct = 0
        self.total = 0

    def update(self, outputs, targets):
        _check(outputs, targets, self.name)
        if outputs.ndim != 2 or outputs.shape[1] < self.k:
            raise ShapeError(f"{self.name}: needs outputs of shape (N, C) with C >= "
                             f"k={self.k}, got {fmt_shape(outputs.shape)}")
        with no_grad():
            top = outputs.detach().topk(self.k, dim=1).indices
            true = targets.argmax(1) if targets.shape == outputs.shape else targets
            hit = (top == true.long().reshape(-1, 1)).any(1)
            self.correct += int(hit.sum().item())
        self.total += outputs.shape[0]

    def compute(self):
        return self.correct / self.total if self.total else float("nan")


class _Confusion(Metric):
    """Shared state of precision, recall and F1: the confusion matrix."""

    _binary = True  # whether the last outputs were binary scores

    def __init__(self, threshold=0.5):
        self.threshold = threshold
        super().__init__()

    def reset(self):
        self.matrix = None  # (C, C) counts: rows true class, columns predicted

    def update(self, outputs, targets):
        with no_grad():
            pred, true, c = _labels(outputs, targets, self.threshold, self.name)
            self._binary = _binary(outputs)
            if self.matrix is not None and self.matrix.shape[0] != c:
                raise ShapeError(f"{self.name}: {c} classes in this batch but "
                                 f"{self.matrix.shape[0]} before")
            m = ops.one_hot(true, c).T.double() @ ops.one_hot(pred, c).double()
            self.matrix = m if self.matrix is None else self.matrix + m

    def _per_class(self):
        """[(true positives, predicted count, actual count)] per averaged class."""
        if self.matrix is None:
            return []
        m = self.matrix.tolist()
        c = len(m)
        rows = [(m[i][i], sum(m[j][i] for j in range(c)), sum(m[i])) for i in range(c)]
        if c == 2 and self._binary:
            return [rows[1]]
        return [r for r in rows if r[1] or r[2]]

    def compute(self):
        rows = self._per_class()
        if not rows:
            return float("nan")
        return sum(self._score(*r) for r in rows) / len(rows)


def _ratio(a, b):
    return a / b if b else 0.0


class Precision(_Confusion):
    """Of the samples predicted as a class, the fraction that truly are."""

    name = "precision"

    @staticmethod
    def _score(tp, predicted, actual):
        return _ratio(tp, predicted)


class Recall(_Confusion):
    """Of the samples of a class, the fraction predicted as it."""

    name = "recall"

    @staticmethod
    def _score(tp, predicted, actual):
        return _ratio(tp, actual)


class F1(_Confusion):
    """Harmonic mean of precision and recall (per class, then averaged)."""

    name = "f1"

    @staticmethod
    def _score(tp, predicted, actual):
        return _ratio(2 * tp, predicted + actual)


class _ErrorMean(Metric):
    mode = "min"

    def reset(self):
        self.sum = 0.0
        self.count = 0

    def update(self, outputs, targets):
        _check(outputs, targets, self.name)
        with no_grad():
            o, t = outputs.detach(), targets.detach()
            if o.numel() != t.numel():
                raise ShapeError(f"{self.name}: outputs {fmt_shape(o.shape)} and "
                                 f"targets {fmt_shape(t.shape)} differ in size")
            d = o.reshape(-1) - t.reshape(-1).to(o.dtype)
            self.sum += self._err(d).sum().item()
        self.count += d.numel()

    def compute(self):
        return self.sum / self.count if self.count else float("nan")


class MeanSquaredError(_ErrorMean):
    """Mean of (outputs - targets)^2 over all elements."""

    name = "mse"
    _err = staticmethod(lambda d: d * d)


class MeanAbsoluteError(_ErrorMean):
    """Mean of |outputs - targets| over all elements."""

    name = "mae"
    _err = staticmethod(ops.abs)


class FunctionMetric(Metric):
    """A user function ``fn(outputs, targets) -> number``, averaged over samples.

    Exact for per-sample means (accuracy-like); for other functions the
    epoch value is the sample-weighted mean of per-batch values.
    """

    def __init__(self, fn, name=None, mode="max"):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "metric")
        self.mode = mode
        super().__init__()

    def reset(self):
        self.sum = 0.0
        self.count = 0

    def update(self, outputs, targets):
        with no_grad():
            v = self.fn(outputs.detach(), targets)
        v = v.item() if isinstance(v, Tensor) else float(v)
        n = outputs.shape[0] if outputs.ndim else 1
        self.sum += v * n
        self.count += n

    def compute(self):
        return self.sum / self.count if self.count else float("nan")


# -- one-shot functions ----------------------------------------------------------------
def accuracy(outputs, targets, threshold=0.5):
    """Fraction of correct predictions (float in [0, 1]); see the module doc."""
    return Accuracy(threshold)(outputs, targets)


def top_k_accuracy(outputs, targets, k=5):
    """Fraction of samples whose true class is in the top ``k`` of (N, C) scores."""
    return TopKAccuracy(k)(outputs, targets)


def precision(outputs, targets, threshold=0.5):
    """Binary: precision of class 1; multi-class: macro-averaged precision."""
    return Precision(threshold)(outputs, targets)


def recall(outputs, targets, threshold=0.5):
    """Binary: recall of class 1; multi-class: macro-averaged recall."""
    return Recall(threshold)(outputs, targets)


def f1(outputs, targets, threshold=0.5):
    """Binary: F1 of class 1; multi-class: macro-averaged F1."""
    return F1(threshold)(outputs, targets)


def mse(outputs, targets):
    """Mean squared error over all elements (float)."""
    return MeanSquaredError()(outputs, targets)


def mae(outputs, targets):
    """Mean absolute error over all elements (float)."""
    return MeanAbsoluteError()(outputs, targets)


_BY_NAME = {
    "accuracy": Accuracy, "acc": Accuracy,
    "top_k_accuracy": TopKAccuracy, "top_5_accuracy": TopKAccuracy,
    "precision": Precision, "recall": Recall, "f1": F1, "f1_score": F1,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
}


def get(metric, threshold=None):
    """A fresh :class:`Metric` from a name, a Metric (copied) or a function.

    ``threshold``, if given, is used by name-built classification metrics
    (the Trainer passes 0.0 when the loss works on logits).
    """
    if isinstance(metric, Metric):
        fresh = metric.__class__.__new__(metric.__class__)
        fresh.__dict__.update(metric.__dict__)
        fresh.reset()
        return fresh
    if isinstance(metric, str):
        cls = _BY_NAME.get(metric.lower())
        if cls is None:
            raise ArgumentError(f"metrics: unknown metric {metric!r}; valid names are "
                                + ", ".join(sorted(_BY_NAME)))
        if threshold is not None and cls in (Accuracy, Precision, Recall, F1):
            return cls(threshold)
        return cls()
    if callable(metric):
        return FunctionMetric(metric)
    raise ArgumentError(f"metrics: expected a name, a Metric or a function, got "
                        f"{type(metric).__name__}")

