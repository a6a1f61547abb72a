"""The op catalogue is reachable under PyTorch's names: as ``chainrule.<name>``
wherever ``torch.<name>`` exists, and as a Tensor method wherever
``torch.Tensor.<name>`` exists (the oracle rows then check what they do)."""
import pytest
import torch

import chainrule as cr
import chainrule.nn.functional as F

CATALOGUE = """
add sub mul div floor_divide remainder fmod pow float_power neg abs sign reciprocal
sqrt rsqrt square exp expm1 exp2 log log2 log10 log1p sin cos tan asin acos atan atan2
sinh cosh tanh asinh acosh atanh sigmoid erf floor ceil round trunc frac clamp clip
maximum minimum fmax fmin where lerp xlogy relu
eq ne lt le gt ge logical_and logical_or logical_not logical_xor isnan isinf isfinite
isposinf isneginf allclose equal bitwise_and bitwise_or bitwise_xor bitwise_not
sum mean nansum prod var std var_mean std_mean max min amax amin aminmax argmax argmin
logsumexp norm cumsum cumprod cummax cummin all any count_nonzero topk sort argsort
kthvalue median
reshape view flatten unflatten squeeze unsqueeze transpose swapaxes swapdims permute
movedim moveaxis t expand expand_as broadcast_to broadcast_tensors repeat tile
repeat_interleave cat concat concatenate stack hstack vstack split chunk tensor_split
unbind flip fliplr flipud roll narrow tril triu diag diag_embed diagonal trace clone
contiguous
gather scatter scatter_add index_select masked_fill masked_select take_along_dim
index_add index_fill index_put nonzero argwhere
matmul mm bmm mv dot vdot inner outer ger addmm einsum tensordot det logdet slogdet
inverse pinverse
""".split()
LINALG = ("inv solve cholesky det slogdet solve_triangular eigh eigvalsh svd svdvals "
          "norm vector_norm matrix_norm matmul pinv cross").split()
OPERATORS = ("__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ "
             "__rtruediv__ __floordiv__ __rfloordiv__ __mod__ __rmod__ __pow__ "
             "__rpow__ __matmul__ __rmatmul__ __neg__ __abs__ __invert__ __and__ "
             "__or__ __xor__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__ __getitem__ "
             "__setitem__ __iadd__ __isub__ __imul__ __itruediv__").split()


@pytest.mark.parametrize("name", CATALOGUE)
def test_function_and_method_exist(name):
    if hasattr(torch, name):
        assert callable(getattr(cr, name, None)), f"chainrule.{name} is missing"
    if hasattr(torch.Tensor, name):
        assert hasattr(cr.Tensor, name), f"Tensor.{name} is missing"


def test_linalg_functional_and_operators_exist():
    missing = [n for n in LINALG if not callable(getattr(cr.linalg, n, None))]
    missing += [f"F.{n}" for n in ("pad", "one_hot") if not hasattr(F, n)]
    missing += [f"Tensor.{n}" for n in OPERATORS + ["T", "mT"]
                if not hasattr(cr.Tensor, n)]
    assert not missing, f"missing: {missing}"


def test_no_helper_shadows_a_torch_name():
    """Public chainrule names that torch also has are the same kind of thing
    (a function for a function), not internal helpers that leaked out."""
    import inspect

    odd = [n for n in dir(cr) if not n.startswith("_") and hasattr(torch, n)
           and inspect.isfunction(getattr(cr, n))
           and not callable(getattr(torch, n))]
    assert not odd, f"chainrule functions where torch has no callable: {odd}"
    for name in ("take", "put"):  # torch's take/put use flat indices
        f = getattr(cr, name, None)
        assert f is None or "flat" in (f.__doc__ or ""), f"chainrule.{name} leaked"


# Where chainrule's parameter names knowingly differ from torch's docstring.
SIGNATURE_EXCEPTIONS = {
    # chainrule also takes the older positional ``unbiased``, before keepdim
    "var", "std", "var_mean", "std_mean",
    # the same function serves torch.det and torch.linalg.det (whose arg is A)
    "det", "slogdet",
}


def _torch_params(fn, name):
    """Parameter names from the first line of a torch docstring, or None."""
    import re

    doc = " ".join((fn.__doc__ or "").split())
    m = re.match(rf"{re.escape(name)}\((.*?)\) ->", doc)
    if not m or "[" in m.group(1):
        return None
    names = [p.split("=")[0].split(":")[0].strip().lstrip("*")
             for p in m.group(1).split(",")]
    return [n for n in names if n and n != "out"]


@pytest.mark.parametrize("name", [n for n in CATALOGUE if hasattr(torch, n)])
def test_parameter_names_match_torch(name):
    """Every parameter torch documents is accepted under the same name, in the
    same order (chainrule may accept more)."""
    import inspect

    expected = _torch_params(getattr(torch, name), name)
    if expected is None or name in SIGNATURE_EXCEPTIONS:
        pytest.skip("no parseable torch signature, or a documented difference")
    ours = [p.name for p in inspect.signature(getattr(cr, name)).parameters.values()]
    missing = [p for p in expected if p not in ours]
    assert not missing, f"{name}: torch has {expected}, chainrule {ours}"
    assert [p for p in ours if p in expected] == expected, \
        f"{name}: order differs: torch {expected}, chainrule {ours}"
