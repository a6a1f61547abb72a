"""chainrule.data.datasets: bundled, synthetic, text and downloaded image sets.

The download tests never touch the network: sockets are forbidden and
``urllib.request.urlopen`` is replaced by a fake server that serves small
files in the real formats, written by the tests.
"""
import gzip
import hashlib
import io
import socket
import struct
import tarfile
import urllib.error
import urllib.request

import numpy as np
import pytest

import chainrule as cr
from chainrule.data import DataLoader
from chainrule.data import datasets as D


# -- scikit-learn's sets ---------------------------------------------------------------
@pytest.mark.parametrize("name, shape, classes", [
    ("load_digits", (1797, 64), 10), ("load_iris", (150, 4), 3),
    ("load_wine", (178, 13), 3), ("load_breast_cancer", (569, 30), 2),
])
def test_sklearn_classification_sets(name, shape, classes):
    X, y = getattr(D, name)()
    assert X.shape == shape and X.dtype == cr.float32
    assert y.dtype == cr.int64 and y.shape == (shape[0],)
    assert sorted(set(y.tolist())) == list(range(classes))


def test_digits_images_and_diabetes():
    from sklearn.datasets import load_digits

    X, y = D.load_digits(images=True)
    assert X.shape == (1797, 1, 8, 8)
    np.testing.assert_array_equal(X.numpy()[5, 0], load_digits().images[5])
    Xd, yd = D.load_diabetes()
    assert Xd.shape == (442, 10) and yd.dtype == cr.float32


def test_missing_sklearn_is_a_clear_error(hide_package):
    hide_package("sklearn")
    with pytest.raises(ImportError,
                       match=r"load_iris needs scikit-learn.*chainrule\[datasets\]"):
        D.load_iris()


# -- synthetic sets --------------------------------------------------------------------
def test_xor_corners():
    X, y = D.make_xor()
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]] and y.tolist() == [0, 1, 1, 0]
    Xn, yn = D.make_xor(40, noise=0.1, seed=0)
    assert Xn.shape == (40, 2) and yn.tolist() == [0, 1, 1, 0] * 10


@pytest.mark.parametrize("make", [D.make_moons, D.make_spirals,
                                  D.make_regression_curve])
def test_synthetic_sets_repeat_with_seed(make):
    a, b, c = make(seed=1), make(seed=1), make(seed=2)
    assert a[0].tolist() == b[0].tolist() and a[1].tolist() == b[1].tolist()
    assert a[0].tolist() != c[0].tolist()
    g = cr.Generator().manual_seed(1)
    assert make(generator=g)[0].tolist() == a[0].tolist()


def test_moons_and_spirals_geometry():
    X, y = D.make_moons(100, noise=0.0, shuffle=False)
    up, low = X.numpy()[:50], X.numpy()[50:]
    np.testing.assert_allclose(np.hypot(*up.T), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.hypot(low[:, 0] - 1, low[:, 1] - 0.5), 1.0, atol=1e-5)
    assert y.tolist() == [0] * 50 + [1] * 50
    Xs, ys = D.make_spirals(301, n_classes=3, seed=0)
    assert np.bincount(ys.numpy()).tolist() == [101, 100, 100]
    assert np.all(np.hypot(*Xs.numpy().T) <= 1 + 1e-6)


def test_regression_curve_is_sin_plus_noise():
    X, y = D.make_regression_curve(500, noise=0.1, seed=0)
    assert X.shape == (500, 1) and np.all(np.diff(X.numpy()[:, 0]) >= 0)
    resid = y.numpy() - np.sin(X.numpy())
    assert 0.08 < resid.std() < 0.12
    with pytest.raises(ValueError, match="make_regression_curve: n_samples must be"):
        D.make_regression_curve(0)


# -- character corpus ------------------------------------------------------------------
def test_char_corpus_from_file(tmp_path):
    text = "to be or not to be, that is the question"
    p = tmp_path / "t.txt"
    p.write_text(text, encoding="utf-8")
    corpus = D.CharCorpus(p, seq_len=8)
    assert len(corpus) == len(text) - 8
    assert corpus.vocab_size == len(set(text))
    assert corpus.decode(corpus.encode("not to")) == "not to"
    x, y = corpus[3]
    assert corpus.decode(x) == text[3:11] and corpus.decode(y) == text[4:12]
    xb, yb = next(iter(DataLoader(corpus, batch_size=4)))
    assert xb.shape == (4, 8) and xb.dtype == cr.int64
    assert [corpus.decode(r) for r in yb] == [text[i + 1:i + 9] for i in range(4)]
    train, val = corpus.split(0.75)
    assert train.tokenizer is val.tokenizer and train.text + val.text == text
    with pytest.raises(ValueError, match=r"character 'Z' is not in the vocabulary"):
        corpus.encode("Z")
    with pytest.raises(ValueError, match="must be longer than seq_len=100"):
        D.CharCorpus.from_text("short", 100)
    with pytest.raises(ValueError, match="CharCorpus: cannot read"):
        D.CharCorpus(tmp_path / "missing.txt")


# -- downloads, with a fake server -----------------------------------------------------
def _idx(arr):
    arr = np.asarray(arr, np.uint8)
    head = bytes([0, 0, 8, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return gzip.compress(head + arr.tobytes())


def _cifar_archive(n_per_batch=3):
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            labels = rng.integers(0, 10, n_per_batch, dtype=np.uint8)
            pixels = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
            data = np.concatenate([labels[:, None], pixels], 1).tobytes()
            info = tarfile.TarInfo("cifar-10-batches-bin/" + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class FakeServer:
    """Serves ``files`` (name -> bytes) for any URL ending in the name."""

    def __init__(self, files):
        self.files = files
        self.requests = []

    def urlopen(self, url, timeout=None):
        self.requests.append(url)
        name = url.rsplit("/", 1)[1]
        if name not in self.files or "yann.lecun.com" in url:
            raise urllib.error.URLError("404 not found")
        return io.BytesIO(self.files[name])


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to open a network socket")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _serve(monkeypatch, cls, files, checksums=None):
    server = FakeServer(files)
    monkeypatch.setattr(urllib.request, "urlopen", server.urlopen)
    sums = checksums or {k: hashlib.md5(v).hexdigest() for k, v in files.items()}
    monkeypatch.setattr(cls, "resources", sums)
    return server


def _mnist_files():
    rng = np.random.default_rng(1)
    tr = rng.integers(0, 256, (5, 28, 28))
    te = rng.integers(0, 256, (3, 28, 28))
    return {"train-images-idx3-ubyte.gz": _idx(tr), "train-labels-idx1-ubyte.gz":
            _idx([0, 1, 2, 3, 9]), "t10k-images-idx3-ubyte.gz": _idx(te),
            "t10k-labels-idx1-ubyte.gz": _idx([7, 8, 9])}, tr, te


@pytest.mark.parametrize("cls", [D.MNIST, D.FashionMNIST])
def test_mnist_download_verify_and_cached_load(cls, tmp_path, monkeypatch, no_network):
    files, tr, te = _mnist_files()
    server = _serve(monkeypatch, cls, files)
    ds = cls(root=tmp_path, train=True, download=True)
    assert len(ds) == 5 and ds.data.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(ds.data.numpy()[:, 0], tr / 255.0, rtol=1e-6)
    assert ds.targets.tolist() == [0, 1, 2, 3, 9]
    img, label = ds[4]
    assert img.shape == (1, 28, 28) and label.item() == 9
    assert sorted(p.name for p in (tmp_path / cls.folder).iterdir()) == [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    # Second load: straight from the cache, no request at all.
    n = len(server.requests)
    again = cls(root=tmp_path, train=True, download=True)
    assert len(server.requests) == n and again.targets.tolist() == [0, 1, 2, 3, 9]
    test = cls(root=tmp_path, train=False, download=True)
    assert test.targets.tolist() == [7, 8, 9]
    np.testing.assert_allclose(test.data.numpy()[:, 0], te / 255.0, rtol=1e-6)
    xb, yb = next(iter(DataLoader(test, batch_size=2)))
    assert xb.shape == (2, 1, 28, 28) and yb.tolist() == [7, 8]


def test_mnist_tries_mirror_after_canonical(tmp_path, monkeypatch, no_network):
    files, _, _ = _mnist_files()
    server = _serve(monkeypatch, D.MNIST, files)
    D.MNIST(root=tmp_path, train=False, download=True)
    assert "yann.lecun.com" in server.requests[0]
    assert server.requests[1].startswith("https://ossci-datasets")


def test_bad_checksum_is_rejected_and_not_kept(tmp_path, monkeypatch, no_network):
    files, _, _ = _mnist_files()
    sums = {k: hashlib.md5(v).hexdigest() for k, v in files.items()}
    sums["t10k-images-idx3-ubyte.gz"] = "0" * 32
    _serve(monkeypatch, D.MNIST, files, sums)
    with pytest.raises(D.DownloadError, match=r"has MD5 [0-9a-f]{32}, but the "
                       r"published checksum is 0{32}; the file was discarded"):
        D.MNIST(root=tmp_path, train=False, download=True)
    assert [p.name for p in (tmp_path / "mnist").iterdir()] == []


def test_missing_files_without_download(tmp_path, no_network):
    with pytest.raises(FileNotFoundError, match="pass download=True"):
        D.MNIST(root=tmp_path)


def test_unreachable_server_message(tmp_path, monkeypatch, no_network):
    _serve(monkeypatch, D.MNIST, {})
    monkeypatch.setattr(D.MNIST, "resources", {
        "t10k-images-idx3-ubyte.gz": "0" * 32, "t10k-labels-idx1-ubyte.gz": "0" * 32})
    with pytest.raises(D.DownloadError, match="could not fetch t10k-images"):
        D.MNIST(root=tmp_path, train=False, download=True)
    assert list((tmp_path / "mnist").iterdir()) == []


def test_cache_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.delenv("CHAINRULE_CACHE", raising=False)
    assert str(D.cache_dir()).endswith(".cache/chainrule")
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    assert D.cache_dir() == tmp_path


def test_corrupt_idx_is_a_clear_error(tmp_path):
    p = tmp_path / "x.gz"
    p.write_bytes(gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 10) + b"abc"))
    with pytest.raises(D.DatasetFormatError, match="should hold 10 bytes"):
        D.read_idx(p)
    p.write_bytes(gzip.compress(b"\x12\x34\x56\x78"))
    with pytest.raises(D.DatasetFormatError, match="bad magic number"):
        D.read_idx(p)


def test_cifar10_binary_archive(tmp_path, monkeypatch, no_network):
    archive = _cifar_archive()
    _serve(monkeypatch, D.CIFAR10, {"cifar-10-binary.tar.gz": archive})
    train = D.CIFAR10(root=tmp_path, train=True, download=True)
    test = D.CIFAR10(root=tmp_path, train=False)
    assert train.data.shape == (15, 3, 32, 32) and len(test) == 3
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        raw = tar.extractfile("cifar-10-batches-bin/test_batch.bin").read()
    rec = np.frombuffer(raw, np.uint8).reshape(3, 3073)
    assert test.targets.tolist() == rec[:, 0].tolist()
    # Record layout: 1024 red, then green, then blue bytes, row-major 32x32.
    blue = rec[1, 1 + 2048:].reshape(32, 32) / 255.0
    np.testing.assert_allclose(test.data.numpy()[1, 2], blue, rtol=1e-6)
    img, label = test[1]
    assert img.shape == (3, 32, 32) and label.item() == rec[1, 0]
