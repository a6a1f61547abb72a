"""Tensor methods and operators, bound to the op functions.

Every method here forwards to the function of the same name in ``ops``, so
``x.sum(1)`` and ``chainrule.sum(x, 1)`` are one code path.
"""
import math

from . import _extra, ops
from ._device import check_device, is_device
from ._dtype import as_dtype
from .errors import ArgumentError, ShapeError, fmt_shape
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


# -- in-place methods: the out-of-place op written back --------------------------------
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
Tensor.subtract_, Tensor.multiply_ = Tensor.sub_, Tensor.mul_
Tensor.divide_ = Tensor.div_
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
    return inplace(self, lambda x: ops.bernoulli(x, p, generator=generator),
                   "bernoulli_")


def random_(self, low=0, high=None, *, generator=None):
    if high is None:
        low, high = 0, low
    return inplace(self, lambda x: ops.randint(low, high, x.shape, generator=generator,
                                               dtype=x.dtype), "random_")


Tensor.uniform_ = uniform_
Tensor.normal_ = normal_
Tensor.bernoulli_ = bernoulli_
Tensor.random_ = random_


# -- softmax spelled as a method, and format specs -------------------------------------
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


# -- PyTorch names that are composites in ``_extra`` -----------------------------------
for _name in """
arccos arccosh arcsin arcsinh arctan arctanh positive hypot logaddexp logaddexp2
copysign deg2rad rad2deg heaviside signbit sinc logit nan_to_num ldexp angle conj
conj_physical resolve_conj resolve_neg isreal nanmean logcumsumexp msort ravel select
take split_with_sizes unsafe_split unsafe_chunk narrow_copy rot90 diff kron diagflat
select_scatter slice_scatter hardshrink prelu addmv addr addbmm baddbmm dist
matrix_power index_copy adjoint real hsplit vsplit dsplit unsafe_split_with_sizes
is_complex is_conj is_neg is_signed is_same_size is_nonzero
""".split():
    setattr(Tensor, _name, getattr(_extra, _name))
Tensor.addmm = ops.addmm


def _unfold(self, dimension, size, step):
    """Sliding windows of ``size`` elements every ``step`` along ``dimension``:
    that dim becomes the number of windows and a new last dim of ``size``."""
    d = dim1(dimension, max(self.ndim, 1), "unfold")
    n = self.shape[d] if self.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise ShapeError(f"unfold: maximum size for tensor at dimension {d} is {n} "
                         f"but size is {size} (step {step} must be positive)")
    starts = ops.arange(0, n - size + 1, step) if self.ndim else ops.arange(1)
    windows = ops.unsqueeze(starts, 1) + ops.arange(size)  # (W, size)
    x = self if self.ndim else ops.reshape(self, (1,))
    picked = ops.index_select(x, d, ops.reshape(windows, (-1,)))
    shape = x.shape[:d] + tuple(windows.shape) + x.shape[d + 1:]
    out = ops.movedim(ops.reshape(picked, shape), d + 1, -1)
    return out if self.ndim else ops.reshape(out, (size,))


def _sum_to_size(self, *size):
    """Sum over the dims that ``size`` broadcasts, giving shape ``size``."""
    size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) \
        else size
    try:
        if ops.broadcast_shapes(size, self.shape) != tuple(self.shape):
            raise ValueError
    except (ValueError, ShapeError):
        raise ShapeError(f"sum_to_size: size {fmt_shape(size)} is not expandable to "
                         f"the tensor's size {fmt_shape(self.shape)}") from None
    return ops.sum_to(self, size)


def _cross(self, other, dim=None):
    """Cross product along ``dim`` (default: the first dim of size 3)."""
    from . import linalg

    if dim is None:
        dim = next((i for i, n in enumerate(self.shape) if n == 3), -1)
    return linalg.cross(self, other, dim=dim)


def _stride(self, dim=None):
    """Element strides (metadata of the wrapped array, as PyTorch reports them)."""
    item = self._data.itemsize
    st = tuple(s // item for s in self._data.strides)
    return st if dim is None else st[dim1(dim, self.ndim, "stride")]


Tensor.unfold = _unfold
Tensor.sum_to_size = _sum_to_size
Tensor.cross = _cross
Tensor.stride = _stride
Tensor.is_contiguous = lambda self, memory_format=None: bool(
    self._data.flags.c_contiguous)
Tensor.is_cpu = property(lambda self: True)
Tensor.is_meta = property(lambda self: False)
Tensor.is_sparse = property(lambda self: False)
Tensor.is_quantized = property(lambda self: False)
Tensor.is_mkldnn = property(lambda self: False)
Tensor.is_nested = property(lambda self: False)
Tensor.get_device = lambda self: -1
Tensor.to_dense = lambda self, dtype=None, *, masked_grad=None: (
    self if dtype is None else self.to(dtype))


# More in-place spellings: the out-of-place op written back (comparisons write
# 1/0 in the tensor's own dtype, as in PyTorch).
for _name in """absolute acos acosh asin asinh atan atanh arccos arccosh arcsin arcsinh
arctan arctanh atan2 arctan2 cosh sinh tan erf exp2 expm1 fix frac log10 log2 negative
sgn xlogy float_power floor_divide true_divide bitwise_and bitwise_or bitwise_xor
bitwise_not logical_and logical_or logical_xor logical_not eq ne lt le gt ge greater
greater_equal less less_equal not_equal cumsum cumprod tril triu hypot logit
addmm index_put""".split():
    setattr(Tensor, _name + "_", _inplace_method(_name + "_", getattr(Tensor, _name)))


def _composite_inplace(name, fn):
    # A composite saves the tensor in inner nodes that ``inplace`` cannot see; a
    # clone (whose backward needs no values) keeps those values from being
    # overwritten by the write-back.
    return _inplace_method(name, lambda a, *args, **kw: fn(ops.clone(a), *args, **kw))


for _name in """hypot logit nan_to_num copysign deg2rad rad2deg heaviside sinc ldexp
addmv addr addbmm baddbmm index_copy hardshrink""".split():
    setattr(Tensor, _name + "_",
            _composite_inplace(_name + "_", getattr(Tensor, _name)))


def exponential_(self, lambd=1.0, *, generator=None):
    """Fill with samples of Exp(lambd): ``-log(1 - U) / lambd``."""
    return inplace(self, lambda x: -ops.log1p(-ops.rand(
        x.shape, generator=generator, dtype=x.dtype)) / lambd, "exponential_")


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    """Fill with Cauchy samples: ``median + sigma tan(pi (U - 1/2))``."""
    return inplace(self, lambda x: median + sigma * ops.tan(math.pi * (ops.rand(
        x.shape, generator=generator, dtype=x.dtype) - 0.5)), "cauchy_")


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    """Fill with ``exp(N(mean, std^2))`` samples."""
    return inplace(self, lambda x: ops.exp(ops.randn(
        x.shape, generator=generator, dtype=x.dtype) * std + mean), "log_normal_")


def geometric_(self, p, *, generator=None):
    """Fill with the number of Bernoulli(p) trials up to the first success."""
    if not 0 < p <= 1:
        raise ArgumentError(f"geometric_: expects p in (0, 1], got {p}")

    def draw(x):
        u = ops.rand(x.shape, generator=generator, dtype="float64")
        if p == 1:
            return ops.ones_like(u)
        return ops.floor(ops.log1p(-u) / math.log1p(-p)) + 1
    return inplace(self, draw, "geometric_")


def fill_diagonal_(self, fill_value, wrap=False):
    """Write ``fill_value`` on the main diagonal (all dims equal when > 2-D; for
    tall matrices ``wrap`` restarts the diagonal every ``cols + 1`` rows)."""
    if self.ndim < 2 or (self.ndim > 2 and len(set(self.shape)) != 1):
        raise ShapeError(f"fill_diagonal_: needs at least 2 dims, all of equal length "
                         f"when more than 2, got shape {fmt_shape(self.shape)}")
    if self.ndim == 2:
        rows, cols = self.shape
        r = ops.unsqueeze(ops.arange(rows), 1)
        c = ops.arange(cols)
        on = r == c
        if wrap and rows > cols + 1:
            on = (r % (cols + 1)) == c
    else:
        grids = _extra.meshgrid(*[ops.arange(n) for n in self.shape])
        on = ops.ones(self.shape, dtype="bool")
        for g in grids[1:]:
            on = ops.logical_and(on, g == grids[0])
    return inplace(self, lambda x: ops.masked_fill(x, on, fill_value), "fill_diagonal_")


Tensor.exponential_ = exponential_
Tensor.cauchy_ = cauchy_
Tensor.log_normal_ = log_normal_
Tensor.geometric_ = geometric_
Tensor.fill_diagonal_ = fill_diagonal_


# -- ``chainrule.<name>`` spellings of methods (PyTorch's ``torch.abs_(x)``...) --------
TOP_LEVEL = {name: getattr(Tensor, name) for name in """
abs_ acos_ acosh_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_ atan_
atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ rad2deg_ erf_ exp_
exp2_ expm1_ fix_ floor_ frac_ log_ log10_ log1p_ log2_ logit_ neg_ negative_
reciprocal_ relu_ round_ rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_
trunc_ nan_to_num_ ldexp_ xlogy_ index_put_ softmax log_softmax addcmul addcdiv
""".split()}
# ``range`` is not in ``_extra.__all__``: a module-level ``range`` there would shadow
# the builtin inside its own functions.
TOP_LEVEL["range"] = _extra.torch_range
TOP_LEVEL["detach"] = lambda input: input.detach()
TOP_LEVEL["index_copy"] = _extra.index_copy
TOP_LEVEL["cross"] = _cross
TOP_LEVEL["unfold_copy"] = lambda input, dimension, size, step: ops.clone(
    _unfold(input, dimension, size, step))
TOP_LEVEL["narrow_copy"] = _extra.narrow_copy
