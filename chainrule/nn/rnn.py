"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` and the one-step cells.

Shapes follow PyTorch (``D`` = 2 if bidirectional else 1, ``H_out`` =
``proj_size`` or ``hidden_size``):

- input ``(L, N, H_in)``, ``(N, L, H_in)`` with ``batch_first``, or
  unbatched ``(L, H_in)``;
- ``h_0``/``h_n`` ``(D * num_layers, N, H_out)``, ``c_0``/``c_n``
  ``(D * num_layers, N, hidden_size)`` (without the ``N`` dim when unbatched);
- output ``(L, N, D * H_out)`` (``(N, L, D * H_out)`` with ``batch_first``).

How a layer runs: for each layer and direction the input projection
``x W_ih^T + b`` of all time steps is one matmul; the time loop, the only
Python loop, then does one matmul ``h W_hh^T`` per step plus the gate math.
The per-step slices come from ``unbind_copy``, whose backward is one stack
instead of one full-size gradient per step.  The LSTM step math is
``ops.fused.lstm_cell``, a composite shared by the projected LSTM and the
definition of the fused ``lstm_seq`` primitive, which ``LSTMCell`` runs for
one time step.
"""
import math
import numbers
import warnings

from ..autograd.grad_mode import no_grad
from ..errors import ArgumentError, DTypeError, ShapeError, fmt_shape
from ..ops import (
    empty, matmul, relu, reshape, sigmoid, split_copy, squeeze, stack, tanh,
    transpose, unbind_copy, unsqueeze, zeros,
)
from ..ops.fused import linear, lstm_cell, lstm_seq, lstm_seq_step
from .dropout import dropout as _dropout
from .module import Module
from .parameter import Parameter

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one time step: the gate math ------------------------------------------------------
# ``xg`` is the input's share of the pre-activations, x W_ih^T plus biases, already
# computed for all steps.  ``whh_t`` is W_hh^T, so each step needs one matmul.
def rnn_step(xg, h, whh_t, act):
    """``h' = act(xg + h W_hh^T)``; ``(N, H)`` in and out."""
    return (act(xg + matmul(h, whh_t)),)


# The LSTM step is defined once, next to the sequence primitive it defines.
lstm_step = lstm_cell


def gru_step(x_rz, x_n, h, whh_t, bhh=None):
    """One GRU step with PyTorch's gate formula.

    ``x_rz`` ``(N, 2H)`` and ``x_n`` ``(N, H)`` are the input's shares (with
    ``b_ih``).  ``r, z = sigmoid(x_rz + (h W_hh^T + b_hh)_rz)``,
    ``n = tanh(x_n + r * (h W_hn^T + b_hn))``, ``h' = (1 - z) n + z h``.
    """
    hidden = h.shape[-1]
    gh = matmul(h, whh_t)
    if bhh is not None:
        gh = gh + bhh
    h_rz, h_n = split_copy(gh, (2 * hidden, hidden), 1)
    r, z = split_copy(sigmoid(x_rz + h_rz), hidden, 1)
    n = tanh(x_n + r * h_n)
    return (n + z * (h - n),)


def _project(x, w_ih, bias):
    """``x W_ih^T + bias`` for ``x`` ``(L, N, F)``, as one 2-D matmul."""
    steps, batch, feat = x.shape
    xp = matmul(reshape(x, (steps * batch, feat)), w_ih.t())
    if bias is not None:
        xp = xp + bias
    return reshape(xp, (steps, batch, w_ih.shape[0]))


# -- shared checks and initialisation --------------------------------------------------
def _check_sizes(name, input_size, hidden_size, nonlinearity=None):
    for what, v in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise ArgumentError(f"{name}: {what} should be of type int, got "
                                f"{type(v).__name__}")
    if hidden_size <= 0:
        raise ArgumentError(f"{name}: hidden_size must be greater than zero, got "
                            f"{hidden_size}")
    if input_size < 0:
        raise ArgumentError(f"{name}: input_size must be non-negative, got "
                            f"{input_size}")
    if nonlinearity is not None and nonlinearity not in ("tanh", "relu"):
        raise ArgumentError(f"{name}: unknown nonlinearity {nonlinearity!r}; select "
                            "from 'tanh' or 'relu'")


def _dtype(dtype):
    from .._dtype import get_default_dtype

    return dtype if dtype is not None else get_default_dtype()


def _uniform_init(module, hidden_size):
    """Every weight and bias ~ U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))."""
    k = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    with no_grad():
        for p in module.parameters():
            p.uniform_(-k, k)


def _check_dtype(name, x, weight, what="input"):
    if x._data.dtype != weight._data.dtype:
        raise DTypeError(
            f"{name}: {what} dtype {x.dtype.name} does not match the parameters' "
            f"dtype {weight.dtype.name}; convert the {what} (e.g. .to("
            f"{weight.dtype.name})) or the module (.float() / .double())")


# -- the multi-layer recurrent layers --------------------------------------------------
class RNNBase(Module):
    """Shared machinery of :class:`RNN`, :class:`LSTM` and :class:`GRU`."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = _name(mode)
        _check_sizes(name, input_size, hidden_size)
        if (not isinstance(dropout, numbers.Number) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ArgumentError(
                f"{name}: dropout should be a number in range [0, 1] representing "
                f"the probability of an element being zeroed, got {dropout!r}")
        if not isinstance(num_layers, numbers.Integral) or num_layers <= 0:
            raise ArgumentError(f"{name}: num_layers must be an int greater than "
                                f"zero, got {num_layers!r}")
        if proj_size < 0:
            raise ArgumentError(f"{name}: proj_size should be a positive integer or "
                                f"zero to disable projections, got {proj_size}")
        if proj_size and mode != "LSTM":
            raise ArgumentError(f"{name}: proj_size is only supported by LSTM")
        if proj_size >= hidden_size:
            raise ArgumentError(f"{name}: proj_size ({proj_size}) has to be smaller "
                                f"than hidden_size ({hidden_size})")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                f"{name}: dropout is applied between recurrent layers, so a non-zero "
                f"dropout expects num_layers greater than 1, but got "
                f"dropout={dropout} and num_layers={num_layers}", UserWarning,
                stacklevel=3)
        self.mode = mode
        self.input_size, self.hidden_size = input_size, hidden_size
        self.num_layers, self.bias = num_layers, bias
        self.batch_first, self.dropout = batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        dt = _dtype(dtype)
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size or hidden_size
        dirs = 2 if bidirectional else 1
        self._flat_weights_names = []
        for layer in range(num_layers):
            layer_in = input_size if layer == 0 else real_hidden * dirs
            for d in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                shapes = [("weight_ih", (gate_size, layer_in)),
                          ("weight_hh", (gate_size, real_hidden))]
                if bias:
                    shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
                if proj_size:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for pname, shape in shapes:
                    setattr(self, pname + sfx, Parameter(empty(*shape, dtype=dt)))
                    self._flat_weights_names.append(pname + sfx)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def flatten_parameters(self):
        """A no-op kept for code written for cuDNN."""

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    @property
    def all_weights(self):
        """The parameters grouped per layer and direction, as in PyTorch."""
        per = len(self._flat_weights_names) // (
            self.num_layers * (2 if self.bidirectional else 1))
        w = self._flat_weights
        return [w[i:i + per] for i in range(0, len(w), per)]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward -----------------------------------------------------------------------
    def _state_shapes(self, batch):
        """Expected shapes of the initial state tensors (h, [c])."""
        lead = (self.num_layers * (2 if self.bidirectional else 1),)
        lead += () if batch is None else (batch,)
        h = lead + (self.proj_size or self.hidden_size,)
        return (h, lead + (self.hidden_size,)) if self.mode == "LSTM" else (h,)

    def _check_input(self, input):
        name = _name(self.mode)
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input to be 2-D (unbatched) or 3-D "
                             f"(batched), got {input.ndim}-D input of shape "
                             f"{fmt_shape(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.shape[-1]} (input shape "
                f"{fmt_shape(input.shape)})")
        seq_dim = 1 if self.batch_first and input.ndim == 3 else 0
        if input.shape[seq_dim] == 0:
            raise ShapeError(f"{name}: expected a sequence length larger than 0, got "
                             f"input of shape {fmt_shape(input.shape)}")
        _check_dtype(name, input, self.weight_ih_l0)

    def _initial_state(self, hx, batched, batch, dtype_ref):
        """The initial states as a tuple (h, [c]) of 3-D tensors, checked."""
        name = _name(self.mode)
        shapes = self._state_shapes(batch if batched else None)
        if hx is None:
            full = self._state_shapes(batch)
            return tuple(zeros(*s, dtype=dtype_ref.dtype) for s in full)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise ArgumentError(f"{name}: hx must be a tuple (h_0, c_0) of two "
                                    f"tensors, got {type(hx).__name__}")
            states, labels = tuple(hx), ("hidden[0]", "hidden[1]")
        else:
            states, labels = (hx,), ("hidden",)
        want = 3 if batched else 2
        for s, lab, shape in zip(states, labels, shapes):
            if s.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise ShapeError(f"{name}: for {kind} input, {lab} should also be "
                                 f"{want}-D but got {s.ndim}-D tensor of shape "
                                 f"{fmt_shape(s.shape)}")
            if tuple(s.shape) != shape:
                raise ShapeError(f"{name}: expected {lab} size {fmt_shape(shape)}, got "
                                 f"{fmt_shape(s.shape)}")
            _check_dtype(name, s, self.weight_ih_l0, lab)
        if not batched:
            states = tuple(unsqueeze(s, 1) for s in states)
        return states

    def forward(self, input, hx=None):
        """Run all layers over the sequence; see the module docstring for shapes.

        Returns ``(output, h_n)`` (``(output, (h_n, c_n))`` for LSTM).  A
        ``PackedSequence`` input gives a ``PackedSequence`` output.
        """
        from .utils.rnn import PackedSequence, packed_forward

        if isinstance(input, PackedSequence):
            return packed_forward(self, input, hx)
        self._check_input(input)
        batched = input.ndim == 3
        x = input if batched else unsqueeze(input, 1)
        if self.batch_first and batched:
            x = transpose(x, 0, 1)
        state0 = self._initial_state(hx, batched, x.shape[1], input)
        # One node slices the initial states of every layer and direction.
        per_dir = list(zip(*(unbind_copy(s, 0) for s in state0)))
        dirs = 2 if self.bidirectional else 1
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = _dropout(x, self.dropout, training=True)
            outs = []
            for d in range(dirs):
                k = layer * dirs + d
                out, state = self._direction(x, per_dir[k], layer, d)
                outs.append(out)
                finals.append(state)
            x = outs[0] if dirs == 1 else _cat_last(outs)
        output = x
        if self.batch_first and batched:
            output = transpose(output, 0, 1)
        final = tuple(stack(list(s), 0) for s in zip(*finals))
        if not batched:
            output = squeeze(output, 1)
            final = tuple(squeeze(s, 1) for s in final)
        if self.mode == "LSTM":
            return output, final
        return output, final[0]

    def _direction(self, x, state, layer, d):
        """One layer in one direction: ``(L, N, F)`` -> ``(L, N, H_out)``, state."""
        sfx = f"_l{layer}" + ("_reverse" if d else "")
        w_ih = getattr(self, "weight_ih" + sfx)
        whh_t = getattr(self, "weight_hh" + sfx).t()
        b_ih = getattr(self, "bias_ih" + sfx) if self.bias else None
        b_hh = getattr(self, "bias_hh" + sfx) if self.bias else None
        if self.mode == "GRU":
            xp = _project(x, w_ih, b_ih)
            hid = self.hidden_size
            x_rz, x_n = split_copy(xp, (2 * hid, hid), 2)
            steps = list(zip(unbind_copy(x_rz, 0), unbind_copy(x_n, 0)))
            extra = (whh_t, b_hh)
            step = gru_step
        elif self.mode == "LSTM" and not self.proj_size:
            # The whole layer is one primitive (ops/fused.py): its time loop
            # runs in NumPy, forward and backward.
            bias = None if b_ih is None else b_ih + b_hh
            whh = getattr(self, "weight_hh" + sfx)
            out, h, c = lstm_seq(_project(x, w_ih, bias), whh, *state, reverse=bool(d))
            return out, (h, c)
        else:
            bias = None if b_ih is None else b_ih + b_hh
            steps = [(s,) for s in unbind_copy(_project(x, w_ih, bias), 0)]
            if self.mode == "LSTM":
                whr = getattr(self, "weight_hr" + sfx).t() if self.proj_size else None
                extra, step = (whh_t, whr), lstm_step
            else:
                act = tanh if self.mode == "RNN_TANH" else relu
                extra, step = (whh_t, act), rnn_step
        n = len(steps)
        outs = [None] * n
        for t in (range(n - 1, -1, -1) if d else range(n)):
            state = step(*steps[t], *state, *extra)
            outs[t] = state[0]
        return stack(outs, 0), state


def _cat_last(ts):
    from ..ops import cat

    return cat(ts, -1)


def _name(mode):
    return "RNN" if mode.startswith("RNN") else mode


class RNN(RNNBase):
    """Elman RNN: ``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``.

    ``nonlinearity`` is ``'tanh'`` or ``'relu'``.  ``forward(input, hx=None)``
    returns ``(output, h_n)``; shapes in :mod:`chainrule.nn.rnn`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh",
                 bias=True, batch_first=False, dropout=0.0, bidirectional=False,
                 device=None, dtype=None):
        _check_sizes("RNN", input_size, hidden_size, nonlinearity)
        mode = "RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU"
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory; gates i, f, g, o stacked in that order in
    ``weight_ih_l{k}`` ``(4 * hidden_size, H_in)``.

    With ``proj_size > 0`` the hidden state is projected by ``weight_hr_l{k}``
    ``(proj_size, hidden_size)``.  ``forward(input, (h_0, c_0)=None)`` returns
    ``(output, (h_n, c_n))``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit; gates r, z, n stacked in that order in
    ``weight_ih_l{k}`` ``(3 * hidden_size, H_in)``.

    ``n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))`` as in PyTorch.
    ``forward(input, h_0=None)`` returns ``(output, h_n)``.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)


# -- single-step cells -----------------------------------------------------------------
class RNNCellBase(Module):
    """Shared parameters and checks of the cells: ``weight_ih`` ``(G * H, H_in)``,
    ``weight_hh`` ``(G * H, H)``, ``bias_ih``/``bias_hh`` ``(G * H,)``."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__()
        _check_sizes(type(self).__name__, input_size, hidden_size)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        dt = _dtype(dtype)
        g = self._gates * hidden_size
        self.weight_ih = Parameter(empty(g, input_size, dtype=dt))
        self.weight_hh = Parameter(empty(g, hidden_size, dtype=dt))
        if bias:
            self.bias_ih = Parameter(empty(g, dtype=dt))
            self.bias_hh = Parameter(empty(g, dtype=dt))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_init(self, self.hidden_size)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, states, as_given=False):
        """Check shapes; return the input as given, the states (zeros for
        None) 2-D, or like the input with ``as_given``, and whether the
        input was 2-D."""
        name = type(self).__name__
        shape = input.shape
        if len(shape) not in (1, 2):
            raise ShapeError(f"{name}: expected input to be 1-D or 2-D, got "
                             f"{len(shape)}-D input of shape {fmt_shape(shape)}")
        if shape[-1] != self.input_size:
            raise ShapeError(
                f"{name}: input has inconsistent input_size: got {shape[-1]}, "
                f"expected {self.input_size} (input shape {fmt_shape(shape)})")
        _check_dtype(name, input, self.weight_ih)
        batched = len(shape) == 2
        rows = (shape[0],) if batched else () if as_given else (1,)
        out = []
        for i, s in enumerate(states):
            if s is None:
                out.append(zeros(*rows, self.hidden_size, dtype=input.dtype))
                continue
            if s.ndim != len(shape):
                raise ShapeError(f"{name}: hidden state {i} must be {len(shape)}-D "
                                 f"like the input, got shape {fmt_shape(s.shape)}")
            if s.shape[-1] != self.hidden_size:
                raise ShapeError(
                    f"{name}: hidden{i} has inconsistent hidden_size: got "
                    f"{s.shape[-1]}, expected {self.hidden_size}")
            if batched and s.shape[0] != shape[0]:
                raise ShapeError(f"{name}: input batch size {shape[0]} doesn't "
                                 f"match hidden{i} batch size {s.shape[0]}")
            _check_dtype(name, s, self.weight_ih, f"hidden{i}")
            out.append(s if batched or as_given else unsqueeze(s, 0))
        return input, out, batched

    def _xg(self, x, with_hh_bias=True):
        """The input's share of the pre-activations, ``(N, G * H)`` or
        ``(G * H,)`` like the input: one ``linear`` call, which takes a 1-D
        input and the untransposed weight as they are."""
        bias = None
        if self.bias:
            bias = self.bias_ih + self.bias_hh if with_hh_bias else self.bias_ih
        return linear(x, self.weight_ih, bias)


def _unbatch(t, batched):
    return t if batched else squeeze(t, 0)


def _batch(t, batched):
    return t if batched else unsqueeze(t, 0)


class RNNCell(RNNCellBase):
    """``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``: input ``(N, H_in)`` or
    ``(H_in,)``, ``hx`` ``(N, H)`` or ``(H,)`` (zeros if None) -> ``h'``."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh",
                 device=None, dtype=None):
        _check_sizes("RNNCell", input_size, hidden_size, nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        act = tanh if self.nonlinearity == "tanh" else relu
        (h,) = rnn_step(_batch(self._xg(x), batched), h, self.weight_hh.t(), act)
        return _unbatch(h, batched)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``forward(input, (h, c)=None) -> (h', c')``; input
    ``(N, H_in)`` or ``(H_in,)``, states ``(N, H)`` or ``(H,)``."""

    _gates = 4

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ArgumentError("LSTMCell: hx must be a tuple (h, c) of two tensors, "
                                f"got {type(hx).__name__}")
        x, (h, c), batched = self._prepare(input, [None, None] if hx is None else hx,
                                           as_given=True)
        # One step of the sequence primitive, whose definition is lstm_step:
        # one fused call per step instead of a dozen elementwise ones, no
        # W_hh^T (the primitive reads W_hh as it is) and, for one example,
        # no unsqueeze/squeeze of the states (the primitive takes them 1-D).
        return lstm_seq_step(self._xg(x), self.weight_hh, h, c)


class GRUCell(RNNCellBase):
    """One GRU step (PyTorch's formula, see :func:`gru_step`):
    ``forward(input, hx=None) -> h'``; input ``(N, H_in)`` or ``(H_in,)``."""

    _gates = 3

    def forward(self, input, hx=None):
        x, (h,), batched = self._prepare(input, [hx])
        hid = self.hidden_size
        xg = _batch(self._xg(x, with_hh_bias=False), batched)
        x_rz, x_n = split_copy(xg, (2 * hid, hid), 1)
        (h,) = gru_step(x_rz, x_n, h, self.weight_hh.t(), self.bias_hh)
        return _unbatch(h, batched)
