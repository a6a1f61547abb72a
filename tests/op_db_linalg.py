"""Op rows: matmul and its relatives, einsum, and ``linalg``.

Eigenvectors and singular vectors are unique only up to sign, so those rows
compare sign-invariant functions of them (``Q * Q``, ``U @ Vh``, rebuilt
matrices) on inputs whose eigen/singular values are well apart.
"""
import math

from tests.op_db_base import (
    Gen, Op, separated_singular, spd_factor, symmetric_separated, triangular,
    well_conditioned,
)

_INF = float("inf")
MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((2, 2, 3), (3, 4)), ((2, 1, 2, 3), (3, 3, 2)), ((2, 2, 3), (3,)),
                 ((3,), (2, 3, 2)), ((1, 3), (3, 1))]


def _lin(name, fn, samples, **kw):
    return Op(name, fn, samples, gradgrad=True, **kw)


def _eigh(m, x, **kw):
    L, Q = m.linalg.eigh(x + x.mT, **kw)
    return L, Q * Q, Q @ (m.exp(L / 4).unsqueeze(-1) * Q.mT)


def _eigh_upper(m, x):
    L, Q = m.linalg.eigh(m.triu(x + x.mT), UPLO="U")
    return L, Q * Q


def _svd(m, x):
    U, S, Vh = m.linalg.svd(x, full_matrices=False)
    return S, U * U, Vh * Vh, U @ Vh, (U * S.unsqueeze(-2)) @ Vh


def _svd_full(m, x):
    U, S, Vh = m.linalg.svd(x)
    k = S.shape[-1]
    u, vh = U[..., :k], Vh[..., :k, :]
    return S, U.shape[-1], Vh.shape[-1], u * u, u @ vh


def _spd(m, x):
    return x @ x.mT + m.eye(x.shape[-1], dtype=x.dtype)


MATMUL = [
    _lin("matmul", lambda m, x, y: m.matmul(x, y), MATMUL_SHAPES),
    _lin("matmul.op", lambda m, x, y: x @ y, MATMUL_SHAPES[:4]),
    _lin("matmul.linalg", lambda m, x, y: m.linalg.matmul(x, y), [((2, 3), (3, 2))]),
    _lin("mm", lambda m, x, y: m.mm(x, y), [((2, 3), (3, 4)), ((1, 1), (1, 2))]),
    _lin("mm.method", lambda m, x, y: x.mm(y), [((2, 3), (3, 4))]),
    _lin("bmm", lambda m, x, y: m.bmm(x, y), [((2, 2, 3), (2, 3, 4))]),
    _lin("mv", lambda m, x, y: m.mv(x, y), [((2, 3), (3,))]),
    _lin("dot", lambda m, x, y: m.dot(x, y), [((3,), (3,)), ((1,), (1,))]),
    _lin("dot.method", lambda m, x, y: x.dot(y), [((4,), (4,))]),
    _lin("vdot", lambda m, x, y: m.vdot(x, y), [((3,), (3,))]),
    _lin("inner", lambda m, x, y: m.inner(x, y), [((3,), (3,)), ((2, 3), (4, 3)),
                                                  ((3,), (2, 2, 3)), ((), (2, 3))]),
    _lin("outer", lambda m, x, y: m.outer(x, y), [((3,), (2,)), ((1,), (4,))]),
    _lin("addmm", lambda m, a, x, y: m.addmm(a, x, y, beta=0.5, alpha=2),
         [((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))]),
    _lin("einsum.matmul", lambda m, x, y: m.einsum("ij,jk->ik", x, y),
         [((2, 3), (3, 4))]),
    _lin("einsum.batched", lambda m, x, y: m.einsum("bij,bjk->bik", x, y),
         [((2, 2, 3), (2, 3, 4))]),
    _lin("einsum.implicit", lambda m, x, y: m.einsum("ij,jk", x, y),
         [((2, 3), (3, 4))]),
    _lin("einsum.dot", lambda m, x, y: m.einsum("i,i->", x, y), [((3,), (3,))]),
    _lin("einsum.outer", lambda m, x, y: m.einsum("i,j->ij", x, y), [((3,), (2,))]),
    _lin("einsum.transpose", lambda m, x: m.einsum("ij->ji", x), [((2, 3),)]),
    _lin("einsum.sum", lambda m, x: m.einsum("ijk->j", x), [((2, 3, 4),)]),
    _lin("einsum.hadamard", lambda m, x, y: m.einsum("ij,ij->ij", x, y),
         [((2, 3), (2, 3))]),
    _lin("einsum.ellipsis", lambda m, x, y: m.einsum("...ij,...jk->...ik", x, y),
         [((2, 2, 3), (2, 3, 4)), ((2, 3), (3, 4))]),
    _lin("einsum.three", lambda m, x, y, z: m.einsum("bn,anm,bm->ba", x, y, z),
         [((2, 3), (4, 3, 2), (2, 2))]),
    _lin("einsum.list", lambda m, x, y: m.einsum("ij,j->i", [x, y]), [((2, 3), (3,))]),
    _lin("einsum.diagonal", lambda m, x: m.einsum("ii->i", x), [((3, 3),)]),
    _lin("einsum.trace", lambda m, x: m.einsum("ii", x), [((3, 3),)]),
    _lin("einsum.broadcast_one", lambda m, x, y: m.einsum("ij,jk->ik", x, y),
         [((2, 1), (3, 4))], fd=True),
    _lin("tensordot", lambda m, x, y: m.tensordot(x, y, 1), [((2, 3), (3, 4))]),
    _lin("tensordot.two", lambda m, x, y: m.tensordot(x, y), [((2, 3, 4), (3, 4, 2))]),
    _lin("tensordot.pairs", lambda m, x, y: m.tensordot(x, y, ([1, 0], [0, 1])),
         [((3, 2, 4), (2, 3, 5))]),
    _lin("tensordot.zero", lambda m, x, y: m.tensordot(x, y, 0), [((2,), (3,))]),
]

_A3, _A233 = well_conditioned(3, 3), well_conditioned(2, 3, 3)
SQUARE = [(_A3,), (_A233,), (well_conditioned(1, 1),)]

MATRIX_FUNCTIONS = [
    Op("inv", lambda m, x: m.linalg.inv(x), SQUARE),
    Op("inverse", lambda m, x: m.inverse(x), SQUARE[:1]),
    Op("solve", lambda m, a, b: m.linalg.solve(a, b),
       [(_A3, (3, 2)), (_A3, (3,)), (_A233, (2, 3, 1)),
        (_A233, (3, 2)), (_A233, (2, 3))]),
    Op("solve.right", lambda m, a, b: m.linalg.solve(a, b, left=False),
       [(_A3, (2, 3)), (_A233, (2, 4, 3))]),
    Op("cholesky", lambda m, x: m.linalg.cholesky(_spd(m, x)),
       [(spd_factor(3, 3),), (spd_factor(2, 3, 3),), (spd_factor(1, 1),)]),
    Op("cholesky.upper", lambda m, x: m.linalg.cholesky(_spd(m, x), upper=True),
       [(spd_factor(3, 3),), (spd_factor(2, 2, 2),)]),
    Op("det", lambda m, x: m.linalg.det(x), SQUARE + [((3, 3),)]),
    Op("det.top", lambda m, x: (m.det(x), x.det()), [((2, 2),)]),
    Op("slogdet", lambda m, x: m.linalg.slogdet(x), SQUARE + [((3, 3),), ((2, 2, 2),)]),
    Op("logdet", lambda m, x: m.logdet(_spd(m, x)), [(spd_factor(3, 3),)]),
    Op("solve_triangular", lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True),
       [(triangular(3, 3), (3, 2)), (triangular(2, 3, 3), (2, 3, 1))]),
    Op("solve_triangular.lower",
       lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False),
       [(triangular(3, 3), (3, 4)), (triangular(2, 3, 3), (3, 2))]),
    Op("solve_triangular.right",
       lambda m, a, b: m.linalg.solve_triangular(a, b, upper=False, left=False),
       [(triangular(3, 3), (2, 3))]),
    Op("solve_triangular.unit",
       lambda m, a, b: m.linalg.solve_triangular(a, b, upper=True, unitriangular=True),
       [(triangular(3, 3), (3, 2))]),
    Op("eigh", _eigh, [(symmetric_separated(3, 3),), (symmetric_separated(2, 3, 3),),
                       (symmetric_separated(1, 1),)]),
    # PyTorch's eigh gradient is the symmetric one (it assumes symmetric input),
    # not the derivative of reading one triangle: no finite differences here.
    Op("eigh.upper", _eigh_upper, [(symmetric_separated(3, 3),)], fd=False),
    Op("eigvalsh", lambda m, x: m.linalg.eigvalsh(x + x.mT),
       [(symmetric_separated(3, 3),), (symmetric_separated(2, 4, 4),)]),
    Op("svd", _svd, [(separated_singular(3, 3),), (separated_singular(4, 2),),
                     (separated_singular(2, 3),), (separated_singular(2, 3, 2),)]),
    Op("svd.full", _svd_full,
       [(separated_singular(3, 2),), (separated_singular(2, 3),)]),
    Op("svdvals", lambda m, x: m.linalg.svdvals(x),
       [(separated_singular(3, 2),), (separated_singular(2, 2, 3),)]),
    Op("pinv", lambda m, x: m.linalg.pinv(x),
       [(separated_singular(3, 2),), (separated_singular(2, 3),)], rtol=1e-4),
    # Cut singular values: torch's gradient uses the constant-rank formula, ours
    # differentiates the truncated SVD; values are compared, and finite
    # differences check our gradient.
    Op("pinv.tolerances", lambda m, x: (m.linalg.pinv(x, rtol=0.5),
                                        m.linalg.pinv(x, atol=1.5),
                                        m.pinverse(x, rcond=0.4)),
       [(separated_singular(3, 2),), (separated_singular(2, 3, 3),)], rtol=1e-4,
       grad=False),
    Op("cross", lambda m, x, y: m.linalg.cross(x, y), [((3,), (3,)), ((2, 3), (2, 3))]),
    Op("cross.dim", lambda m, x, y: m.linalg.cross(x, y, dim=0), [((3, 2), (3, 1))]),
]

_ORDS = ["fro", "nuc", 2, -2, 1, -1, _INF, -_INF]
NORMS = [
    Op("linalg.norm", lambda m, x: m.linalg.norm(x),
       [((4,),), ((2, 3),), ((2, 3, 4),)]),
    Op("linalg.norm.vector_ord", lambda m, x: (m.linalg.norm(x, 3), m.linalg.norm(
        x, _INF), m.linalg.norm(x, 1)), [((4,),)]),
    Op("linalg.norm.dim", lambda m, x: m.linalg.norm(x, 3, dim=1, keepdim=True),
       [((2, 3),), ((2, 3, 4),)]),
    Op("linalg.norm.dims", lambda m, x: m.linalg.norm(x, dim=(0, 2)), [((2, 3, 4),)]),
] + [
    Op(f"linalg.norm.matrix_{o}", lambda m, x, o=o: m.linalg.norm(x, o),
       [(separated_singular(3, 4),)]) for o in _ORDS
] + [
    Op(f"matrix_norm.{o}", lambda m, x, o=o: m.linalg.matrix_norm(x, o),
       [(separated_singular(2, 3, 4),)]) for o in _ORDS
] + [
    Op("matrix_norm.dims_keepdim",
       lambda m, x: [m.linalg.matrix_norm(x, o, dim=(0, 2), keepdim=True)
                     for o in ("fro", 1, -_INF)], [((3, 2, 4),)]),
    Op("matrix_norm.spectral_keepdim",
       lambda m, x: m.linalg.matrix_norm(x, 2, dim=(-1, 0), keepdim=True),
       [(separated_singular(3, 2, 3),)]),
]



# -- Gaussian-process primitives (chainrule.ops.gaussian): no torch op of their
# own, so the reference is the same definition in torch ops.
def _gp_lml(m, x, y):
    return m.ops.gaussian.gaussian_log_marginal_likelihood(_spd(m, x), y)


def _gp_lml_ref(m, x, y):
    K = _spd(m, x)
    L = m.linalg.cholesky(K)
    a = m.linalg.solve_triangular(L, y.unsqueeze(-1), upper=False)
    return (-0.5 * (a * a).sum() - m.log(m.diagonal(L)).sum()
            - 0.5 * K.shape[-1] * math.log(2 * math.pi))


def _stationary_ref(m, d2, ll, lv, kind):
    r2 = d2 * m.exp(-2 * ll)
    if kind == "rbf":
        return m.exp(lv - 0.5 * r2)
    c = {"matern12": 1.0, "matern32": 3.0, "matern52": 5.0}[kind]
    s = m.sqrt(r2 + 1e-300) * math.sqrt(c)  # (the shift: finite slope at 0)
    p = {"matern12": 1.0, "matern32": 1 + s, "matern52": 1 + s + s * s / 3}[kind]
    return m.exp(lv) * p * m.exp(-s)


_D2 = Gen(lambda rng: rng.uniform(0.1, 3.0, (3, 4)), "d2[3, 4]")
GP = [
    Op("gaussian_log_marginal_likelihood", _gp_lml,
       [(spd_factor(4, 4), (4,)), (spd_factor(1, 1), (1,))], ref=_gp_lml_ref),
    Op("add_to_diagonal", lambda m, k, v: m.ops.gaussian.add_to_diagonal(k, v),
       [((3, 3), (3,)), ((3, 3), (1,)), ((2, 2), ())],
       ref=lambda m, k, v: k + m.diag_embed(v.expand(k.shape[-1]))),
] + [
    Op(f"stationary_kernel.{kind}",
       lambda m, d2, ll, lv, kind=kind: m.ops.gaussian.stationary_kernel(
           d2, ll, lv, kind), [(_D2, (1,), (1,))],
       ref=lambda m, d2, ll, lv, kind=kind: _stationary_ref(m, d2, ll, lv, kind))
    for kind in ("rbf", "matern12", "matern32", "matern52")
]

for _op in MATRIX_FUNCTIONS + NORMS + GP:
    _op.gradgrad = True  # all matrix functions have differentiable vjps

ROWS = MATMUL + MATRIX_FUNCTIONS + NORMS + GP
