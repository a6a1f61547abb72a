"""MNIST, Fashion-MNIST and CIFAR-10, downloaded once into a cache directory.

Files come from the data sets' canonical addresses (MNIST's original site is
often unavailable, so a mirror follows it) and are checked against their
published MD5 checksums when downloaded; later loads read the cache with no
network.  MNIST-style files are gzipped IDX; CIFAR-10 is read from its
*binary* release (fixed-size records), never from the pickled Python one.

Images are float32 in [0, 1] with shape (N, C, H, W); labels int64.
"""
import gzip
import struct
import tarfile
from pathlib import Path

import numpy as np

from ... import ops
from ...errors import ArgumentError, ChainruleError
from ..collate import default_collate
from ..dataset import Dataset, _check_index
from ._download import cache_dir, download


class DatasetFormatError(ChainruleError, ValueError):
    """A data file that is not in the expected format."""


def read_idx(path):
    """Read a (possibly gzipped) IDX file of unsigned bytes into an ndarray."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise DatasetFormatError(f"read_idx: cannot read {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise DatasetFormatError(f"read_idx: {path} is not an IDX file (bad magic "
                                 "number)")
    if raw[2] != 0x08:
        raise DatasetFormatError(f"read_idx: {path} holds element type 0x{raw[2]:02x}; "
                                 "only unsigned bytes (0x08) are supported")
    ndim = raw[3]
    head = 4 + 4 * ndim
    if len(raw) < head:
        raise DatasetFormatError(f"read_idx: {path} is truncated (header)")
    shape = struct.unpack(f">{ndim}I", raw[4:head])
    n = int(np.prod(shape))
    if len(raw) - head != n:
        raise DatasetFormatError(
            f"read_idx: {path} should hold {n} bytes of data for shape {shape}, but "
            f"holds {len(raw) - head}")
    return np.frombuffer(raw, np.uint8, offset=head).reshape(shape)


class _ImageDataset(Dataset):
    """Images (N, C, H, W) float32 in ``.data`` and labels (N,) in ``.targets``."""

    classes = ()
    folder = ""

    def _setup(self, root, train, transform, target_transform):
        if not isinstance(train, bool):
            raise ArgumentError(f"{type(self).__name__}: train must be a bool, got "
                                f"{train!r}")
        self.root = cache_dir(root) / self.folder
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

    def _ensure(self, files, download_ok):
        """Download missing ``files`` (names in ``self.resources``) or explain."""
        missing = [f for f in files if not (self.root / f).exists()]
        if not missing:
            return
        if not download_ok:
            raise FileNotFoundError(
                f"{type(self).__name__}: {', '.join(missing)} not found in "
                f"{self.root}; pass download=True to fetch it")
        for f in missing:
            urls = [base + f for base in self.mirrors]
            download(urls, self.root / f, self.resources[f])

    def _set(self, images, labels):
        if images.shape[0] != labels.shape[0]:
            raise DatasetFormatError(
                f"{type(self).__name__}: {images.shape[0]} images but "
                f"{labels.shape[0]} labels in {self.root}")
        self.data = ops.from_numpy((images / np.float32(255)).astype(np.float32))
        self.targets = ops.from_numpy(labels.astype(np.int64))

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        i = _check_index(index, len(self), type(self).__name__)
        img, target = self.data[i], self.targets[i]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _batch(self, indices):
        if self.transform is not None or self.target_transform is not None:
            return default_collate([self[i] for i in indices])
        idx = ops.tensor(indices, dtype="int64")
        return [self.data[idx], self.targets[idx]]


class MNIST(_ImageDataset):
    """Handwritten digits: 60,000 training / 10,000 test images of (1, 28, 28).

    ``MNIST(root=None, train=True, download=False, transform=None,
    target_transform=None)``; ``root`` defaults to the cache directory
    (``$CHAINRULE_CACHE`` or ``~/.cache/chainrule``).
    """

    folder = "mnist"
    mirrors = ("http://yann.lecun.com/exdb/mnist/",
               "https://ossci-datasets.s3.amazonaws.com/mnist/")
    resources = {
        "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
        "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
        "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
    }
    classes = tuple(f"{d} - {w}" for d, w in enumerate(
        "zero one two three four five six seven eight nine".split()))

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None):
        self._setup(root, train, transform, target_transform)
        prefix = "train" if train else "t10k"
        files = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
        self._ensure(files, download)
        images = read_idx(self.root / files[0])
        labels = read_idx(self.root / files[1])
        if images.ndim != 3 or labels.ndim != 1:
            raise DatasetFormatError(
                f"{type(self).__name__}: expected images of 3 dims and labels of 1 in "
                f"{self.root}, got {images.ndim} and {labels.ndim}")
        self._set(images[:, None], labels)


class FashionMNIST(MNIST):
    """Zalando's clothing images, in MNIST's format and sizes (1, 28, 28)."""

    folder = "fashion-mnist"
    mirrors = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    resources = {
        "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
        "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
        "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
    }
    classes = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
               "Shirt", "Sneaker", "Bag", "Ankle boot")


class CIFAR10(_ImageDataset):
    """Small colour images in 10 classes: 50,000 training / 10,000 test (3, 32, 32).

    Read from the binary release: each record is one label byte followed by
    3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major).
    """

    folder = "cifar-10"
    mirrors = ("https://www.cs.toronto.edu/~kriz/",)
    archive = "cifar-10-binary.tar.gz"
    resources = {archive: "c32a1d4ab5d03f1284b67883e8d87530"}
    classes = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
               "horse", "ship", "truck")
    _record = 1 + 3 * 32 * 32

    def __init__(self, root=None, train=True, download=False, transform=None,
                 target_transform=None):
        self._setup(root, train, transform, target_transform)
        self._ensure([self.archive], download)
        names = ([f"data_batch_{i}.bin" for i in range(1, 6)] if train
                 else ["test_batch.bin"])
        chunks = [self._read_member(n) for n in names]
        records = np.concatenate(chunks)
        self._set(records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0])

    def _read_member(self, name):
        # Read by name from the archive: nothing is extracted, so a crafted
        # archive cannot write outside the cache.
        path = self.root / self.archive
        try:
            with tarfile.open(path, "r:gz") as tar:
                member = tar.getmember("cifar-10-batches-bin/" + name)
                f = tar.extractfile(member)
                raw = f.read() if f is not None else b""
        except KeyError:
            raise DatasetFormatError(f"CIFAR10: {path} has no member "
                                     f"cifar-10-batches-bin/{name}") from None
        except (OSError, EOFError, tarfile.TarError) as e:
            raise DatasetFormatError(f"CIFAR10: cannot read {path}: {e}") from None
        if not raw or len(raw) % self._record:
            raise DatasetFormatError(
                f"CIFAR10: {name} in {path} has {len(raw)} bytes, not a whole number "
                f"of {self._record}-byte records")
        return np.frombuffer(raw, np.uint8).reshape(-1, self._record)
