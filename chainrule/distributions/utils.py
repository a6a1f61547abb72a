"""Helpers shared by the distributions: broadcasting, probs <-> logits."""
import numpy as np

import chainrule as cr
from chainrule.tensor import Tensor


def broadcast_all(*values):
    """Tensors of one broadcast shape; numbers take the tensors' float dtype."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    dtype = tensors[0].dtype if tensors else cr.get_default_dtype()
    if dtype not in (cr.float32, cr.float64):
        dtype = cr.get_default_dtype()
    out = [v if isinstance(v, Tensor) and v.dtype.is_floating_point
           else cr.tensor(v, dtype=dtype) if not isinstance(v, Tensor)
           else v.to(dtype) for v in values]
    return cr.broadcast_tensors(*out)


def as_float(v):
    """A float tensor for ``v`` (numbers: the default dtype)."""
    if isinstance(v, Tensor):
        return v if v.dtype.is_floating_point else v.to(cr.get_default_dtype())
    return cr.tensor(v, dtype=cr.get_default_dtype())


def finfo(t):
    return np.finfo(np.float64 if t.dtype == cr.float64 else np.float32)


def clamp_probs(probs):
    eps = float(finfo(probs).eps)
    return probs.clamp(eps, 1 - eps)


def logits_to_probs(logits, is_binary=False):
    return cr.sigmoid(logits) if is_binary else cr.exp(
        logits - cr.logsumexp(logits, -1, keepdim=True))


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    return cr.log(p) - cr.log1p(-p) if is_binary else cr.log(p)


def softplus(x):
    """``log(1 + exp(x))`` without overflow."""
    return cr.relu(x) + cr.log1p(cr.exp(-x.abs()))


def sum_rightmost(x, n):
    """Sum ``x`` over its last ``n`` dims."""
    return x.reshape(x.shape[:x.ndim - n] + (-1,)).sum(-1) if n > 0 else x


def size(shape):
    """A user's ``sample_shape`` (tuple, list, int or Size) as a tuple."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)
