"""Variable-length batches for recurrent layers (PyTorch's ``nn.utils.rnn``).

A batch of sequences of different lengths is either *padded* — one tensor
``(T, B, *)`` (``(B, T, *)`` with ``batch_first``) plus the lengths — or
*packed*: a :class:`PackedSequence` whose ``data`` ``(sum(lengths), *)`` holds
time step 0 of every sequence, then step 1 of every sequence still running,
and so on, longest sequence first.  ``batch_sizes[t]`` is how many sequences
are still running at step ``t``.  ``RNN``, ``LSTM`` and ``GRU`` accept a
packed input, skip the padding and return the state each sequence had at its
own last step.

Packing and unpacking are one ``index_select`` each (a gather with a
precomputed index), so gradients flow through them like any other op.
"""
from collections import namedtuple

from ...errors import ArgumentError, ShapeError, fmt_shape
from ...ops import (
    cat, full, index_select, reshape, split_copy, stack, tensor, transpose,
)
from ...tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "pack_padded_sequence",
           "pad_packed_sequence", "pack_sequence", "unpad_sequence",
           "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes",
                                                   "sorted_indices",
                                                   "unsorted_indices"])):
    """A packed batch: ``data`` ``(sum(lengths), *)``, ``batch_sizes`` ``(T,)``
    int64, and the permutation that sorted the batch by decreasing length
    (``sorted_indices``) with its inverse (``unsorted_indices``), or None when
    the batch came sorted.  Build one with :func:`pack_padded_sequence` or
    :func:`pack_sequence`, not by hand."""

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices,
                               unsorted_indices)

    def to(self, *args, **kwargs):
        """The same packing with ``data`` converted (dtype or device)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def float(self):
        return self._replace(data=self.data.float())

    def double(self):
        return self._replace(data=self.data.double())

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _int64(values):
    from ..._dtype import int64

    return tensor(list(values), dtype=int64)


def _invert(perm):
    order = [int(i) for i in perm.tolist()]
    inv = [0] * len(order)
    for pos, i in enumerate(order):
        inv[i] = pos
    return _int64(inv)


def _lengths_list(lengths, op):
    if isinstance(lengths, Tensor):
        if lengths.ndim != 1 or lengths.dtype.is_floating_point:
            raise ArgumentError(f"{op}: lengths must be a 1-D integer tensor or a list "
                                f"of ints, got a {lengths.ndim}-D {lengths.dtype.name}"
                                " tensor")
        return [int(v) for v in lengths.tolist()]
    try:
        return [int(v) for v in lengths]
    except TypeError:
        raise ArgumentError(f"{op}: lengths must be a 1-D integer tensor or a list "
                            f"of ints, got {type(lengths).__name__}") from None


# -- padding ---------------------------------------------------------------------------
def pad_sequence(sequences, batch_first=False, padding_value=0.0,
                 padding_side="right"):
    """Stack tensors ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with
    ``batch_first``), ``T = max L_i``, filling with ``padding_value`` on the
    ``padding_side`` (``'right'`` or ``'left'``)."""
    if padding_side not in ("left", "right"):
        raise ArgumentError(f"pad_sequence: padding_side must be 'left' or 'right', "
                            f"got {padding_side!r}")
    seqs = list(sequences)
    if not seqs:
        raise ArgumentError("pad_sequence: received an empty list of sequences")
    for s in seqs:
        if not isinstance(s, Tensor):
            raise ArgumentError(f"pad_sequence: expected a list of Tensors, got "
                                f"{type(s).__name__}")
        if s.ndim == 0 or tuple(s.shape[1:]) != tuple(seqs[0].shape[1:]):
            raise ShapeError("pad_sequence: every sequence must have shape (L, *) "
                             "with the same trailing dims, got "
                             + ", ".join(fmt_shape(x.shape) for x in seqs))
    longest = max(s.shape[0] for s in seqs)
    rows = []
    for s in seqs:
        gap = longest - s.shape[0]
        if gap:
            fill = full((gap,) + tuple(s.shape[1:]), padding_value, dtype=s.dtype)
            s = cat([s, fill] if padding_side == "right" else [fill, s], 0)
        rows.append(s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The inverse of :func:`pad_sequence` (right padding): a list of ``(L_i, *)``."""
    lens = _lengths_list(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else transpose(padded_sequences, 0, 1)
    return [x[i, :n] for i, n in enumerate(lens)]


# -- packing ---------------------------------------------------------------------------
def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with ``batch_first``)
    whose sequence ``b`` has ``lengths[b]`` valid steps.

    With ``enforce_sorted`` the lengths must be in decreasing order; otherwise
    the batch is sorted here and the permutation kept in the result.
    """
    op = "pack_padded_sequence"
    lens = _lengths_list(lengths, op)
    if not isinstance(input, Tensor) or input.ndim < 2:
        got = fmt_shape(input.shape) if isinstance(input, Tensor) else input
        raise ShapeError(f"{op}: expected a padded input of at least 2 dims "
                         f"(T, B, *), got {got}")
    x = transpose(input, 0, 1) if batch_first else input
    steps, batch = x.shape[0], x.shape[1]
    if len(lens) != batch:
        raise ShapeError(f"{op}: expected {batch} lengths (the batch size of input "
                         f"{fmt_shape(input.shape)}), got {len(lens)}")
    if min(lens) <= 0:
        raise ArgumentError(f"{op}: length of all samples has to be greater than 0, "
                            f"got lengths {lens}")
    if max(lens) > steps:
        raise ShapeError(f"{op}: lengths {lens} exceed the {steps} time steps of input "
                         f"{fmt_shape(input.shape)}")
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(lens, lens[1:])):
            raise ArgumentError(
                f"{op}: `lengths` array must be sorted in decreasing order when "
                f"`enforce_sorted` is True, got {lens}; pass enforce_sorted=False "
                "to sort the batch here")
    else:
        order = sorted(range(batch), key=lambda b: -lens[b])
        sorted_indices = _int64(order)
        x = index_select(x, 1, sorted_indices)
        lens = [lens[b] for b in order]
    sizes = [sum(n > t for n in lens) for t in range(lens[0])]
    # Step t of sorted sequence b sits at row t * B + b of the flattened batch.
    idx = [t * batch + b for t, n in enumerate(sizes) for b in range(n)]
    flat = reshape(x, (steps * batch,) + tuple(x.shape[2:]))
    data = index_select(flat, 0, _int64(idx))
    return PackedSequence(data, _int64(sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0,
                        total_length=None):
    """Unpack to ``(padded, lengths)``: ``padded`` ``(T, B, *)`` (``(B, T, *)``
    with ``batch_first``) in the original batch order, ``T`` the longest length
    or ``total_length``; ``lengths`` an int64 tensor ``(B,)``."""
    op = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise ArgumentError(f"{op}: expected a PackedSequence, got "
                            f"{type(sequence).__name__}")
    sizes = [int(v) for v in sequence.batch_sizes.tolist()]
    steps, batch = len(sizes), sizes[0]
    if total_length is not None:
        if total_length < steps:
            raise ArgumentError(
                f"{op}: expected total_length to be at least the length of the "
                f"longest sequence ({steps}), got total_length={total_length}")
        steps = total_length
    data = sequence.data
    rest = tuple(data.shape[1:])
    pad_row = data.shape[0]  # the index of the padding row appended below
    idx, offset = [], 0
    for t in range(steps):
        n = sizes[t] if t < len(sizes) else 0
        idx += [offset + b if b < n else pad_row for b in range(batch)]
        offset += n
    ext = cat([data, full((1,) + rest, padding_value, dtype=data.dtype)], 0)
    padded = reshape(index_select(ext, 0, _int64(idx)), (steps, batch) + rest)
    lens = [sum(n > b for n in sizes) for b in range(batch)]
    if sequence.unsorted_indices is not None:
        padded = index_select(padded, 1, sequence.unsorted_indices)
        lens = [lens[i] for i in sequence.unsorted_indices.tolist()]
    if batch_first:
        padded = transpose(padded, 0, 1)
    return padded, _int64(lens)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors ``(L_i, *)`` (see :func:`pack_padded_sequence`)."""
    seqs = list(sequences)
    lens = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in seqs]
    return pack_padded_sequence(pad_sequence(seqs), lens,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The inverse of :func:`pack_sequence`: a list of ``(L_i, *)`` tensors."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)


# -- recurrent layers over a packed batch ----------------------------------------------
def packed_forward(layer, packed, hx=None):
    """``RNN``/``LSTM``/``GRU`` forward on a :class:`PackedSequence`.

    Returns ``(PackedSequence output, h_n)`` (``(h_n, c_n)`` for LSTM), with
    ``h_n`` in the caller's batch order: each sequence's state at its last step.
    The time loop runs over ``batch_sizes``: at step ``t`` only the first
    ``batch_sizes[t]`` rows of the state advance; the rows of sequences that
    have ended are set aside unchanged.
    """
    from ..dropout import dropout as _dropout
    from ..rnn import _check_dtype, _name

    name = _name(layer.mode)
    data = packed.data
    if data.ndim != 2 or data.shape[-1] != layer.input_size:
        raise ShapeError(f"{name}: packed input data must be (sum(lengths), "
                         f"{layer.input_size}), got {fmt_shape(data.shape)}")
    _check_dtype(name, data, layer.weight_ih_l0)
    sizes = [int(v) for v in packed.batch_sizes.tolist()]
    batch = sizes[0]
    states = layer._initial_state(hx, True, batch, data)
    if packed.sorted_indices is not None and hx is not None:
        states = tuple(index_select(s, 1, packed.sorted_indices) for s in states)
    per_dir = list(zip(*(split_copy(s, 1, 0) for s in states)))
    dirs = 2 if layer.bidirectional else 1
    finals, x = [], data
    for lay in range(layer.num_layers):
        if lay > 0 and layer.dropout > 0 and layer.training:
            x = _dropout(x, layer.dropout, training=True)
        outs = []
        for d in range(dirs):
            state = tuple(reshape(s, s.shape[1:]) for s in per_dir[lay * dirs + d])
            out, state = _packed_direction(layer, x, sizes, state, lay, d)
            outs.append(out)
            finals.append(state)
        x = outs[0] if dirs == 1 else cat(outs, -1)
    final = tuple(stack(list(s), 0) for s in zip(*finals))
    if packed.unsorted_indices is not None:
        final = tuple(index_select(s, 1, packed.unsorted_indices) for s in final)
    out = PackedSequence(x, packed.batch_sizes, packed.sorted_indices,
                         packed.unsorted_indices)
    return out, (final if layer.mode == "LSTM" else final[0])


def _packed_direction(layer, x, sizes, state, lay, d):
    """One layer, one direction over packed rows ``x`` ``(sum(sizes), F)``."""
    from ...ops import matmul, relu, tanh
    from ..rnn import gru_step, lstm_step, rnn_step

    sfx = f"_l{lay}" + ("_reverse" if d else "")
    w_ih = getattr(layer, "weight_ih" + sfx)
    whh_t = getattr(layer, "weight_hh" + sfx).t()
    b_ih = getattr(layer, "bias_ih" + sfx) if layer.bias else None
    b_hh = getattr(layer, "bias_hh" + sfx) if layer.bias else None
    xp = matmul(x, w_ih.t())
    if layer.mode == "GRU":
        if b_ih is not None:
            xp = xp + b_ih
        hid = layer.hidden_size
        x_rz, x_n = split_copy(xp, (2 * hid, hid), 1)
        steps = list(zip(split_copy(x_rz, sizes, 0), split_copy(x_n, sizes, 0)))
        extra, step = (whh_t, b_hh), gru_step
    else:
        if b_ih is not None:
            xp = xp + (b_ih + b_hh)
        steps = [(s,) for s in split_copy(xp, sizes, 0)]
        if layer.mode == "LSTM":
            whr = getattr(layer, "weight_hr" + sfx).t() if layer.proj_size else None
            extra, step = (whh_t, whr), lstm_step
        else:
            act = tanh if layer.mode == "RNN_TANH" else relu
            extra, step = (whh_t, act), rnn_step
    n = len(sizes)
    outs = [None] * n
    if not d:
        # Forward in time: the batch shrinks; rows of ended sequences are final.
        done, cur = [], state
        for t in range(n):
            bs = sizes[t]
            if bs < cur[0].shape[0]:
                done.append(tuple(s[bs:] for s in cur))
                cur = tuple(s[:bs] for s in cur)
            cur = step(*steps[t], *cur, *extra)
            outs[t] = cur[0]
        final = tuple(cat([c] + [p[k] for p in reversed(done)], 0) if done else c
                      for k, c in enumerate(cur))
    else:
        # Backward in time: each sequence starts at its own last step, from h_0.
        cur = tuple(s[:sizes[-1]] for s in state)
        for t in range(n - 1, -1, -1):
            bs, have = sizes[t], cur[0].shape[0]
            if bs > have:
                cur = tuple(cat([c, s[have:bs]], 0) for c, s in zip(cur, state))
            cur = step(*steps[t], *cur, *extra)
            outs[t] = cur[0]
        final = cur
    return cat(outs, 0), final
