"""chainrule.save / chainrule.load: round trips, safe loading, corruption
detection and atomic writes."""
import hashlib
import io
import math
import os
import pickle
import subprocess
import sys
import textwrap
from collections import OrderedDict

import numpy as np
import pytest
import safetensors.numpy as stn

import chainrule as cr
import chainrule.nn as nn
from chainrule.io import CheckpointError
from chainrule.io import checkpoint as ckpt


def _same(a, b, path="obj"):
    """Deep equality including types, dtypes, shapes and bit patterns."""
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, cr.Tensor):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        assert a.requires_grad == b.requires_grad, path
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy(), path)
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, path
        np.testing.assert_array_equal(a, b, path)
    elif isinstance(a, float):
        assert (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) ==
                                                     math.copysign(1, b)), path
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert list(a) == list(b), path
        for k in a:
            _same(a[k], b[k], f"{path}[{k!r}]")
    else:
        assert a == b, path


def _every_kind():
    t = cr.randn(3, 4)
    return OrderedDict([
        ("f32", cr.randn(2, 3)),
        ("f64", cr.randn(4, dtype=cr.float64)),
        ("i64", cr.tensor([[1, -2**62], [3, 4]])),
        ("i32", cr.tensor([7, -8], dtype=cr.int32)),
        ("bool", cr.tensor([True, False, True])),
        ("scalar", cr.tensor(2.5)),
        ("empty", cr.zeros(0, 3)),
        ("transposed", t.T),  # a non-contiguous view
        ("param", nn.Parameter(cr.randn(2))),
        ("frozen", nn.Parameter(cr.randn(2), requires_grad=False)),
        ("leaf", cr.randn(2, requires_grad=True)),
        ("array", np.arange(6, dtype=np.int16).reshape(2, 3)),
        ("ints", [0, -1, 2**64 + 1, -(2**200), 10**40]),
        ("floats", [0.1, -0.0, 1e-310, 1.7976931348623157e308, math.nan, math.inf,
                    -math.inf, 1.0]),
        ("text", ["", "plain", "quote \" and \\ backslash",
                  "ünïcødé ✓ \U0001F600", "0" * 64, '"' + "0" * 64 + '"']),
        ("bools", (True, False, None)),
        ("nested", {"a": {"b": [[], {}, ()]}, "c": ({"d": [t]},)}),
        ("keys", {0: "int", 1.5: "float", None: "none", True: "bool", ("x", 2): "tup",
                  "s": "str"}),
        ("rng", cr.Generator().manual_seed(123).get_state()),
    ])


def test_round_trip_every_value_kind(tmp_path):
    obj = _every_kind()
    path = tmp_path / "all.safetensors"
    cr.save(obj, path)
    back = cr.load(path)
    _same(obj, back)
    assert isinstance(back["param"], nn.Parameter) and back["param"].requires_grad
    assert isinstance(back["nested"], dict) and not isinstance(back["nested"],
                                                                OrderedDict)
    # The same tensor saved twice is stored once and comes back as one object.
    assert back["nested"]["c"][0]["d"][0].shape == (3, 4)
    two = cr.load(_saved(tmp_path, {"a": obj["f32"], "b": [obj["f32"]]}))
    assert two["a"] is two["b"][0]
    # Loaded tensors own writable memory.
    back["f32"].add_(1)
    back["array"][0, 0] = 5


def _saved(tmp_path, obj, name="ck.safetensors"):
    path = tmp_path / name
    cr.save(obj, path)
    return path


def test_file_is_plain_safetensors(tmp_path):
    path = _saved(tmp_path, {"w": cr.ones(2, 2), "step": 3})
    arrays = stn.load_file(str(path))
    assert list(arrays) == ["0"] and arrays["0"].dtype == np.float32
    import torch
    from safetensors.torch import load_file

    assert torch.equal(load_file(str(path))["0"], torch.ones(2, 2))


def test_file_objects_and_path_types(tmp_path):
    buf = io.BytesIO()
    cr.save({"x": cr.arange(3)}, buf)
    buf.seek(0)
    assert cr.load(buf)["x"].tolist() == [0, 1, 2]
    cr.save([1, 2], str(tmp_path / "s.ckpt"))
    assert cr.load(str(tmp_path / "s.ckpt"), map_location="cpu") == [1, 2]


def _layers():
    layers = [
        nn.Linear(4, 3), nn.Bilinear(3, 2, 4), nn.Conv1d(2, 4, 3, groups=2),
        nn.Conv2d(2, 3, (3, 2), bias=False), nn.ConvTranspose1d(2, 3, 3),
        nn.ConvTranspose2d(4, 2, 3, groups=2), nn.BatchNorm1d(3), nn.BatchNorm2d(3),
        nn.LayerNorm((3, 4)), nn.GroupNorm(2, 4), nn.Embedding(5, 3, padding_idx=1),
        nn.PReLU(3), nn.RNN(3, 4, num_layers=2), nn.LSTM(3, 4, bidirectional=True),
        nn.GRU(3, 4, batch_first=True), nn.RNNCell(3, 2), nn.LSTMCell(3, 2),
        nn.GRUCell(3, 2), nn.MaxPool2d(2), nn.AdaptiveAvgPool2d(2),
        nn.Upsample(scale_factor=2),
    ]
    for name, args in [("MultiheadAttention", (4, 2)), ("RMSNorm", (4,)),
                       ("TransformerEncoderLayer", (4, 2, 8))]:
        if hasattr(nn, name):  # layers another part of the nn work may add
            layers.append(getattr(nn, name)(*args))
    return layers


def test_every_layer_state_dict_round_trips(tmp_path):
    model = nn.Sequential(*_layers())
    with cr.no_grad():  # non-trivial running statistics and counters
        model[6](cr.randn(5, 3))
        model[7](cr.randn(5, 3, 2, 2))
    cr.manual_seed(1)
    fresh = nn.Sequential(*_layers())
    path = _saved(tmp_path, model.state_dict())
    back = cr.load(path)
    assert list(back) == list(model.state_dict())
    fresh.load_state_dict(back)
    _same(dict(model.state_dict()), dict(fresh.state_dict()))


def test_training_state_round_trip_resumes_exactly(tmp_path):
    def run(model, opt, steps, gen):
        for _ in range(steps):
            x = cr.randn(8, 4, generator=gen)
            loss = (model(x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        return loss.item()

    cr.manual_seed(0)
    model = nn.Linear(4, 2)
    opt = cr.optim.Adam(model.parameters(), lr=0.01)
    sched = cr.optim.lr_scheduler.StepLR(opt, 2, 0.5)
    gen = cr.Generator().manual_seed(7)
    run(model, opt, 3, gen)
    state = {"model": model.state_dict(), "opt": opt.state_dict(),
             "sched": sched.state_dict(), "gen": gen.get_state(), "epoch": 3}
    path = _saved(tmp_path, state)
    expected = run(model, opt, 4, gen)

    loaded = cr.load(path)
    model2 = nn.Linear(4, 2)
    model2.load_state_dict(loaded["model"])
    opt = cr.optim.Adam(model2.parameters(), lr=0.01)
    opt.load_state_dict(loaded["opt"])
    sched = cr.optim.lr_scheduler.StepLR(opt, 2, 0.5)
    sched.load_state_dict(loaded["sched"])
    gen2 = cr.Generator().set_state(loaded["gen"])
    assert run(model2, opt, 4, gen2) == expected
    _same(dict(model.state_dict()), dict(model2.state_dict()))


# -- safe loading ----------------------------------------------------------------------
class _Payload:
    """Unpickling this creates the file ``path`` -- stands for any code."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_is_rejected_without_running_it(tmp_path, protocol):
    probe, marker = tmp_path / "probe", tmp_path / "marker"
    # The payload is live: unpickling it really creates its file.
    pickle.loads(pickle.dumps(_Payload(str(probe)), protocol)).close()
    assert probe.exists()
    path = tmp_path / "evil.ckpt"
    path.write_bytes(pickle.dumps({"model": _Payload(str(marker))}, protocol))
    with pytest.raises(CheckpointError, match=str(path)) as e:
        cr.load(path)
    assert isinstance(e.value, cr.ChainruleError)
    if protocol >= 2:
        assert "pickle" in str(e.value)
    assert not marker.exists()


def test_torch_save_file_is_rejected(tmp_path):
    import torch

    path = tmp_path / "model.pt"
    torch.save({"w": torch.ones(2)}, path)
    with pytest.raises(CheckpointError,
                       match=r"zip archive \(the format of torch.save\)"):
        cr.load(path)


@pytest.mark.parametrize("content,reason", [
    (b"", "is empty"),
    (b"abc", "too short"),
    (b"hello world, this is text", "truncated or not a safetensors file"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"[1, 2, 3]       ", "not a JSON object"),
    (b"\x10\x00\x00\x00\x00\x00\x00\x00" + b"{not json at all", "not valid JSON"),
])
def test_garbage_is_rejected(tmp_path, content, reason):
    path = tmp_path / "junk.bin"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match=reason) as e:
        cr.load(path)
    assert str(path) in str(e.value)


def test_plain_safetensors_file_is_rejected(tmp_path):
    path = tmp_path / "weights.safetensors"
    stn.save_file({"w": np.ones(3, np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="safetensors file but not a chainrule "
                                              "checkpoint"):
        cr.load(path)


def _forge(tmp_path, arrays, structure, version="1"):
    """A file that claims to be a checkpoint, with a correct checksum."""
    meta = {"format": "chainrule", "chainrule.version": version,
            "chainrule.sha256": "0" * 64}
    if structure is not None:
        meta["chainrule.structure"] = structure
    blob = stn.save(arrays, metadata=meta)
    n = int.from_bytes(blob[:8], "little")
    digest = hashlib.sha256(blob).hexdigest()
    header = blob[8:8 + n].replace(b'"' + b"0" * 64 + b'"', f'"{digest}"'.encode())
    path = tmp_path / "forged.safetensors"
    path.write_bytes(blob[:8] + header + blob[8 + n:])
    return path


@pytest.mark.parametrize("structure,reason", [
    (None, "structure entry is missing"),
    ("{broken", "structure entry is not valid JSON"),
    ('{"$": "tensor", "k": "7"}', "refers to tensor '7', which the file does not"),
    ('{"$": "pickle", "v": []}', "unknown structure tag 'pickle'"),
    ('{"no": "tag"}', "unexpected structure entry"),
    ('{"$": "dict", "v": [["a"]]}', r"not a \[key, value\] pair"),
    ('{"$": "dict", "v": [[[1], 2]]}', "unhashable dict key"),
    ('{"$": "float", "v": "huge"}', "bad float entry"),
    ('[1, 2]', r"tensors its structure does not mention: \['0'\]"),
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ('{"$": "tuple", "v": ' * 5000 + "[]" + "}" * 5000, "nested too deeply"),
])
def test_file_claiming_to_be_a_checkpoint_is_rejected(tmp_path, structure, reason):
    path = _forge(tmp_path, {"0": np.zeros(2, np.float32)}, structure)
    with pytest.raises(CheckpointError, match=reason) as e:
        cr.load(path)
    assert str(path) in str(e.value)


def test_forged_file_that_is_valid_loads(tmp_path):
    # The forging helper itself produces loadable files when the structure is
    # right, so the rejections above are about the structure alone.
    path = _forge(tmp_path, {"0": np.zeros(2, np.float32)},
                  '[{"$": "tensor", "k": "0"}]')
    assert cr.load(path)[0].tolist() == [0.0, 0.0]
    with pytest.raises(CheckpointError, match="format version '2'"):
        cr.load(_forge(tmp_path, {}, "[]", version="2"))


def test_truncated_files_are_rejected(tmp_path):
    path = _saved(tmp_path, {"w": cr.randn(4, 5), "b": cr.randn(5), "step": 10})
    data = path.read_bytes()
    cut = tmp_path / "cut.safetensors"
    for n in sorted(set(range(0, len(data), 7)) | {len(data) - 1, 8, 9}):
        cut.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match=str(cut)):
            cr.load(cut)


def test_every_bit_flip_is_detected():
    buf = io.BytesIO()
    cr.save({"w": cr.randn(3), "step": 1}, buf)
    data = bytearray(buf.getvalue())
    undetected = []
    for i in range(len(data)):
        for bit in range(8):
            data[i] ^= 1 << bit
            try:
                cr.load(io.BytesIO(bytes(data)))
                undetected.append((i, bit))
            except CheckpointError:
                pass
            data[i] ^= 1 << bit
    assert undetected == []
    assert cr.load(io.BytesIO(bytes(data)))["step"] == 1


# -- what save refuses, and atomic writes ----------------------------------------------
def test_unsupported_objects_are_refused_and_nothing_is_written(tmp_path):
    path = _saved(tmp_path, {"v": 1})
    before = path.read_bytes()
    cyc = []
    cyc.append(cyc)
    for obj, msg in [({"m": nn.Linear(2, 2)}, r"cannot store a Linear at obj\['m'\]"),
                     ({"f": print}, "cannot store a builtin_function_or_method"),
                     ([{"k": {1j: 2}}], r"dict key 1j \(complex\)"),
                     ({"c": np.ones(2, np.complex64)}, "complex64 array"),
                     (cyc, "contains itself")]:
        with pytest.raises(cr.ArgumentError, match=msg):
            cr.save(obj, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("stage", ["write", "fsync", "replace"])
def test_failed_save_keeps_previous_checkpoint(tmp_path, monkeypatch, stage):
    path = _saved(tmp_path, {"version": 1, "w": cr.ones(3)})

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    if stage == "write":
        real_fdopen = os.fdopen

        class _Half:
            def __init__(self, f):
                self.f = f

            def write(self, b):
                self.f.write(b[: len(b) // 2])  # a partial write, then failure
                boom()

            def __getattr__(self, name):
                return getattr(self.f, name)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

        monkeypatch.setattr(ckpt.os, "fdopen", lambda *a, **k: _Half(real_fdopen(*a,
                                                                                 **k)))
    else:
        monkeypatch.setattr(ckpt.os, {"fsync": "fsync", "replace": "replace"}[stage],
                            boom)
    with pytest.raises(OSError, match="No space left"):
        cr.save({"version": 2, "w": cr.zeros(3)}, path)
    monkeypatch.undo()
    back = cr.load(path)
    assert back["version"] == 1 and back["w"].tolist() == [1.0, 1.0, 1.0]
    assert os.listdir(tmp_path) == [path.name]  # no temporary file left behind


def test_save_replaces_through_a_temporary_file(tmp_path, monkeypatch):
    path = _saved(tmp_path, {"v": 1})
    os.chmod(path, 0o640)
    seen = []
    real_replace = os.replace

    def spy(src, dst):
        seen.append((os.path.dirname(src), os.path.exists(src), dst))
        assert cr.load(path)["v"] == 1  # the target is untouched until the rename
        real_replace(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", spy)
    cr.save({"v": 2}, path)
    assert seen == [(str(tmp_path), True, str(path))]
    assert cr.load(path)["v"] == 2
    assert os.stat(path).st_mode & 0o777 == 0o640


def test_save_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cr.save({}, tmp_path / "missing" / "ck.safetensors")
    with pytest.raises(IsADirectoryError):
        cr.save({}, tmp_path)
    with pytest.raises(cr.ArgumentError, match="expected a path or a binary file"):
        cr.save({}, 3)
    with pytest.raises(cr.ArgumentError, match="map_location 'cuda'"):
        cr.load(_saved(tmp_path, {}), map_location="cuda")
    with open(_saved(tmp_path, {}), encoding="latin-1") as f:
        with pytest.raises(cr.ArgumentError, match="opened in text mode"):
            cr.load(f)


def test_killed_saves_leave_a_loadable_checkpoint(tmp_path):
    """SIGKILL a process that keeps re-saving; the file always loads."""
    path = tmp_path / "ck.safetensors"
    cr.save({"i": -1, "w": cr.zeros(1000)}, path)
    script = textwrap.dedent(f"""
        import chainrule as cr
        i = 0
        while True:
            cr.save({{"i": i, "w": cr.full((1000,), float(i))}}, {str(path)!r})
            print(i, flush=True)
            i += 1
    """)
    rng = np.random.default_rng(0)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                                text=True, cwd=os.path.dirname(os.path.dirname(
                                    os.path.abspath(cr.__file__))))
        for _ in range(int(rng.integers(1, 30))):  # let some saves finish
            if not proc.stdout.readline():
                break
        proc.kill()
        proc.wait()
        proc.stdout.close()
        back = cr.load(path)
        assert back["w"].tolist() == [float(back["i"])] * 1000
    assert back["i"] >= 0  # at least one save of the killed processes completed
