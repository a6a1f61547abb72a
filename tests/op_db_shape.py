"""Op rows: reshaping, transposing, joining, splitting, flips, triangles, pad."""

from tests.op_db_base import Const, Op

X3 = [((2, 3, 4),)]
X2 = [((3, 4),)]


def _rev(m, x):
    """``x.T`` spelled for torch, which deprecates ``.T`` unless 2-D."""
    return x.permute(*range(x.ndim - 1, -1, -1))


def _pad(mode, pad, samples, **kw):
    return Op(f"pad.{mode}{len(pad) // 2}d",
              lambda m, x: m.nn.functional.pad(x, pad, mode=mode, **kw), samples)


RESHAPE = [
    Op("reshape", lambda m, x: x.reshape(3, -1), [((2, 3),), ((3, 1, 2),)]),
    Op("reshape.fn", lambda m, x: m.reshape(x, (4, 6)), X3),
    Op("reshape.0d", lambda m, x: (x.reshape(()), x.reshape(1, 1)), [((1,),), ((),)]),
    Op("view", lambda m, x: x.view(6, 4), X3),
    Op("view.infer", lambda m, x: x.view(-1), X3 + [((),)]),
    Op("view_as", lambda m, x, y: x.view_as(y), [((2, 3), (3, 2))]),
    Op("reshape_as", lambda m, x, y: x.reshape_as(y), [((2, 3), (6,))]),
    Op("flatten", lambda m, x: x.flatten(), X3 + [((),)]),
    Op("flatten.range", lambda m, x: (m.flatten(x, 1), x.flatten(0, 1)), X3),
    Op("unflatten", lambda m, x: x.unflatten(-1, (2, -1)), X3),
    Op("unflatten.fn", lambda m, x: m.unflatten(x, 0, (1, 2)), X3),
    Op("squeeze", lambda m, x: x.squeeze(), [((1, 3, 1),), ((1,),), ((),)]),
    Op("squeeze.dim", lambda m, x: (m.squeeze(x, 0), x.squeeze(1), x.squeeze(-1)),
       [((1, 3, 1),)]),
    Op("squeeze.tuple", lambda m, x: x.squeeze((0, 2)), [((1, 3, 1),), ((1, 3, 4),)]),
    Op("unsqueeze", lambda m, x: (x.unsqueeze(0), m.unsqueeze(x, -1), x.unsqueeze(1)),
       [((3,),), ((2, 3),)]),
    Op("unsqueeze.0d", lambda m, x: (x.unsqueeze(0), x.unsqueeze(-1)), [((),)]),
]

TRANSPOSE = [
    Op("transpose", lambda m, x: x.transpose(0, 2), X3),
    Op("transpose.fn", lambda m, x: m.transpose(x, -1, -2), X3 + X2),
    Op("swapaxes", lambda m, x: m.swapaxes(x, 0, 1), X3),
    Op("swapaxes.keywords", lambda m, x: (m.swapaxes(x, axis0=0, axis1=2),
                                          m.transpose(x, dim0=1, dim1=0)), X3),
    Op("swapdims", lambda m, x: x.swapdims(1, 2), X3),
    Op("permute", lambda m, x: x.permute(2, 0, 1), X3),
    Op("permute.fn", lambda m, x: m.permute(x, (1, -1, 0)), X3),
    Op("permute.keyword", lambda m, x: m.permute(x, dims=(2, 0, 1)), X3),
    Op("movedim", lambda m, x: m.movedim(x, 0, -1), X3),
    Op("movedim.tuple", lambda m, x: x.movedim((0, 1), (2, 0)), X3),
    Op("moveaxis", lambda m, x: m.moveaxis(x, -1, 0), X3),
    Op("t", lambda m, x: x.t(), X2 + [((3,),), ((),)]),
    Op("t.fn", lambda m, x: m.t(x), X2),
    Op("T", lambda m, x: x.T, X2),
    Op("T.nd", lambda m, x: x.T, X3 + [((3,),)], ref=_rev),
    Op("mT", lambda m, x: x.mT, X3 + X2),
]

EXPAND = [
    Op("expand", lambda m, x: x.expand(2, 3, 4), [((3, 1),), ((1, 4),), ((),)]),
    Op("expand.keep", lambda m, x: x.expand(-1, 4), [((3, 1),)]),
    Op("expand_as", lambda m, x, y: x.expand_as(y), [((3, 1), (2, 3, 4))],
       ref=lambda m, x, y: x.expand_as(y.detach())),
    Op("broadcast_to", lambda m, x: m.broadcast_to(x, (2, 3, 4)), [((4,),), ((3, 1),)]),
    Op("broadcast_tensors", lambda m, x, y: m.broadcast_tensors(x, y),
       [((3, 1), (4,)), ((), (2, 1))]),
    Op("repeat", lambda m, x: x.repeat(2, 1, 3), [((3, 2),), ((2, 1, 2),)]),
    Op("repeat.0d", lambda m, x: x.repeat(3), [((),)]),
    Op("tile", lambda m, x: (m.tile(x, (2,)), x.tile((2, 1, 2))), [((3, 2),)]),
    Op("tile.varargs", lambda m, x: (x.tile(2, 1), m.tile(x, dims=(1, 2))),
       [((3, 2),)]),
    Op("repeat_interleave", lambda m, x: x.repeat_interleave(2), [((2, 3),)]),
    Op("repeat_interleave.dim", lambda m, x: m.repeat_interleave(x, 3, dim=0),
       [((2, 3),)]),
    Op("repeat_interleave.tensor",
       lambda m, x, r: m.repeat_interleave(x, r, dim=1),
       [((2, 3), Const([1, 0, 2]))]),
]

JOIN_SPLIT = [
    Op("cat", lambda m, x, y: m.cat([x, y], 1), [((2, 3), (2, 1)), ((2, 0), (2, 2))]),
    Op("cat.dim0", lambda m, x, y, z: m.cat((x, y, z)), [((1, 3), (2, 3), (1, 3))]),
    Op("cat.negdim", lambda m, x, y: m.concat([x, y], dim=-1),
       [((2, 2, 1), (2, 2, 3))]),
    Op("concatenate", lambda m, x, y: m.concatenate([x, y], 0), [((2,), (3,))]),
    Op("concatenate.axis", lambda m, x, y: m.concatenate([x, y], axis=1),
       [((2, 1), (2, 3))]),
    Op("stack", lambda m, x, y: m.stack([x, y]), [((2, 3), (2, 3)), ((), ())]),
    Op("stack.dim", lambda m, x, y, z: m.stack((x, y, z), -1), [((2,), (2,), (2,))]),
    Op("hstack", lambda m, x, y: m.hstack([x, y]), [((2, 3), (2, 1)), ((2,), (3,))]),
    Op("vstack", lambda m, x, y: m.vstack([x, y]), [((2, 3), (1, 3)), ((3,), (3,))]),
    Op("split", lambda m, x: x.split(2, 1), [((3, 5),)]),
    Op("split.sizes", lambda m, x: m.split(x, [1, 3, 1], dim=-1), [((3, 5),)]),
    Op("chunk", lambda m, x: x.chunk(3, 0), [((5, 2),), ((6, 2),), ((2, 2),)]),
    Op("tensor_split", lambda m, x: m.tensor_split(x, 3, 1), [((2, 7),)]),
    Op("unbind", lambda m, x: x.unbind(1), X3),
    Op("unbind.fn", lambda m, x: m.unbind(x), X2 + [((3,),)]),
    Op("split_copy", lambda m, x: m.split_copy(x, 2, 1), [((3, 5),)], gradgrad=True),
    Op("split_copy.sizes", lambda m, x: m.split_copy(x, [1, 0, 2], 0), [((3, 2),)],
       ref=lambda m, x: m.split_with_sizes_copy(x, [1, 0, 2], 0)),
    Op("unbind_copy", lambda m, x: m.unbind_copy(x, 1), X3, gradgrad=True),
    Op("narrow", lambda m, x: x.narrow(1, 1, 2), X2),
    Op("narrow.neg", lambda m, x: m.narrow(x, -1, -3, 2), X3),
]

REORDER = [
    Op("flip", lambda m, x: x.flip(0), X3 + [((3,),)]),
    Op("flip.tuple", lambda m, x: m.flip(x, (0, -1)), X3),
    Op("flip.varargs", lambda m, x: (x.flip(0, 2), m.flip(x, dims=[1])), X3),
    Op("fliplr_ud", lambda m, x: (m.fliplr(x), m.flipud(x)), X2),
    Op("roll", lambda m, x: x.roll(1, 0), X2),
    Op("roll.multi", lambda m, x: m.roll(x, (1, -2), (0, 2)), X3),
    Op("roll.flat", lambda m, x: m.roll(x, 2), X2 + [((3,),)]),
    Op("roll.big", lambda m, x: m.roll(x, 7, -1), X2),
]

TRIANGLES = [
    Op("tril", lambda m, x: x.tril(), X2 + X3 + [((3, 3),)]),
    Op("tril.diagonal", lambda m, x: (m.tril(x, 1), m.tril(x, -1)), X2 + X3),
    Op("triu", lambda m, x: m.triu(x), X2 + X3),
    Op("triu.diagonal", lambda m, x: (x.triu(2), m.triu(x, -1)), X2 + X3),
    Op("diag.vector", lambda m, x: (m.diag(x), m.diag(x, 1), x.diag(-2)), [((3,),)]),
    Op("diag.matrix", lambda m, x: (m.diag(x), m.diag(x, 1), x.diag(-1)), X2),
    Op("diagonal", lambda m, x: x.diagonal(), X2 + X3),
    Op("diagonal.args", lambda m, x: (m.diagonal(x, 1, 1, 2), x.diagonal(-1, -1, 0)),
       X3),
    Op("diag_embed", lambda m, x: (m.diag_embed(x), m.diag_embed(x, 1, 0, 2)),
       [((2, 3),)]),
    Op("trace", lambda m, x: x.trace(), X2 + [((3, 3),)]),
    Op("trace.fn", lambda m, x: m.trace(x), [((2, 2),)]),
]

COPIES = [
    Op("clone", lambda m, x: x.clone(), X2 + [((),)]),
    Op("clone.fn", lambda m, x: m.clone(x), X2),
    Op("contiguous", lambda m, x: (x.t().contiguous(), x.contiguous()), X2),
]

PAD = [
    Op("pad.constant", lambda m, x: m.nn.functional.pad(x, (1, 2)),
       [((3,),), ((2, 3),), ((2, 1, 3),)]),
    Op("pad.constant_value",
       lambda m, x: m.nn.functional.pad(x, (1, 0, 0, 2), value=1.5), [((2, 3),)]),
    Op("pad.constant3d", lambda m, x: m.nn.functional.pad(x, [1, 1, 2, 0, 0, 1]), X3),
    Op("pad.negative", lambda m, x: m.nn.functional.pad(x, (-1, 2, 1, -1)), X2),
    _pad("reflect", (2, 1), [((2, 4),), ((2, 3, 4),)]),
    _pad("reflect", (1, 2, 2, 1), [((1, 3, 4),), ((2, 1, 3, 4),)]),
    _pad("replicate", (2, 1), [((2, 4),), ((2, 3, 4),)]),
    _pad("replicate", (1, 3, 2, 0), [((1, 3, 4),), ((2, 1, 3, 4),)]),
    _pad("circular", (2, 1), [((2, 4),), ((2, 3, 4),)]),
    _pad("circular", (1, 2, 0, 3), [((1, 3, 4),), ((2, 1, 3, 4),)]),
    _pad("replicate", (1, 1, 2, 0, 0, 1), [((1, 2, 3, 4),), ((1, 1, 2, 3, 4),)]),
]

ROWS = RESHAPE + TRANSPOSE + EXPAND + JOIN_SPLIT + REORDER + TRIANGLES + COPIES + PAD

# Empty tensors and strided views flow through the same rules.
EDGE = [
    Op("empty.elementwise", lambda m, x, y: (x * y + 1).exp(),
       [((0,), (0,)), ((2, 0), (0,)), ((0, 3), (1, 3))]),
    Op("empty.reduce", lambda m, x: (x.sum(), x.sum(0), x.sum(1, keepdim=True),
                                     x.prod(1), x.cumsum(0)), [((0, 3),), ((2, 0),)]),
    Op("empty.matmul", lambda m, x, y: x @ y, [((2, 0), (0, 3)), ((0, 2), (2, 3))]),
    Op("empty.cat", lambda m, x, y: m.cat([x, y]), [((0, 3), (2, 3))]),
    Op("views.transposed", lambda m, x, y: (x.t() * y).sin() @ x, [((3, 2), (2, 3))]),
    Op("views.strided", lambda m, x: (x[::2, 1:] * x[1::2, :-1]).sum(0),
       [((4, 3),)]),
    Op("views.expanded", lambda m, x: x.expand(3, 4).cumsum(0) * x, [((1, 4),)]),
]
ROWS = ROWS + EDGE
