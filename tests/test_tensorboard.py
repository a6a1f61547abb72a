"""SummaryWriter and the TensorBoard callback: files read back with
TensorBoard's own reader (EventAccumulator)."""
import numpy as np
import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import (  # noqa: E402
    EventAccumulator,
)

import chainrule as cr  # noqa: E402
from chainrule import nn  # noqa: E402
from chainrule.errors import ArgumentError  # noqa: E402
from chainrule.utils.tensorboard import SummaryWriter, TensorBoard  # noqa: E402

SIZES = {"scalars": 0, "histograms": 0, "images": 0, "tensors": 0}


def read(path):
    acc = EventAccumulator(str(path), size_guidance=SIZES)
    acc.Reload()
    return acc


def test_scalars_histograms_images_text(tmp_path):
    vals = cr.randn(1000, generator=cr.Generator().manual_seed(0))
    img = cr.linspace(0, 1, 2 * 3 * 4).reshape(2 * 3, 4)[None].expand(3, 6, 4)
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_scalar("acc", cr.tensor(0.5), 7)
        w.add_histogram("w", vals, 2)
        w.add_image("img", img, 1)
        w.add_image("gray", cr.zeros(5, 7, dtype=cr.uint8 if hasattr(cr, "uint8")
                                       else cr.float32), 1, dataformats="HW")
        w.add_text("note", "hello **tensorboard**", 4)
        w.add_scalars("run", {"a": 1.0, "b": 2.0}, 5)
    acc = read(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [
        (0, 1.0), (1, pytest.approx(0.5)), (2, pytest.approx(1 / 3))]
    assert acc.Scalars("acc")[0].step == 7
    (h,) = acc.Histograms("w")
    v = vals.numpy()
    assert h.step == 2 and h.histogram_value.num == 1000
    assert h.histogram_value.min == pytest.approx(v.min())
    assert h.histogram_value.max == pytest.approx(v.max())
    assert h.histogram_value.sum == pytest.approx(v.sum(), rel=1e-5)
    assert sum(h.histogram_value.bucket) == 1000
    (im,) = acc.Images("img")
    assert (im.width, im.height) == (4, 6)
    from io import BytesIO

    from PIL import Image

    pix = np.asarray(Image.open(BytesIO(im.encoded_image_string)))
    want = np.round(img.numpy().transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(pix, want)
    (t,) = acc.Tensors("note/text_summary")
    assert t.step == 4 and t.tensor_proto.string_val == [b"hello **tensorboard**"]
    sub = read(tmp_path / "run_a")
    assert sub.Scalars("run")[0].value == 1.0
    assert read(tmp_path / "run_b").Scalars("run")[0].value == 2.0


def test_hparams_and_graph(tmp_path):
    from tensorboard.plugins.hparams import plugin_data_pb2

    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "opt": "adam", "bn": True}, {"hp/acc": 0.9},
                      run_name="trial0")
        w.add_graph(model, cr.randn(5, 3))
    acc = read(tmp_path / "trial0")
    content = acc.PluginTagToContent("hparams")
    start = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/session_start_info"]).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["opt"].string_value == "adam"
    exp = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]).experiment
    assert [m.name.tag for m in exp.metric_infos] == ["hp/acc"]
    assert acc.Scalars("hp/acc")[0].value == pytest.approx(0.9)
    graph = read(tmp_path).Graph()
    by_name = {n.name: n for n in graph.node}
    assert [n.op for n in graph.node if "/" in n.name and n.op != "Parameter"
            and n.op != "IO Node"] == ["linear", "relu", "linear"]
    lin = by_name["0/linear_0"]
    assert list(lin.input) == ["input/0", "0/weight", "0/bias"]
    assert [d.size for d in lin.attr["_output_shapes"].list.shape[0].dim] == [5, 4]
    assert list(by_name["1/relu_1"].input) == ["0/linear_0"]


def test_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ArgumentError, match="add_scalar: expected a single number"):
            w.add_scalar("x", cr.ones(2))
        with pytest.raises(ArgumentError, match="add_image: image of shape"):
            w.add_image("x", cr.ones(4, 4))
        with pytest.raises(ArgumentError, match="add_hparams: value of 'f'"):
            w.add_hparams({"f": [1]}, {})


def test_trainer_callback(tmp_path):
    from chainrule.train import Trainer

    g = cr.Generator().manual_seed(0)
    X = cr.randn(32, 3, generator=g)
    y = (X.sum(1) > 0).long()
    cr.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    tr = Trainer(model, "sgd", "cross_entropy")
    hist = tr.fit((X, y), epochs=3, batch_size=8, verbose=0, callbacks=[
        TensorBoard(tmp_path, histogram_freq=1, write_graph=True, example_input=X)])
    acc = read(tmp_path)
    losses = acc.Scalars("epoch/loss")
    assert [e.step for e in losses] == [1, 2, 3]
    np.testing.assert_allclose([e.value for e in losses], hist.history["loss"],
                               rtol=1e-6)
    assert len(acc.Histograms("0.weight")) == 3
    assert any(n.op == "linear" for n in acc.Graph().node)
