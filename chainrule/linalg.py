"""``chainrule.linalg``: PyTorch's ``torch.linalg`` names."""
from .ops.linalg import (  # noqa: F401
    cholesky, cross, det, eigh, eigvalsh, inv, matmul, matrix_norm, norm, pinv,
    slogdet, solve, solve_triangular, svd, svdvals,
)
from .ops.reduce import vector_norm  # noqa: F401
