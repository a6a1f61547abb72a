"""The complete state of a training run: what a resumable checkpoint holds.

``Trainer.state_dict()`` gathers, as plain nested dicts of tensors and
numbers (so ``chainrule.save`` can store them without pickle):

- ``model``: the model's ``state_dict()`` (parameters and buffers);
- ``optimizer``: the optimizer's ``state_dict()`` (moments, step counts and
  the hyper-parameters of every group, the learning rate included) and
  ``optimizer_class``, its class name;
- ``rng``: the state of every random generator the run draws from, by role:
  ``default`` (the global generator: dropout, and shuffling unless the
  loader has its own), ``trainer`` (``Trainer(generator=...)``, which
  shuffles the loader ``fit`` builds), ``loader`` / ``sampler`` /
  ``batch_sampler`` (those of a DataLoader passed to ``fit``) and
  ``model:<module>.<attribute>`` (a Generator a layer keeps);
- ``epoch`` (epochs completed), ``global_step`` (optimizer steps taken),
  ``stop_training`` (a callback ended the run);
- ``history``: the History's logs so far;
- ``callbacks``: each callback's ``state_dict()`` under its class name
  (``EarlyStopping``, a second one ``EarlyStopping#1``, ...).

Restoring checks everything first (the model's tensor names, shapes and
dtypes, the optimizer's class, the generators' roles) and then applies it
all or nothing.
"""
from ..errors import fmt_shape
from ..io import CheckpointError
from ..random import Generator, default_generator
from ..tensor import Tensor

KIND = "chainrule.training_state"
VERSION = 1


def generators(trainer):
    """{role: Generator} for every generator the run draws from, each once."""
    # Roles are named in this order, so that one generator has the same role
    # whether or not fit has built a loader yet.
    found = [("default", default_generator), ("trainer", trainer.generator)]
    loader = trainer.train_loader
    if loader is not None:
        found.append(("loader", loader.generator))
        found.append(("sampler", getattr(loader.sampler, "generator", None)))
        found.append(("batch_sampler", getattr(
            getattr(loader.batch_sampler, "sampler", None), "generator", None)))
    for name, module in trainer.model.named_modules():
        for attr, value in vars(module).items():
            if isinstance(value, Generator):
                found.append((f"model:{name + '.' if name else ''}{attr}", value))
    out, seen = {}, set()
    for role, g in found:
        if isinstance(g, Generator) and id(g) not in seen:
            seen.add(id(g))
            out[role] = g
    return out


def keyed(callbacks):
    """[(key, callback)]: class name, then ``#1``, ``#2`` for repeats."""
    counts, out = {}, []
    for cb in callbacks:
        name = type(cb).__name__
        n = counts.get(name, 0)
        counts[name] = n + 1
        out.append((name if n == 0 else f"{name}#{n}", cb))
    return out


def capture(trainer, callbacks):
    """The run's state as a dict of live tensors (save it or clone it)."""
    return {
        "kind": KIND,
        "version": VERSION,
        "epoch": int(trainer.epoch),
        "global_step": int(trainer.global_step),
        "stop_training": bool(trainer.stop_training),
        "terminated_on_nan": bool(trainer.terminated_on_nan),
        "model": trainer.model.state_dict(),
        "optimizer_class": type(trainer.optimizer).__name__,
        "optimizer": trainer.optimizer.state_dict(),
        "rng": {role: g.get_state() for role, g in generators(trainer).items()},
        "history": trainer.history.state_dict(),
        "callbacks": {key: cb.state_dict() for key, cb in keyed(callbacks)},
    }


def _clone(obj):
    """A copy that shares no tensor (or container) with ``obj``."""
    if isinstance(obj, Tensor):
        return obj.detach().clone()
    if isinstance(obj, dict):
        return type(obj)((k, _clone(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_clone(v) for v in obj)
    return obj


# -- checking --------------------------------------------------------------------------
def _fail(source, what):
    raise CheckpointError(f"{source}: {what}")


def _check_kind(state, source):
    if not isinstance(state, dict) or state.get("kind") != KIND:
        if isinstance(state, dict) and state and all(
                isinstance(v, Tensor) for v in state.values()):
            _fail(source, "this is a model state_dict (weights only), not a full "
                  "training state; load weights with model.load_state_dict("
                  "chainrule.load(path)), and write resumable checkpoints with "
                  "ModelCheckpoint(..., save_last=True) or trainer.save_checkpoint")
        keys = sorted(map(str, state)) if isinstance(state, dict) else None
        _fail(source, "not a training state from Trainer.state_dict() / "
              f"ModelCheckpoint(save_last=True) (got {type(state).__name__}"
              f"{' with keys ' + str(keys[:8]) if keys is not None else ''})")
    if state.get("version") != VERSION:
        _fail(source, f"training-state version {state.get('version')!r}; this "
              f"chainrule reads version {VERSION}")
    need = ("epoch", "global_step", "model", "optimizer", "optimizer_class", "rng",
            "history", "callbacks")
    missing = [k for k in need if k not in state]
    if missing:
        _fail(source, f"the training state lacks {', '.join(missing)}")


def _describe(t):
    return f"{fmt_shape(t.shape)} {str(t.dtype).replace('chainrule.', '')}"


def check_model(model, saved, source):
    """Every mismatch between ``saved`` tensors and the model's, listed together."""
    if not isinstance(saved, dict):
        _fail(source, f"the model state is a {type(saved).__name__}, not a dict")
    own = model.state_dict()
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    wrong = []
    for k, v in saved.items():
        if k not in own:
            continue
        if not isinstance(v, Tensor):
            wrong.append(f"{k}: the checkpoint holds a {type(v).__name__}, not a "
                         "tensor")
        elif v.shape != own[k].shape or v.dtype != own[k].dtype:
            wrong.append(f"{k}: {_describe(v)} in the checkpoint, {_describe(own[k])} "
                         "in the model")
    if not (missing or unexpected or wrong):
        return
    lines = []
    if missing:
        lines.append("missing from the checkpoint: " + ", ".join(missing))
    if unexpected:
        lines.append("not in the model: " + ", ".join(unexpected))
    lines += wrong
    _fail(source, f"its tensors do not match the model ({type(model).__name__}):\n\t"
          + "\n\t".join(lines))


def check(trainer, state, source):
    """Raise :class:`CheckpointError` unless ``state`` can restore ``trainer``."""
    _check_kind(state, source)
    check_model(trainer.model, state["model"], source)
    cls = type(trainer.optimizer).__name__
    if state["optimizer_class"] != cls:
        _fail(source, f"its optimizer state is from {state['optimizer_class']}, but "
              f"this trainer uses {cls}")
    rng = state["rng"]
    own = generators(trainer)
    if not isinstance(rng, dict) or set(rng) != set(own):
        saved = sorted(rng) if isinstance(rng, dict) else rng
        _fail(source, f"it holds the random generators {saved} but this run draws "
              f"from {sorted(own)}; build the Trainer and DataLoader with the same "
              "generator arguments as the run that wrote it, so that the resumed run "
              "draws the same numbers")
    for role, st in rng.items():
        try:
            Generator().set_state(st)
        except Exception:
            _fail(source, f"the state of generator {role!r} is malformed")
    for k in ("epoch", "global_step"):
        if not isinstance(state[k], int) or state[k] < 0:
            _fail(source, f"{k} must be an int >= 0, got {state[k]!r}")


# -- restoring -------------------------------------------------------------------------
def _apply(trainer, state, callbacks):
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.model.load_state_dict(state["model"])
    own = generators(trainer)
    for role, st in state["rng"].items():
        own[role].set_state(st)
    trainer.history.load_state_dict(state["history"])
    saved = state["callbacks"]
    for key, cb in keyed(callbacks):
        if key in saved:
            cb.load_state_dict(saved[key])
    trainer.epoch = state["epoch"]
    trainer.global_step = state["global_step"]
    trainer.stop_training = bool(state.get("stop_training", False))
    trainer.terminated_on_nan = bool(state.get("terminated_on_nan", False))


def restore(trainer, state, callbacks, source):
    """Check ``state`` and load it into ``trainer`` and ``callbacks``: all of it, or,
    if any part is refused, none of it (the earlier state is put back)."""
    check(trainer, state, source)
    before = _clone(capture(trainer, callbacks))
    try:
        _apply(trainer, state, callbacks)
    except Exception as e:
        _apply(trainer, before, callbacks)
        if isinstance(e, CheckpointError):
            raise
        raise CheckpointError(f"{source}: the training state could not be restored "
                              f"({type(e).__name__}: {e}); nothing was changed") from e
