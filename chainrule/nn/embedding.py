"""Embedding: a lookup table from integer ids to learned vectors."""
from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import empty, where
from ..ops.index import index_in_range
from ..ops.reduce import vector_norm
from . import init
from .module import Module
from .parameter import Parameter


def _renorm_rows(weight, ids, max_norm, norm_type):
    """Scale the rows ``ids`` of ``weight`` in place to norm <= max_norm."""
    with no_grad():
        rows = weight[ids]
        norms = vector_norm(rows, norm_type, -1, keepdim=True)
        # PyTorch's 1e-7 keeps the new norm just under max_norm.
        scale = where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight[ids] = rows * scale


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Rows of ``weight`` ``(num_embeddings, dim)`` picked by integer ``input``
    of any shape ``(*)`` -> ``(*, dim)``.

    ``padding_idx``: that row's output gets no gradient.  ``max_norm``: the
    rows looked up are first renormalised in place to at most that norm.
    """
    if input.dtype.category != 1:
        raise DTypeError(f"embedding: indices must be an integer tensor, got "
                         f"{input.dtype.name} {fmt_shape(input.shape)}")
    n = weight.shape[0]
    # one checking primitive, not a comparison read back in Python: it runs
    # wherever the lookup runs (replayed by autobatch's cache, compiled)
    input = index_in_range(input, n, f"embedding: index {{v}} is out of range for "
                                     f"{n} embeddings (valid: 0 to {n - 1})")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ArgumentError(f"embedding: padding_idx {padding_idx} must be within "
                                f"num_embeddings ({n})")
        padding_idx %= n
    if max_norm is not None:
        _renorm_rows(weight, input.reshape(-1), max_norm, norm_type)
    out = weight[input]
    if scale_grad_by_freq:
        raise ArgumentError("embedding: scale_grad_by_freq is not supported")
    if padding_idx is not None:
        # Same values, but the padding entries are cut from the graph.
        keep = (input != padding_idx).unsqueeze(-1)
        out = where(keep, out, out.detach())
    return out


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``:
    ``(*)`` integer ids -> ``(*, embedding_dim)``.

    ``weight`` starts as N(0, 1); the ``padding_idx`` row starts at zero and
    is never updated by gradients.
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ArgumentError(f"Embedding: padding_idx {padding_idx} must be "
                                    f"within num_embeddings ({num_embeddings})")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ShapeError(f"Embedding: _weight has shape "
                                 f"{fmt_shape(_weight.shape)}, expected "
                                 f"[{num_embeddings}, {embedding_dim}]")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0.0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm,
                         self.norm_type, self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding whose weight is (a copy-free wrap of) ``embeddings``."""
        if embeddings.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-d, got "
                             f"{fmt_shape(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq,
                   sparse, _weight=embeddings, _freeze=freeze)

