"""Feature extraction: run a frozen body once and keep its outputs, so a new
head trains on cached features instead of re-running the body each epoch."""
from ..autograd import no_grad
from ..data import DataLoader, TensorDataset
from ..errors import ArgumentError
from ..ops import cat


def extract_features(body, data, *, batch_size=256):
    """A ``TensorDataset(features, targets)`` of ``body(inputs)`` for ``data``.

    ``body``: a module or function mapping a (B, ...) batch to (B, ...)
    features (e.g. ``model.features`` or the model without its head);
    modules run in eval mode without gradients and get their mode back.
    ``data``: ``(inputs, targets)`` tensors, a Dataset or a DataLoader
    yielding such pairs.
    """
    if not callable(body):
        raise ArgumentError(f"extract_features: body must be callable, got "
                            f"{type(body).__name__}")
    if isinstance(data, DataLoader):
        loader = data
    elif isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise ArgumentError(f"extract_features: data must be (inputs, targets), "
                                f"got {len(data)} items")
        loader = DataLoader(TensorDataset(*data), batch_size=batch_size)
    else:
        loader = DataLoader(data, batch_size=batch_size)
    owner = body if hasattr(body, "train") else getattr(body, "__self__", None)
    was = getattr(owner, "training", None)
    if was is not None:
        owner.eval()
    feats, targets = [], []
    try:
        with no_grad():
            for x, y in loader:
                feats.append(body(x))
                targets.append(y)
    finally:
        if was is not None:
            owner.train(was)
    if not feats:
        raise ArgumentError("extract_features: the data produced no batches")
    return TensorDataset(cat(feats), cat(targets))
