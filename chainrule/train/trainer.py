"""Trainer: Keras's ``fit`` / ``evaluate`` / ``predict`` around a PyTorch model.

::

    trainer = Trainer(model, optimizer=chainrule.optim.Adam(model.parameters()),
                      loss="cross_entropy", metrics=["accuracy"])
    history = trainer.fit((x_train, y_train), epochs=10, batch_size=32,
                          validation_split=0.2,
                          callbacks=[EarlyStopping(patience=3,
                                                   restore_best_weights=True)])
    trainer.evaluate((x_test, y_test))   # {'loss': ..., 'accuracy': ...}

Randomness: during ``fit`` only the training loader's shuffling (from
``generator``, default the global generator) and the model's own random
layers (dropout) draw random numbers.  Validation, ``evaluate``,
``predict``, the checks ``fit`` makes on its data and checkpointing draw
none, so adding them never changes the training trajectory.

Resuming: ``trainer.state_dict()`` (see :mod:`chainrule.train.state`) holds
everything the run depends on -- model, optimizer, every generator, epoch
and step counters, History, callbacks' state.  ``ModelCheckpoint(...,
save_last=True)`` writes it after every epoch, and ``fit(...,
resume_from=path)`` continues from it exactly: the losses, parameters and
history that follow are bit-identical to those of a run never interrupted.
"""
import os
from numbers import Integral

import numpy as np

from .. import ops
from .._dtype import get_default_dtype
from ..autograd import no_grad
from ..data import DataLoader, Dataset, Subset, TensorDataset
from ..errors import ArgumentError, ShapeError, fmt_shape
from ..io import CheckpointError
from ..tensor import Tensor
from . import checks as _checks
from . import metrics as _metrics
from . import state as _state
from .callbacks import CallbackList, CSVLogger, History
from .progress import ProgressBar

# Loss names -> (function name in chainrule.nn.functional, works on logits).
_LOSSES = {
    "cross_entropy": "cross_entropy", "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy", "nll": "nll_loss",
    "nll_loss": "nll_loss", "mse": "mse_loss", "mse_loss": "mse_loss",
    "mean_squared_error": "mse_loss", "mae": "l1_loss", "l1": "l1_loss",
    "l1_loss": "l1_loss", "mean_absolute_error": "l1_loss", "huber": "huber_loss",
    "huber_loss": "huber_loss", "smooth_l1": "smooth_l1_loss",
    "smooth_l1_loss": "smooth_l1_loss", "bce": "binary_cross_entropy",
    "binary_cross_entropy": "binary_cross_entropy",
    "binary_crossentropy": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits": "binary_cross_entropy_with_logits",
    "poisson": "poisson_nll_loss", "poisson_nll_loss": "poisson_nll_loss",
    "kl_div": "kl_div",
}

_OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop",
               "adagrad": "Adagrad", "adadelta": "Adadelta", "adamax": "Adamax",
               "nadam": "NAdam"}


def _resolve_loss(loss):
    """(callable(outputs, targets) -> scalar Tensor, whether it takes logits)."""
    if isinstance(loss, str):
        name = _LOSSES.get(loss.lower())
        if name is None:
            raise ArgumentError(f"Trainer: unknown loss {loss!r}; valid names are "
                                + ", ".join(sorted(_LOSSES)))
        from ..nn import functional as F

        return getattr(F, name), name == "binary_cross_entropy_with_logits"
    if callable(loss):
        return loss, type(loss).__name__ == "BCEWithLogitsLoss"
    raise ArgumentError(f"Trainer: loss must be a name such as 'cross_entropy' or a "
                        f"callable (outputs, targets) -> Tensor, got "
                        f"{type(loss).__name__}")


def _resolve_optimizer(optimizer, model):
    if isinstance(optimizer, str):
        cls = _OPTIMIZERS.get(optimizer.lower())
        if cls is None:
            raise ArgumentError(f"Trainer: unknown optimizer {optimizer!r}; valid "
                                f"names are {', '.join(sorted(_OPTIMIZERS))}")
        from .. import optim

        return getattr(optim, cls)(model.parameters())
    if optimizer is None or hasattr(optimizer, "step") and hasattr(
            optimizer, "param_groups"):
        return optimizer
    raise ArgumentError(f"Trainer: optimizer must be an Optimizer or a name such as "
                        f"'adam', got {type(optimizer).__name__}")


def _as_tensor(x):
    return x if isinstance(x, Tensor) else ops.as_tensor(x)


def _numpy_pair(data):
    """(x, y) with NumPy arrays as tensors: floats in the default dtype (as
    Keras casts to its floatx), integers as int64; anything else unchanged."""
    if isinstance(data, (tuple, list)) and any(isinstance(a, np.ndarray)
                                               for a in data):
        return tuple(_from_numpy(a) for a in data)
    return _from_numpy(data)


def _from_numpy(a):
    if not isinstance(a, np.ndarray):
        return a
    if a.dtype.kind == "f":
        return ops.tensor(a, dtype=get_default_dtype())
    if a.dtype.kind in "iu":
        return ops.tensor(a, dtype="int64")
    return ops.tensor(a)


def _keras_args(train, y, x, epochs):
    """``fit``'s data and epochs from either calling form: ``fit(train,
    epochs)`` or Keras's ``fit(x, y, batch_size, epochs)``."""
    if x is not None:
        if train is not None:
            raise ArgumentError("fit: give the inputs once, positionally or as x=")
        train = x
    if isinstance(y, Integral) and not isinstance(y, bool):  # fit(train, epochs)
        if epochs is not None:
            raise ArgumentError(f"fit: epochs given twice ({y} and {epochs}); "
                                "targets go second: fit(x, y, epochs=...)")
        y, epochs = None, y
    if train is None:
        raise ArgumentError("fit: no training data; call fit(x, y, ...) or "
                            "fit((x, y), ...)")
    if y is not None:
        if isinstance(train, (tuple, list, Dataset, DataLoader)):
            raise ArgumentError(f"fit: targets given apart from a "
                                f"{type(train).__name__}; pass fit(x, y) with arrays "
                                "or tensors, or the pairs alone")
        train = (train, y)
    return _numpy_pair(train), 1 if epochs is None else epochs


def _to_dataset(data, who, targets=True):
    """A map-style Dataset from (X, y) tensors, X alone, or a Dataset."""
    if isinstance(data, Dataset) or (hasattr(data, "__getitem__") and hasattr(
            data, "__len__") and not isinstance(data, (tuple, list, Tensor))):
        return data
    if isinstance(data, (tuple, list)):
        if not data or not all(
                isinstance(t, Tensor) or hasattr(t, "__array__") for t in data):
            raise ArgumentError(f"{who}: expected (inputs, targets) tensors, a Dataset "
                                f"or a DataLoader, got a {type(data).__name__} of "
                                f"{len(data)} items")
        tensors = [_as_tensor(t) for t in data]
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) > 1:
            names = (["inputs", "targets"] if len(tensors) == 2 else
                     [f"data[{i}]" for i in range(len(tensors))])
            raise ShapeError(
                f"{who}: every tensor needs the same number of samples along its "
                "first dimension, got " + ", ".join(
                    f"{n} {fmt_shape(t.shape)}" for n, t in zip(names, tensors)))
        return TensorDataset(*tensors)
    if isinstance(data, Tensor) or hasattr(data, "__array__"):
        if targets:
            raise ArgumentError(f"{who}: got inputs without targets; pass (inputs, "
                                "targets) as a tuple")
        return TensorDataset(_as_tensor(data))
    raise ArgumentError(f"{who}: expected (inputs, targets) tensors, a Dataset or a "
                        f"DataLoader, got {type(data).__name__}")


def _split_batch(batch, who):
    """(inputs tuple, targets or None) from what a loader yields."""
    if isinstance(batch, Tensor):
        return (batch,), None
    if isinstance(batch, (tuple, list)):
        if len(batch) == 1:
            return (batch[0],), None
        return tuple(batch[:-1]), batch[-1]
    raise ArgumentError(f"{who}: a batch must be a tensor or a (inputs..., targets) "
                        f"sequence, got {type(batch).__name__}")


def _batch_size(inputs):
    x = inputs[0]
    return x.shape[0] if isinstance(x, Tensor) and x.ndim else 1


class Trainer:
    """Trains ``model`` with ``optimizer`` on ``loss``, reporting ``metrics``.

    Args:
        model: an ``nn.Module`` mapping a batch of inputs to outputs.
        optimizer: an optimizer over ``model``'s parameters, or a name
            ('adam', 'sgd', ...) for one with default settings.
        loss: a name ('cross_entropy', 'mse', 'mae', 'bce',
            'bce_with_logits', 'nll', 'huber', ...) or a callable
            ``loss(outputs, targets) -> scalar Tensor`` (e.g.
            ``nn.CrossEntropyLoss()``).
        metrics: names ('accuracy', 'top_k_accuracy', 'precision', 'recall',
            'f1', 'mse', 'mae'), :class:`~chainrule.train.metrics.Metric`
            objects or functions ``f(outputs, targets) -> float``.
        generator: the ``chainrule.Generator`` that shuffles the training
            data when ``fit`` builds the loader (default: the global one).

    Attributes: ``history`` (the last fit's :class:`History`),
    ``stop_training`` (set it from a callback to stop after this batch),
    ``epoch`` (epochs completed, across fits), ``global_step`` (optimizer
    steps taken, across fits), ``resumed`` (whether the current or last fit
    continued from a checkpoint).
    """

    def __init__(self, model, optimizer="adam", loss="cross_entropy", metrics=(), *,
                 generator=None, strategy=None, compile=False):
        if not callable(model) or not hasattr(model, "parameters"):
            raise ArgumentError(f"Trainer: model must be an nn.Module, got "
                                f"{type(model).__name__}")
        self.model = model
        self.optimizer = _resolve_optimizer(optimizer, model)
        self.loss_fn, self._logits = _resolve_loss(loss)
        if isinstance(metrics, (str, _metrics.Metric)) or callable(metrics):
            metrics = [metrics]
        self.metrics = list(metrics)
        threshold = 0.0 if self._logits else None
        names = [_metrics.get(m, threshold).name for m in self.metrics]
        if len(set(names)) != len(names) or "loss" in names:
            raise ArgumentError(f"Trainer: metric names must be unique and not 'loss', "
                                f"got {names}")
        self.generator = generator
        self.history = History()
        self.stop_training = False
        self.terminated_on_nan = False
        self.epoch = 0
        self.global_step = 0
        self.resumed = False
        self.train_loader = None
        self._callbacks = []  # the user's callbacks of the current or last fit
        self.strategy = None
        if strategy is not None:
            # The distributed layer sits above train/: load it only when asked.
            from ..distributed.strategy import resolve

            self.strategy = resolve(strategy)
            self.strategy.setup(self)
        # compile=True: each training step (forward, backward, update) runs as
        # one compiled graph (chainrule.compile; see docs/compiler.md).
        self._step_fn = None
        if compile:
            from ..jit import compile as _compile

            self._step_fn = _compile(self._train_step)

    # -- data --------------------------------------------------------------------------
    def _loader(self, data, batch_size, shuffle, who, targets=True):
        if isinstance(data, DataLoader):
            if batch_size is not None:
                raise ArgumentError(f"{who}: batch_size must not be given with a "
                                    "DataLoader (it already batches)")
            return data
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, Integral) or batch_size < 1:
            raise ArgumentError(f"{who}: batch_size must be a positive int, got "
                                f"{batch_size!r}")
        ds = _to_dataset(data, who, targets)
        if self.strategy is not None and who == "fit":
            return self.strategy.train_loader(ds, int(batch_size), shuffle)
        return DataLoader(ds, batch_size=int(batch_size), shuffle=shuffle,
                          generator=self.generator if shuffle else None)

    def _make_metrics(self):
        threshold = 0.0 if self._logits else None
        return [_metrics.get(m, threshold) for m in self.metrics]

    def _forward(self, inputs):
        return self.model(*inputs)

    # -- fit ---------------------------------------------------------------------------
    def fit(self, train=None, y=None, batch_size=None, epochs=None, *, x=None,
            validation_data=None, validation_split=0.0, callbacks=None, shuffle=True,
            verbose=1, initial_epoch=0, validation_batch_size=None,
            resume_from=None):
        """Train until ``epochs`` epochs are done; returns the :class:`History`.

        ``train``: ``(inputs, targets)`` tensors (inputs (N, ...), targets
        (N, ...)), a Dataset yielding such pairs, or a DataLoader; called as
        ``fit(train, epochs)``.  Keras's form works too: ``fit(x, y,
        batch_size, epochs, validation_data=(x_val, y_val), ...)`` (or
        ``fit(x=..., y=...)``) with tensors or NumPy arrays; NumPy floats
        become the default dtype (float32), NumPy integers int64.
        ``validation_data``: the same kinds, evaluated after every epoch
        (logged with a ``val_`` prefix); or ``validation_split``: the fraction
        of ``train`` held out, taken from its end before any shuffling.
        ``verbose``: 0 silent, 1 a progress bar per epoch on a terminal (one
        line per epoch otherwise), 2 one line per epoch.
        ``resume_from``: a checkpoint written by ``ModelCheckpoint(...,
        save_last=True)`` or :meth:`save_checkpoint` (a path), or a dict from
        :meth:`state_dict`.  Model, optimizer, generators, counters, History
        and the state of callbacks of the same classes are restored, and
        training continues from the saved epoch up to ``epochs`` exactly as
        the interrupted run would have.  Build the model, optimizer, data and
        callbacks as that run did.

        Before the first step (and before any callback writes a file) ``fit``
        checks the data: tensors' sample counts agree, floating data holds no
        NaN or infinity, and the first two samples pass through the model,
        loss and metrics (in eval mode, drawing no random numbers); and a
        checkpoint to resume from must be intact and match the model.  Each
        failure raises a chainrule error saying what is wrong.
        """
        train, epochs = _keras_args(train, y, x, epochs)
        validation_data = _numpy_pair(validation_data)
        if not isinstance(epochs, Integral) or epochs < 0:
            raise ArgumentError(f"fit: epochs must be an int >= 0, got {epochs!r}")
        if verbose not in (0, 1, 2):
            raise ArgumentError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
        if self.optimizer is None:
            raise ArgumentError("fit: the Trainer has no optimizer")
        if not 0.0 <= validation_split < 1.0:
            raise ArgumentError(f"fit: validation_split must be in [0, 1), got "
                                f"{validation_split!r}")
        if validation_split and validation_data is not None:
            raise ArgumentError("fit: give validation_data or validation_split, not "
                                "both")
        if resume_from is not None and initial_epoch:
            raise ArgumentError("fit: give resume_from or initial_epoch, not both "
                                "(a resumed run starts at the checkpoint's epoch)")
        resume_state, resume_name = self._read_resume(resume_from)
        if validation_split:
            if isinstance(train, DataLoader):
                raise ArgumentError("fit: validation_split needs tensors or a Dataset, "
                                    "not a DataLoader; pass validation_data instead")
            ds = _to_dataset(train, "fit")
            n = len(ds)
            n_val = int(n * validation_split)
            if n_val == 0 or n_val == n:
                raise ArgumentError(f"fit: validation_split={validation_split} of {n} "
                                    f"samples leaves {n_val} for validation")
            train = Subset(ds, range(n - n_val))
            validation_data = Subset(ds, range(n - n_val, n))
        loader = self._loader(train, batch_size, shuffle, "fit")
        self.train_loader = loader
        val_loader = None
        if validation_data is not None:
            val_loader = self._loader(validation_data, validation_batch_size or (
                batch_size if not isinstance(validation_data, DataLoader) else None),
                False, "fit(validation_data)")
        self._check_data(loader, val_loader)

        self.history = history = History()
        # Keras's order: the progress line first, so that the callbacks'
        # messages follow it; the History last, so that it records what the
        # callbacks added to the logs.
        user_cbs = list(callbacks or [])
        if self.strategy is not None:
            user_cbs = self.strategy.callbacks(user_cbs)
            verbose = verbose if self.strategy.is_main else 0
        cbs = ([ProgressBar(verbose)] if verbose else []) + user_cbs
        cb = CallbackList(cbs + [history])
        self._callbacks = user_cbs
        self.stop_training = False
        self.terminated_on_nan = False
        self.resumed = False
        if resume_state is not None:
            _state.restore(self, resume_state, user_cbs,
                           f"fit: cannot resume from {resume_name}")
            initial_epoch = self.epoch
            self.resumed = True
        cb.set_trainer(self)
        try:
            steps = len(loader)
        except TypeError:
            steps = None
        train_metrics = self._make_metrics()
        cb.set_params({"epochs": epochs, "steps": steps, "verbose": verbose,
                       "metrics": ["loss"] + [m.name for m in train_metrics]})
        was_training = self.model.training
        # A resumed run that ends at once still tells on_train_end how it ended.
        logs = {k: v[-1] for k, v in history.history.items() if v}
        cb.on_train_begin()
        try:
            # A checkpoint of a run that a callback stopped resumes as stopped.
            for epoch in range(initial_epoch, 0 if self.stop_training else epochs):
                cb.on_epoch_begin(epoch)
                if self.strategy is not None:
                    self.strategy.epoch_begin(loader, epoch)
                logs = self._train_epoch(loader, train_metrics, cb)
                if self.strategy is not None:
                    logs = self.strategy.reduce_logs(logs, self._epoch_samples)
                if val_loader is not None:
                    val = self._evaluate(val_loader, cb)
                    logs.update({"val_" + k: v for k, v in val.items()})
                logs["lr"] = float(self.optimizer.param_groups[0]["lr"])
                self.epoch = epoch + 1
                cb.on_epoch_end(epoch, logs)
                # Every callback (and the History) has now seen the epoch: the
                # state is complete, and full checkpoints are written here.
                cb.on_epoch_complete(epoch, logs)
                if self.stop_training:
                    break
            cb.on_train_end(logs)
        finally:
            for c in cbs:  # release terminals and files, even after an error
                if isinstance(c, (ProgressBar, CSVLogger)):
                    c.close()
            self.model.train(was_training)
        return history

    def _check_data(self, loader, val_loader):
        """Fail before training on data that cannot be trained on."""
        for data, what in ((loader, "training"), (val_loader, "validation")):
            if data is None:
                continue
            _checks.check_tensors(data.dataset, "fit", what)
            outputs = _checks.trial_batch(self, data, "fit", what, _split_batch)
            _checks.check_classes(self.loss_fn, data.dataset, outputs, "fit", what)

    def _read_resume(self, resume_from):
        """(the training state to resume from, what to call it in messages);
        (None, None) for a fresh run."""
        if resume_from is None:
            return None, None
        if isinstance(resume_from, dict):
            return resume_from, "the given state dict"
        if not isinstance(resume_from, (str, os.PathLike)):
            raise ArgumentError(f"fit: resume_from must be a checkpoint path or a dict "
                                f"from Trainer.state_dict(), got "
                                f"{type(resume_from).__name__}")
        path = os.fspath(resume_from)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"fit: cannot resume: there is no checkpoint file "
                                    f"at {path}")
        from ..io import load

        try:
            return load(path), path
        except CheckpointError as e:
            raise CheckpointError(f"fit: cannot resume: {e}") from None

    # -- training state ----------------------------------------------------------------
    def state_dict(self):
        """Everything a run depends on, as nested dicts of tensors and numbers.

        Keys: ``model``, ``optimizer`` (and ``optimizer_class``), ``rng`` (the
        state of every generator the run draws from), ``epoch``,
        ``global_step``, ``stop_training``, ``history``, ``callbacks`` (the
        state of the current or last fit's callbacks).  As in PyTorch the
        tensors are live: save the dict (``chainrule.save``) to keep a
        snapshot.  See :mod:`chainrule.train.state`.
        """
        return _state.capture(self, self._callbacks)

    def load_state_dict(self, state_dict, callbacks=None):
        """Restore a :meth:`state_dict` into this trainer (and ``callbacks``,
        default those of the last fit): all of it or, on a mismatch, nothing.

        To continue training, pass the dict or file to ``fit(...,
        resume_from=...)`` instead, which also restores the History and the
        generators of the DataLoader it builds.
        """
        cbs = self._callbacks if callbacks is None else list(callbacks)
        _state.restore(self, state_dict, cbs, "Trainer.load_state_dict")

    def save_checkpoint(self, path):
        """Write :meth:`state_dict` to ``path`` with ``chainrule.save`` (atomic:
        the file holds the previous checkpoint or this one, never a mix)."""
        from ..io import save

        save(self.state_dict(), path)

    def _train_step(self, inputs, targets):
        """Forward, backward and update on one batch: (loss, outputs)."""
        opt = self.optimizer
        opt.zero_grad()
        outputs = (self._forward(inputs) if self.strategy is None
                   else self.strategy.forward(inputs))
        loss = self.loss_fn(outputs, targets)
        loss.backward()
        opt.step()
        return loss, outputs

    def _train_epoch(self, loader, metrics, cb):
        model = self.model
        model.train()
        for m in metrics:
            m.reset()
        total, count = 0.0, 0
        logs = {}
        for step, batch in enumerate(loader):
            cb.on_batch_begin(step)
            inputs, targets = _split_batch(batch, "fit")
            if targets is None:
                raise ArgumentError("fit: the training data yields batches without "
                                    "targets; expected (inputs, targets)")
            if self._step_fn is not None:
                loss, outputs = self._step_fn(inputs, targets)
            else:
                loss, outputs = self._train_step(inputs, targets)
            self.global_step += 1
            n = _batch_size(inputs)
            value = loss.item()
            total += value * n
            count += n
            for m in metrics:
                m.update(outputs.detach(), targets)
            logs = {"loss": total / count}
            logs.update({m.name: m.compute() for m in metrics})
            cb.on_batch_end(step, dict(logs, batch_loss=value, size=n))
            if self.stop_training:
                break
        if not count:
            raise ArgumentError("fit: the training data produced no batches")
        self._epoch_samples = count
        return logs

    # -- evaluate / predict ------------------------------------------------------------
    def _evaluate(self, loader, cb=None):
        metrics = self._make_metrics()
        total, count = 0.0, 0
        was_training = self.model.training
        self.model.eval()
        if cb is not None:
            cb.on_test_begin()
        try:
            with no_grad():
                for step, batch in enumerate(loader):
                    if cb is not None:
                        cb.on_test_batch_begin(step)
                    inputs, targets = _split_batch(batch, "evaluate")
                    if targets is None:
                        raise ArgumentError("evaluate: the data yields batches without "
                                            "targets; expected (inputs, targets)")
                    outputs = self._forward(inputs)
                    n = _batch_size(inputs)
                    total += self.loss_fn(outputs, targets).item() * n
                    count += n
                    for m in metrics:
                        m.update(outputs, targets)
                    if cb is not None:
                        cb.on_test_batch_end(step, {"size": n})
        finally:
            self.model.train(was_training)
        if not count:
            raise ArgumentError("evaluate: the data produced no batches")
        out = {"loss": total / count}
        out.update({m.name: m.compute() for m in metrics})
        if cb is not None:
            cb.on_test_end(dict(out))
        return out

    def evaluate(self, data=None, y=None, batch_size=None, *, x=None, verbose=0):
        """Loss and metrics over ``data`` as ``{'loss': float, name: float, ...}``.

        ``data``: (inputs, targets) tensors, a Dataset or a DataLoader.  Runs
        in eval mode without gradients and restores the model's mode.
        """
        data = _numpy_pair(data if x is None else x)
        if y is not None:  # Keras: evaluate(x, y)
            data = (data, _from_numpy(y))
        res = self._evaluate(self._loader(data, batch_size, False, "evaluate"))
        if verbose:
            from .progress import format_logs

            print("Evaluation - " + format_logs(res), flush=True)
        return res

    def predict(self, data=None, batch_size=None, *, x=None):
        """The model's outputs for ``data``, concatenated: (N, ...) Tensor.

        ``data``: an inputs tensor, (inputs, targets) (targets ignored), a
        Dataset or a DataLoader.  Eval mode, no gradients, mode restored.
        """
        data = _numpy_pair(data if x is None else x)
        loader = self._loader(data, batch_size, False, "predict", targets=False)
        outs = []
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                for batch in loader:
                    inputs, _ = _split_batch(batch, "predict")
                    outs.append(self._forward(inputs))
        finally:
            self.model.train(was_training)
        if not outs:
            raise ArgumentError("predict: the data produced no batches")
        return ops.cat(outs)

    def __repr__(self):
        return (f"Trainer(model={type(self.model).__name__}, optimizer="
                f"{type(self.optimizer).__name__}, metrics={self.metrics})")



__all__ = ["Trainer"]
