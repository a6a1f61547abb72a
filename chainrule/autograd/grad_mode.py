"""Switches for gradient recording: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

The state lives in one mutable list, ``_state.grad``, which the dispatcher
reads on every op; a context manager flips it and restores it on exit.
"""
import functools


class _State:
    """Process-wide autograd flags read by the dispatcher on every op."""

    __slots__ = ("grad", "_forward_ad", "_anomaly", "anomaly_check_inf", "_counter",
                 "slow")

    def __init__(self):
        self.grad = True  # record ops on the tape?
        self._forward_ad = 0  # number of active forward-mode dual levels
        self._anomaly = False  # check every result for NaN (and Inf)?
        self.anomaly_check_inf = True
        self._counter = None  # dict name -> count while counting primitives
        self.slow = False  # any of the three above on: one check per op

    def _update(self):
        self.slow = bool(self._forward_ad or self._anomaly or self._counter is not None)

    forward_ad = property(lambda s: s._forward_ad,
                          lambda s, v: (setattr(s, "_forward_ad", v), s._update()))
    anomaly = property(lambda s: s._anomaly,
                       lambda s, v: (setattr(s, "_anomaly", v), s._update()))
    counter = property(lambda s: s._counter,
                       lambda s, v: (setattr(s, "_counter", v), s._update()))


_state = _State()


def is_grad_enabled():
    """True when new ops are recorded for backward."""
    return _state.grad


class _GradModeContext:
    """Base for the grad-mode switches: usable as context manager and decorator."""

    _enabled = True

    def __enter__(self):
        self._prev = _state.grad
        _state.grad = self._enabled

    def __exit__(self, *exc):
        _state.grad = self._prev
        return False

    def __call__(self, fn):
        enabled = self._enabled

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.grad
            _state.grad = enabled
            try:
                return fn(*args, **kwargs)
            finally:
                _state.grad = prev

        return wrapper


class no_grad(_GradModeContext):
    """Context manager / decorator: ops inside are not recorded for backward."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Context manager / decorator: re-enable recording inside ``no_grad``."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """``set_grad_enabled(mode)``: a switch usable as a call, context or decorator.

    Like PyTorch, calling it already sets the mode; leaving the ``with`` block
    restores the previous one.
    """

    def __init__(self, mode):
        self._prev = _state.grad
        self._enabled = bool(mode)
        _state.grad = self._enabled

    def __enter__(self):
        pass

    def __call__(self, fn):
        # Used as a decorator: undo the switch made when it was constructed.
        _state.grad = self._prev
        return super().__call__(fn)

    def __exit__(self, *exc):
        _state.grad = self._prev
        return False


class inference_mode(no_grad):
    """Alias of ``no_grad`` (chainrule has no separate inference tensors)."""

    def __init__(self, mode=True):
        self._enabled = not mode
