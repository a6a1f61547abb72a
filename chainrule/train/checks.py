"""Checks ``fit`` makes on its data before the first step or the first write.

Bad data should fail at once with a message about the data, not after an
epoch (or a night) of training, and not after callbacks have created log
files and checkpoints.  Two checks:

- :func:`check_tensors`: for data held in tensors (a TensorDataset, a
  Subset or concatenation of them, or a DataLoader over one) every
  floating tensor must be finite.
- :func:`trial_batch`: the model and the loss are run once, in eval mode
  and without gradients, on the data's first two samples; a shape or dtype
  error (integer inputs into a Linear layer, float targets for a
  cross-entropy loss, the wrong number of features) is re-raised naming the
  data.  It draws no random numbers that the run would see: every generator
  is put back as it was.
- :func:`check_classes`: with a cross-entropy or NLL loss, class-index
  targets held in tensors must lie in ``[0, C)`` for the model's ``C``
  outputs (or equal the loss's ``ignore_index``), checked on all samples.
"""
from .._dtype import bool_
from ..autograd import no_grad
from ..data import ConcatDataset, Subset, TensorDataset
from ..errors import ArgumentError, ChainruleError, IndexOutOfRange
from ..tensor import Tensor


def _tensor_datasets(ds):
    """The TensorDatasets whose tensors hold ``ds``'s samples (may be empty)."""
    if isinstance(ds, TensorDataset):
        return [ds]
    if type(ds) is Subset:
        return _tensor_datasets(ds.dataset)
    if isinstance(ds, ConcatDataset):
        return [t for d in ds.datasets for t in _tensor_datasets(d)]
    return []


def _role(i, n):
    if i == n - 1 and n > 1:
        return "targets"
    return "inputs" if n <= 2 else f"inputs[{i}]"


def check_tensors(dataset, who, what):
    """Raise if a floating tensor of ``dataset`` holds NaN or infinity."""
    for ds in _tensor_datasets(dataset):
        n = len(ds.tensors)
        for i, t in enumerate(ds.tensors):
            if not t.is_floating_point():
                continue
            nan, inf = int(t.isnan().sum().item()), int(t.isinf().sum().item())
            if not (nan or inf):
                continue
            bad = ~t.isfinite()
            rows = bad.reshape(t.shape[0], -1).any(dim=1)
            first = int(rows.int().argmax().item())
            kinds = ", ".join(s for s in (f"{nan} NaN" if nan else "",
                                          f"{inf} infinite" if inf else "") if s)
            raise ArgumentError(
                f"{who}: the {what} {_role(i, n)} (shape {list(t.shape)}) contain "
                f"{kinds} value(s), the first in sample {first}; training on them "
                "would make the loss NaN. Drop those samples or fill the values "
                "before calling fit (e.g. x = chainrule.where(x.isfinite(), x, 0.0))")


def _generators(trainer):
    from .state import generators

    return generators(trainer)


def _sample_batch(loader, count=2):
    """A batch of the first ``count`` samples, read without iterating ``loader``
    (iterating would draw a shuffle order); None for streams.  A loader that
    drops partial batches gets a full one: its model may need that size."""
    if getattr(loader, "_iterable", True) or loader.batch_sampler is None:
        return None
    n = len(loader.dataset)
    if loader.drop_last and loader.batch_size:
        count = loader.batch_size
    if n == 0 or n < count and loader.drop_last:
        return None
    return loader._fetcher()(list(range(min(count, n))))


def trial_batch(trainer, loader, who, what, split_batch):
    """Run the model, loss and metrics once on the first samples of ``loader``.

    Errors the library raises (shape, dtype, index) come back prefixed with
    ``who`` and ``what`` (e.g. "fit: the training data ..."); the model's mode
    and every random generator's state are restored whatever happens.
    Returns the trial's outputs (None when there was no trial).
    """
    gens = _generators(trainer)
    states = {role: g.get_state() for role, g in gens.items()}
    model = trainer.model
    was_training = model.training
    try:
        batch = _sample_batch(loader)
        if batch is None:
            return None
        inputs, targets = split_batch(batch, who)
        if targets is None:
            return None  # reported by the training loop with its own message
        model.eval()
        with no_grad():
            try:
                outputs = trainer._forward(inputs)
                trainer.loss_fn(outputs, targets)
                for m in trainer._make_metrics():
                    m.update(outputs, targets)
            except ChainruleError as e:
                try:
                    better = type(e)(_explain(e, inputs, targets, who, what))
                except Exception:  # an error class with its own signature
                    raise e from None
                raise better from e
        return outputs
    finally:
        model.train(was_training)
        for role, g in gens.items():
            g.set_state(states[role])


def _dtypes(ts):
    return ", ".join(str(t.dtype).replace("chainrule.", "") if isinstance(t, Tensor)
                     else f"a {type(t).__name__}" for t in ts)


def _explain(error, inputs, targets, who, what):
    msg = (f"{who}: the {what} data does not fit the model and loss (checked on its "
           f"first samples before training: inputs {_dtypes(inputs)}, targets "
           f"{_dtypes([targets])}): {error}")
    ints = [t for t in inputs if isinstance(t, Tensor) and not
            t.is_floating_point()]
    if ints and "dtype" in str(error):
        msg += ("; integer inputs suit embedding layers only: convert features "
                "with x.float()")
    return msg


_CLASS_LOSSES = ("cross_entropy", "nll_loss", "CrossEntropyLoss", "NLLLoss")


def check_classes(loss_fn, dataset, outputs, who, what):
    """Raise if class-index targets fall outside the model's ``C`` classes.

    The trial batch only shows the first samples; a label ``C`` in sample
    5000 would otherwise stop training an epoch in.
    """
    name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
    if name not in _CLASS_LOSSES or not isinstance(outputs, Tensor) or \
            outputs.ndim < 2:
        return
    n_classes = outputs.shape[1]
    ignore = getattr(loss_fn, "ignore_index", -100)
    for ds in _tensor_datasets(dataset):
        t = ds.tensors[-1]
        if len(ds.tensors) < 2 or t.is_floating_point() or t.dtype == bool_:
            continue
        bad = ~(((t >= 0) & (t < n_classes)) | (t == ignore))
        count = int(bad.sum().item())
        if not count:
            continue
        rows = bad.reshape(t.shape[0], -1).any(dim=1)
        first = int(rows.int().argmax().item())
        value = int(t[first].reshape(-1)[bad[first].reshape(-1)][0].item())
        raise IndexOutOfRange(
            f"{who}: the {what} targets hold class {value} (sample {first}; {count} "
            f"target(s) out of range in all), but the model outputs scores for "
            f"{n_classes} classes: valid targets are 0 to {n_classes - 1} (or "
            f"ignore_index={ignore})")
