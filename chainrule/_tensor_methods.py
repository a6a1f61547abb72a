"""Tensor methods and operators, bound to the op functions.

Every method here forwards to the function of the same name in ``ops``, so
``x.sum(1)`` and ``chainrule.sum(x, 1)`` are one code path.
"""
from . import ops
from ._device import check_device, is_device
from ._dtype import as_dtype
from .errors import ArgumentError
from .ops import fused as _fused
from .ops._util import dim1, floating
from .ops.inplace import inplace
from .tensor import Tensor

# Methods whose first argument is the tensor itself.
_METHODS = """
add sub subtract mul multiply div divide true_divide floor_divide remainder fmod
neg negative pow float_power square abs absolute sign sgn reciprocal sqrt rsqrt exp
expm1 exp2 log log2 log10 log1p sin cos tan asin acos atan atan2 arctan2 sinh cosh
tanh asinh acosh atanh sigmoid erf floor ceil round trunc fix frac clamp clip
clamp_min clamp_max maximum minimum relu lerp xlogy
eq ne lt le gt ge greater greater_equal less less_equal not_equal
logical_and logical_or logical_xor logical_not isnan isinf isfinite isposinf
isneginf bitwise_and bitwise_or bitwise_xor bitwise_not allclose isclose equal
sum mean nansum prod var std amax amin argmax argmin max min aminmax logsumexp
cumsum cumprod cummax cummin all any count_nonzero norm argsort sort topk
kthvalue median
reshape view view_as reshape_as flatten unflatten squeeze unsqueeze expand
expand_as broadcast_to permute transpose swapaxes swapdims t movedim moveaxis
repeat tile repeat_interleave split chunk tensor_split unbind flip fliplr flipud
roll narrow tril triu diagonal diag diag_embed trace clone contiguous
gather scatter scatter_add take_along_dim index_select masked_fill masked_select
index_add index_fill index_put nonzero argwhere
matmul mm bmm mv dot inner outer ger addmm det logdet slogdet inverse pinverse
vdot fmax fmin bernoulli multinomial
""".split()

for _name in _METHODS:
    setattr(Tensor, _name, getattr(ops, _name))


def _reflected(fn):
    return lambda self, other: fn(other, self)


# Forward operators bind the op functions directly (no extra Python frame).
Tensor.__add__ = ops.add
Tensor.__radd__ = _reflected(ops.add)
Tensor.__sub__ = ops.sub
Tensor.__rsub__ = _reflected(ops.sub)
Tensor.__mul__ = ops.mul
Tensor.__rmul__ = _reflected(ops.mul)
Tensor.__truediv__ = ops.div
Tensor.__rtruediv__ = _reflected(ops.div)
Tensor.__floordiv__ = ops.floor_divide
Tensor.__rfloordiv__ = _reflected(ops.floor_divide)
Tensor.__mod__ = ops.remainder
Tensor.__rmod__ = _reflected(ops.remainder)
Tensor.__pow__ = ops.pow
Tensor.__rpow__ = _reflected(ops.pow)
Tensor.__matmul__ = ops.matmul
Tensor.__rmatmul__ = _reflected(ops.matmul)
Tensor.__and__ = ops.bitwise_and
Tensor.__rand__ = _reflected(ops.bitwise_and)
Tensor.__or__ = ops.bitwise_or
Tensor.__ror__ = _reflected(ops.bitwise_or)
Tensor.__xor__ = ops.bitwise_xor
Tensor.__rxor__ = _reflected(ops.bitwise_xor)
Tensor.__eq__ = ops.eq
Tensor.__ne__ = ops.ne
Tensor.__lt__ = ops.lt
Tensor.__le__ = ops.le
Tensor.__gt__ = ops.gt
Tensor.__ge__ = ops.ge
Tensor.__neg__ = ops.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = ops.abs
Tensor.__invert__ = ops.bitwise_not
Tensor.__getitem__ = ops.getitem
Tensor.__setitem__ = ops.setitem
Tensor.T = property(lambda self: ops.permute(self, tuple(range(self.ndim))[::-1]))
Tensor.mT = property(ops.shape.mT)
Tensor.H = Tensor.T
Tensor.mH = Tensor.mT


def _iter(self):
    if self.ndim == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(ops.unbind(self, 0))


Tensor.__iter__ = _iter
Tensor.where = lambda self, condition, other: ops.where(condition, self, other)


# -- dtype conversion -----------------------------------------------------------------
def to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """``to(dtype)``, ``to(other_tensor)`` or ``to('cpu')``: a converted tensor."""
    check_device(device, "to")
    for a in args:
        if isinstance(a, Tensor):
            dtype = a.dtype
        elif is_device(a):
            check_device(a, "to")
        else:
            dtype = a
    if dtype is None:
        return self.clone() if copy else self
    out = ops.to_dtype(self, as_dtype(dtype).np)
    return out.clone() if copy and out is self else out


Tensor.to = to


def cuda(self, device=None, non_blocking=False):
    """Always an error: chainrule has no GPU backend (as ``Module.cuda``)."""
    raise ArgumentError("cuda: no GPU backend; chainrule runs on the CPU (keep the "
                        "tensor on 'cpu', e.g. x.to('cpu'))")


Tensor.cuda = cuda
Tensor.type = lambda self, dtype=None: self.dtype if dtype is None else self.to(dtype)
Tensor.float = lambda self: self.to("float32")
Tensor.double = lambda self: self.to("float64")
Tensor.long = lambda self: self.to("int64")
Tensor.int = lambda self: self.to("int32")
Tensor.bool = lambda self: self.to("bool")
Tensor.type_as = lambda self, other: self.to(other.dtype)
Tensor.new_tensor = lambda self, data, dtype=None, requires_grad=False: ops.tensor(
    data, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_zeros = lambda self, *size, dtype=None, requires_grad=False: ops.zeros(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_ones = lambda self, *size, dtype=None, requires_grad=False: ops.ones(
    *size, dtype=dtype or self.dtype, requires_grad=requires_grad)
Tensor.new_full = lambda self, size, fill_value, dtype=None: ops.full(
    size, fill_value, dtype=dtype or self.dtype)
Tensor.new_empty = Tensor.new_zeros


# -- in-place methods: the out-of-place op written back ----------------------------------
def _inplace_method(name, fn):
    def method(self, *args, **kwargs):
        return inplace(self, lambda a: fn(a, *args, **kwargs), name)

    method.__name__ = name
    method.__doc__ = f"In-place version of :meth:`{name[:-1]}`."
    return method


for _name in """add sub mul div pow neg abs sign sqrt rsqrt exp log log1p sin cos tanh
sigmoid relu floor ceil round trunc clamp clip clamp_min clamp_max reciprocal
masked_fill index_add index_fill scatter scatter_add lerp fmod remainder
square""".split():
    setattr(Tensor, _name + "_", _inplace_method(_name + "_", getattr(ops, _name)))
Tensor.subtract_, Tensor.multiply_, Tensor.divide_ = Tensor.sub_, Tensor.mul_, Tensor.div_
Tensor.fill_ = ops.fill_
Tensor.zero_ = ops.zero_
Tensor.copy_ = ops.copy_
Tensor.__iadd__ = Tensor.add_
Tensor.__isub__ = Tensor.sub_
Tensor.__imul__ = Tensor.mul_
Tensor.__itruediv__ = Tensor.div_
Tensor.__ipow__ = Tensor.pow_


def addcmul_(self, t1, t2, *, value=1):
    return inplace(self, lambda a: a + value * t1 * t2, "addcmul_")


def addcdiv_(self, t1, t2, *, value=1):
    return inplace(self, lambda a: a + value * t1 / t2, "addcdiv_")


Tensor.addcmul_ = addcmul_
Tensor.addcdiv_ = addcdiv_
Tensor.addcmul = lambda self, t1, t2, *, value=1: self + value * t1 * t2
Tensor.addcdiv = lambda self, t1, t2, *, value=1: self + value * t1 / t2


def uniform_(self, a=0.0, b=1.0, *, generator=None):
    """Fill with samples from U(a, b)."""
    return inplace(self, lambda x: ops.rand(x.shape, generator=generator,
                                            dtype=x.dtype) * (b - a) + a, "uniform_")


def normal_(self, mean=0.0, std=1.0, *, generator=None):
    """Fill with samples from N(mean, std^2)."""
    return inplace(self, lambda x: ops.randn(x.shape, generator=generator,
                                             dtype=x.dtype) * std + mean, "normal_")


def bernoulli_(self, p=0.5, *, generator=None):
    return inplace(self, lambda x: ops.bernoulli(x, p, generator=generator), "bernoulli_")


def random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low
    return inplace(self, lambda x: ops.randint(low, high, x.shape, generator=generator,
                                               dtype=x.dtype), "random_")


Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.bernoulli_ = bernoulli_
Tensor.random_ = random_


# -- softmax spelled as a method, and format specs ---------------------------------------
def _normaliser(fused, name):
    def method(self, dim, dtype=None):
        x = floating(self) if dtype is None else self.to(dtype)
        if x.ndim == 0:  # one element along dim: the gradient is zero
            return ops.reshape(fused(ops.reshape(x, (1,)), 0), ())
        return fused(x, dim1(dim, x.ndim, name))

    method.__name__ = name
    method.__doc__ = (f"``{name}`` along ``dim`` (the tensor first converted to "
                      "``dtype`` if given); same shape as the tensor.")
    return method


Tensor.softmax = _normaliser(_fused.softmax, "softmax")
Tensor.log_softmax = _normaliser(_fused.log_softmax, "log_softmax")


def __format__(self, spec):
    """A 0-d tensor formats as its Python number (``f"{loss:.4f}"``); any other
    tensor only with an empty spec, as its ``str``, like PyTorch."""
    if self.ndim == 0:
        return format(self.item(), spec)
    return object.__format__(self, spec)


Tensor.__format__ = __format__
