"""ONNX export: each model runs in onnxruntime and matches chainrule to 1e-5,
also at another batch size through dynamic_axes; files pass onnx.checker."""
import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

import chainrule as cr  # noqa: E402
import chainrule.onnx  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.onnx import ExportError  # noqa: E402


def roundtrip(tmp_path, model, x, x2, dtype_in="x"):
    model.eval()
    path = tmp_path / "model.onnx"
    chainrule.onnx.export(model, x, path, input_names=["x"], output_names=["y"],
                          dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}},
                          opset_version=17)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert x.shape[0] != x2.shape[0]
    for inp in (x, x2):
        (got,) = sess.run(None, {"x": inp.numpy()})
        want = model(inp).detach().numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


def ops_of(proto):
    return {n.op_type for n in proto.graph.node}


def test_mlp(tmp_path):
    cr.manual_seed(0)
    m = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU(),
                      nn.Linear(8, 2), nn.LogSoftmax(-1))
    proto = roundtrip(tmp_path, m, cr.randn(4, 3), cr.randn(7, 3))
    assert {"MatMul", "Tanh", "LogSoftmax"} <= ops_of(proto)
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight", "0.bias", "4.weight"} <= names


def test_cnn(tmp_path):
    cr.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                      nn.Conv2d(4, 4, 3, stride=2, padding=1), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Linear(4, 3))
    proto = roundtrip(tmp_path, m, cr.randn(2, 1, 8, 8), cr.randn(5, 1, 8, 8))
    assert {"Conv", "MaxPool"} <= ops_of(proto)


def test_embedding(tmp_path):
    cr.manual_seed(0)
    m = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(8, 3))
    proto = roundtrip(tmp_path, m, cr.tensor([[1, 2], [3, 4]]),
                      cr.tensor([[1, 2], [3, 4], [5, 9]]))
    assert "Gather" in ops_of(proto)
    # the token ids stay an input: not baked in as a constant
    gather = next(n for n in proto.graph.node if n.op_type == "Gather")
    assert "x" in gather.input or any("Cast" == n.op_type and "x" in n.input
                                      for n in proto.graph.node)


def test_transformer_encoder(tmp_path):
    cr.manual_seed(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True)
    m = nn.TransformerEncoder(layer, 2)
    proto = roundtrip(tmp_path, m, cr.randn(2, 5, 8), cr.randn(3, 5, 8))
    assert {"Softmax", "LayerNormalization", "Split"} <= ops_of(proto)


def test_unmapped_primitive_names_itself(tmp_path):
    class Cum(nn.Module):
        def forward(self, x):
            return cr.cumsum(x, 1)

    x = cr.randn(2, 3, requires_grad=True)
    with pytest.raises(ExportError, match="primitive 'cumsum' has no ONNX mapping"):
        chainrule.onnx.export(Cum(), x, tmp_path / "m.onnx")


def test_name_count_errors(tmp_path):
    m = nn.Linear(2, 2)
    with pytest.raises(ExportError, match="2 input_names for 1 tensor inputs"):
        chainrule.onnx.export(m, cr.randn(1, 2), tmp_path / "m.onnx",
                              input_names=["a", "b"])


def _has_interpreter():
    try:
        from chainrule._tape import Interpreter, interpreting  # noqa: F401
    except ImportError:
        return False
    return True


class LastOutput(nn.Module):
    def __init__(self, rnn):
        super().__init__()
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x)[0]


# Batch norm's eps, the RNNs' zero initial states and GRU's ``1 - z`` are
# constants the tape does not keep; recording them needs the interpreter stack.
needs_interpreter = pytest.mark.skipif(
    not _has_interpreter(), reason="needs chainrule._tape.Interpreter to record "
    "constants the tape drops")


@needs_interpreter
def test_cnn_with_batch_norm_in_eval(tmp_path):
    cr.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                      nn.Flatten(), nn.Linear(3 * 36, 2))
    m.train()
    for _ in range(3):  # running statistics away from their initial values
        m(cr.randn(8, 1, 6, 6) * 2 + 1)
    roundtrip(tmp_path, m, cr.randn(2, 1, 6, 6), cr.randn(5, 1, 6, 6))


@needs_interpreter
@pytest.mark.parametrize("rnn", ["LSTM", "GRU"])
def test_recurrent(tmp_path, rnn):
    cr.manual_seed(0)
    m = LastOutput(getattr(nn, rnn)(4, 3, batch_first=True))
    proto = roundtrip(tmp_path, m, cr.randn(2, 5, 4), cr.randn(3, 5, 4))
    if rnn == "LSTM":
        assert "LSTM" in ops_of(proto)


class Unary(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x)


@pytest.mark.parametrize("name,fn", [
    ("sinh", cr.sinh), ("cosh", cr.cosh), ("asinh", cr.asinh),
    ("atanh", lambda x: cr.atanh(x * 0.5)), ("asin", lambda x: cr.asin(x * 0.5)),
    ("acos", lambda x: cr.acos(x * 0.5)), ("acosh", lambda x: cr.acosh(x.abs() + 1)),
    ("exp2", cr.exp2), ("expm1", cr.expm1), ("log1p", lambda x: cr.log1p(x.abs())),
    ("log2", lambda x: cr.log2(x.abs() + 0.1)),
    ("log10", lambda x: cr.log10(x.abs() + 1)),
    ("round", lambda x: cr.round(x * 3)), ("tril", lambda x: cr.tril(x, 1)),
    ("triu", lambda x: cr.triu(x, -1)), ("flip", lambda x: cr.flip(x, (0, 1))),
    ("gather", lambda x: cr.gather(x, 1, cr.tensor([[0, 0, 2, 1]] * 4))),
    ("clamp-free ops", lambda x: cr.where(x > 0, x, -x) - cr.maximum(x, x * 0.5)),
    ("slicing", lambda x: x[1:, ::2][:, None] * x[0, -1]),
])
def test_elementwise_and_indexing_rows(tmp_path, name, fn):
    cr.manual_seed(1)
    x = cr.randn(4, 4) * 1.5
    path = tmp_path / "op.onnx"
    chainrule.onnx.export(Unary(fn), x.requires_grad_(), path, input_names=["x"])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {"x": x.detach().numpy()})
    np.testing.assert_allclose(got, fn(x).detach().numpy(), rtol=1e-5, atol=1e-6)
