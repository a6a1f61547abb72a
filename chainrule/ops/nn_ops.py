"""Primitives that ``chainrule.nn`` needs and the op families do not provide.

``hook_identity``: returns copies of its inputs unchanged; in backward it
hands all output gradients at once to ``callback`` and passes on what the
callback returns.  Modules wrap their inputs and outputs in it to implement
full backward hooks (``hook(module, grad_input, grad_output)``), which need
every gradient of a call together, as PyTorch gives them.
"""
from . import _abstract
from ._core import apply, primitive


def _hook_fwd(*xs, callback):
    # Copies, so that an in-place change of an output cannot reach the input
    # behind autograd's back.
    return tuple(x.copy() for x in xs)


def _hook_vjp(n, g):
    new = n.params["callback"](tuple(g))
    return tuple(g) if new is None else tuple(new)


hook_identity_p = primitive(
    "hook_identity", _hook_fwd, vjp=_hook_vjp,
    jvp=lambda c, t: tuple(t),
    saves=(), n_out=_abstract.inputs_count,  # as many outputs as inputs
    kind="other", abstract=_abstract.inputs_aval, params=("callback",),
)


def hook_identity(tensors, callback):
    """``tensors`` (a sequence) unchanged; ``callback(grads)`` sees their
    gradients in backward (zeros where an output got none) and may return
    replacements (a tuple with one entry per tensor) or None."""
    return apply(hook_identity_p, *tensors, callback=callback)
