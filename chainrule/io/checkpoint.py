"""Checkpoints: ``chainrule.save(obj, path)`` and ``chainrule.load(path)``.

What can be saved
-----------------
Nested dicts (any key that is a str, int, float, bool, None or a tuple of
those; OrderedDicts stay OrderedDicts), lists and tuples whose leaves are
Tensors (Parameters stay Parameters), NumPy arrays, ints of any size (RNG
states), floats (including nan and inf), bools, strings and None: model,
optimizer and scheduler state dicts, ``Generator.get_state()``, counters.
Anything else is refused before the file is touched.

File format
-----------
A standard safetensors file (readable by any safetensors reader), holding
every tensor and array once under the names "0", "1", ... in the order
first met.  Its header metadata (string to string) has four entries:

``format``
    ``"chainrule"``.
``chainrule.version``
    ``"1"``, the layout described here.
``chainrule.structure``
    JSON for the saved object.  null, true/false, strings, integers and
    finite floats are themselves; a list is a JSON array; every other value
    is an object tagged by ``"$"``: ``{"$": "tensor", "k": name}`` (plus
    ``"param": true`` for a Parameter and ``"rg": true`` for a leaf that
    requires grad), ``{"$": "array", "k": name}``, ``{"$": "float", "v":
    "nan" | "inf" | "-inf"}``, ``{"$": "tuple", "v": [...]}``, ``{"$":
    "dict" | "odict", "v": [[key, value], ...]}`` (keys encoded the same
    way).
``chainrule.sha256``
    SHA-256 (hex) of the whole file as written with this value set to 64
    zeros.  Any truncation or flipped bit is detected on load.

Guarantees
----------
- Saving is atomic: the bytes go to a temporary file in the target's
  directory, which is flushed and fsynced and then renamed over the target
  (and the directory fsynced).  If the process dies at any moment, the
  path holds either the previous checkpoint or the new one, never a mix.
  A save that fails with an exception removes its temporary file; a killed
  process may leave one (``.<name>.<host>-<pid>-<random>.tmp``), which is
  safe to delete and which the next successful save into the same
  directory on the same host deletes once that process is gone.
- Loading never executes code: only JSON and safetensors are parsed.
  Pickle files (``torch.save`` output included), files that are not
  safetensors, safetensors files without chainrule's structure, and
  truncated or corrupted checkpoints raise :class:`CheckpointError` naming
  the file and the reason.
"""
import hashlib
import json
import math
import os
import secrets
import socket
import stat
from collections import OrderedDict

import numpy as np

from ..errors import ArgumentError, ChainruleError

FORMAT, VERSION = "chainrule", "1"
_KEY_STRUCT, _KEY_SUM, _KEY_VER = ("chainrule.structure", "chainrule.sha256",
                                   "chainrule.version")
_ZEROS = "0" * 64
_MAX_HEADER = 100 * 1024 * 1024  # safetensors' own limit


class CheckpointError(ChainruleError, ValueError, RuntimeError):
    """A file that is not a valid, intact chainrule checkpoint."""


def _safetensors():
    try:
        import safetensors.numpy as stn
    except ImportError:
        raise ImportError("chainrule.save and chainrule.load need the 'safetensors' "
                          "package: pip install 'chainrule[io]'") from None
    return stn


# -- encoding --------------------------------------------------------------------------
class _Encoder:
    """Turns an object into (structure JSON value, {name: ndarray})."""

    def __init__(self):
        self.arrays, self.names = {}, {}
        self._open = set()  # ids of containers being encoded: catches cycles

    def encode(self, obj, where):
        from ..nn.parameter import Parameter
        from ..tensor import Tensor

        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, (int, np.integer)):
            return int(obj)
        if isinstance(obj, (float, np.floating)):
            f = float(obj)
            if math.isfinite(f):
                return f
            return {"$": "float", "v": "nan" if math.isnan(f) else
                    ("inf" if f > 0 else "-inf")}
        if isinstance(obj, Tensor):
            node = {"$": "tensor", "k": self._array(obj, obj._data, where)}
            if isinstance(obj, Parameter):
                node["param"] = True
            if obj.requires_grad and obj.grad_fn is None:
                node["rg"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"$": "array", "k": self._array(obj, obj, where)}
        if isinstance(obj, (list, tuple, dict)):
            if id(obj) in self._open:
                raise ArgumentError(f"save: {where} contains itself; checkpoints hold "
                                    "trees, not cycles")
            self._open.add(id(obj))
            try:
                return self._container(obj, where)
            finally:
                self._open.discard(id(obj))
        raise ArgumentError(
            f"save: cannot store a {type(obj).__name__} at {where}; checkpoints hold "
            "tensors, NumPy arrays, numbers, strings, bools and None, nested in "
            "dicts, lists and tuples (save a module's or optimizer's state_dict(), "
            "not the object)")

    def _container(self, obj, where):
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, tuple):
            return {"$": "tuple", "v": [self.encode(v, f"{where}[{i}]")
                                        for i, v in enumerate(obj)]}
        items = []
        for k, v in obj.items():
            self._check_key(k, where)
            items.append([self.encode(k, where), self.encode(v, f"{where}[{k!r}]")])
        return {"$": "odict" if isinstance(obj, OrderedDict) else "dict", "v": items}

    def _check_key(self, k, where):
        if isinstance(k, tuple):
            for part in k:
                self._check_key(part, where)
        elif not (k is None or isinstance(k, (bool, str, int, float, np.integer,
                                                  np.floating, np.bool_))):
            raise ArgumentError(f"save: dict key {k!r} ({type(k).__name__}) at {where} "
                                "is not storable; keys must be str, int, float, bool, "
                                "None or tuples of those")

    def _array(self, owner, arr, where):
        if id(owner) in self.names:  # the same tensor twice is stored once
            return self.names[id(owner)][0]
        if arr.dtype.kind not in "biuf" or arr.dtype.itemsize > 8:
            raise ArgumentError(f"save: cannot store the {arr.dtype} array at {where}; "
                                "only bool, integer and float dtypes fit safetensors")
        name = str(len(self.arrays))
        # (not ascontiguousarray: it turns 0-d arrays into 1-d ones)
        self.arrays[name] = arr if arr.flags.c_contiguous else arr.copy(order="C")
        self.names[id(owner)] = (name, owner)  # keep owner alive: ids stay unique
        return name


def _serialize(obj):
    """The checkpoint's bytes, checksum filled in."""
    stn = _safetensors()
    enc = _Encoder()
    structure = enc.encode(obj, "obj")
    meta = {"format": FORMAT, _KEY_VER: VERSION,
            _KEY_STRUCT: json.dumps(structure, allow_nan=False, separators=(",", ":")),
            _KEY_SUM: _ZEROS}
    blob = stn.save(enc.arrays, metadata=meta)
    n = int.from_bytes(blob[:8], "little")
    header = blob[8:8 + n]
    placeholder = f'"{_ZEROS}"'.encode()
    if header.count(placeholder) != 1:  # cannot happen: quotes inside JSON strings
        raise ChainruleError("save: could not place the checksum in the header")
    digest = hashlib.sha256(blob).hexdigest()
    return blob[:8] + header.replace(placeholder, f'"{digest}"'.encode()) + blob[8 + n:]


# -- atomic write ----------------------------------------------------------------------
# The temporary file's name says which host and process writes it, so that a
# later save can tell the leftovers of a killed writer from a live one's file.
_WRITER = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def _fsync_dir(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that cannot open directories (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(path, blob):
    target = os.path.realpath(path)  # write through symlinks, like open() does
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise IsADirectoryError(f"save: {path} is a directory")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: cannot write {path}: directory {directory} "
                                "does not exist")
    tmp = os.path.join(directory, f".{os.path.basename(target)}.{_WRITER}-"
                                  f"{os.getpid()}-{secrets.token_hex(6)}.tmp")
    # 0o666 lets the umask decide, as open() would for a new file.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                 0o666)
    try:
        try:
            f = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        with f:
            f.write(blob)
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(target):  # keep the permissions of the file we replace
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)
    _remove_stale_temps(target)


def _process_alive(pid):
    if os.name == "nt":  # os.kill would terminate it there: assume it lives
        return True
    try:
        os.kill(pid, 0)  # signal 0: existence check only
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists under another user, or cannot tell: keep its file
    return True


def _remove_stale_temps(target):
    """Delete temporary files that killed saves left in ``target``'s directory.

    Only files named by this host for processes that no longer exist: a save
    in progress elsewhere keeps its file.  Best effort: a failure here never
    fails the save that has just succeeded.
    """
    directory = os.path.dirname(target)
    try:
        names = [n for n in os.listdir(directory)
                 if n.startswith(".") and n.endswith(".tmp")]
    except OSError:
        return
    for n in names:
        # .<target name>.<host>-<pid>-<random>.tmp; the target name may hold dots
        parts = n[:-len(".tmp")].rsplit(".", 1)[-1].split("-")
        if len(parts) != 3 or parts[0] != _WRITER or not parts[1].isdigit():
            continue
        pid = int(parts[1])
        if pid == os.getpid() or _process_alive(pid):
            continue
        try:
            os.unlink(os.path.join(directory, n))
        except OSError:
            pass


def save(obj, f):
    """Write ``obj`` (nested dicts/lists/tuples of tensors, arrays, numbers,
    strings, bools, None) to the path ``f`` as a safetensors checkpoint.

    The write is atomic: ``f`` holds either its old content or the complete
    new checkpoint, whatever happens.  ``f`` may also be a binary file object
    (then written directly).  See the module docstring for the format.
    """
    blob = _serialize(obj)
    if hasattr(f, "write"):
        f.write(blob)
        return
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise ArgumentError(f"save: expected a path or a binary file object, got "
                            f"{type(f).__name__}")
    _write_atomic(os.fsdecode(f), blob)


# -- loading ---------------------------------------------------------------------------
def _looks_like_safetensors(data):
    n = int.from_bytes(data[:8], "little") if len(data) >= 8 else -1
    return 0 < n <= _MAX_HEADER and 8 + n <= len(data) and data[8:9] == b"{"


def _sniff(data, name):
    """Reject files that are recognisably something else, with a useful reason."""
    if not data:
        raise CheckpointError(f"load: {name} is empty, not a checkpoint")
    if _looks_like_safetensors(data):
        return
    if data[:4] == b"PK\x03\x04":
        raise CheckpointError(
            f"load: {name} is a zip archive (the format of torch.save), not a "
            "chainrule checkpoint; chainrule does not unpickle files because "
            "unpickling can run arbitrary code")
    if data[0] == 0x80 and len(data) > 1 and data[1] <= 5:
        raise CheckpointError(
            f"load: {name} is a pickle file; chainrule never unpickles (unpickling "
            "can run arbitrary code). Re-save the data with chainrule.save")
    if len(data) < 8:
        raise CheckpointError(f"load: {name} is too short to be a checkpoint "
                              f"({len(data)} bytes); it is truncated or not a "
                              "checkpoint")


def _header(data, name):
    n = int.from_bytes(data[:8], "little")
    if n > _MAX_HEADER or 8 + n > len(data):
        raise CheckpointError(
            f"load: {name} is truncated or not a safetensors file: its header claims "
            f"{n} bytes but the file has {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise CheckpointError(f"load: {name} is corrupted or not a safetensors file: "
                              "its header is not valid JSON") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"load: {name} is corrupted: its header is not a JSON "
                              "object")
    return n, header


def _check_meta(meta, name):
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            f"load: {name} is a safetensors file but not a chainrule checkpoint (its "
            "metadata has no chainrule structure); read plain safetensors files with "
            "the safetensors package")
    if meta.get(_KEY_VER) != VERSION:
        raise CheckpointError(f"load: {name} uses checkpoint format version "
                              f"{meta.get(_KEY_VER)!r}; this chainrule reads version "
                              f"{VERSION}")
    digest = meta.get(_KEY_SUM)
    if (not isinstance(digest, str) or len(digest) != 64 or
            any(c not in "0123456789abcdef" for c in digest)):
        raise CheckpointError(f"load: {name} is corrupted: its checksum entry is "
                              "missing or malformed")
    if not isinstance(meta.get(_KEY_STRUCT), str):
        raise CheckpointError(f"load: {name} is corrupted: the structure entry is "
                              "missing")
    return digest


def _check_size(header, n, data, name):
    end = 0
    for k, v in header.items():
        if k == "__metadata__":
            continue
        try:
            end = max(end, int(v["data_offsets"][1]))
        except (TypeError, KeyError, IndexError, ValueError):
            raise CheckpointError(f"load: {name} is corrupted: the entry for tensor "
                                  f"{k!r} is malformed") from None
    if 8 + n + end > len(data):
        raise CheckpointError(f"load: {name} is truncated: its header describes "
                              f"{8 + n + end} bytes but the file has {len(data)}")


def _check_sum(data, n, digest, name):
    quoted = f'"{digest}"'.encode()
    header = data[8:8 + n]
    if header.count(quoted) != 1:
        raise CheckpointError(f"load: {name} is corrupted: checksum entry not found")
    h = hashlib.sha256()
    h.update(data[:8])
    h.update(header.replace(quoted, f'"{_ZEROS}"'.encode()))
    h.update(memoryview(data)[8 + n:])
    if h.hexdigest() != digest:
        raise CheckpointError(f"load: {name} is corrupted: its checksum does not match "
                              "its content (a flipped bit, a partial copy or an edit)")


class _Decoder:
    def __init__(self, arrays, name):
        self.arrays, self.name, self.used, self.made = arrays, name, set(), {}

    def fail(self, what):
        raise CheckpointError(f"load: {self.name} is corrupted: {what}")

    def decode(self, node):
        if node is None or isinstance(node, (bool, str, int, float)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or not isinstance(node.get("$"), str):
            self.fail(f"unexpected structure entry {str(node)[:60]!r}")
        tag = node["$"]
        if tag in ("tensor", "array"):
            return self._leaf(node, tag)
        if tag == "float":
            v = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}.get(node.get("v"))
            if v is None:
                self.fail(f"bad float entry {node!r}")
            return v
        items = node.get("v")
        if not isinstance(items, list):
            self.fail(f"the {tag!r} entry has no item list")
        if tag == "tuple":
            return tuple(self.decode(v) for v in items)
        if tag in ("dict", "odict"):
            out = OrderedDict() if tag == "odict" else {}
            for pair in items:
                if not isinstance(pair, list) or len(pair) != 2:
                    self.fail("a dict item is not a [key, value] pair")
                key = self.decode(pair[0])
                try:
                    out[key] = self.decode(pair[1])
                except TypeError:
                    self.fail(f"unhashable dict key {key!r}")
            return out
        self.fail(f"unknown structure tag {tag!r}")

    def _leaf(self, node, tag):
        from ..nn.parameter import Parameter
        from ..tensor import Tensor

        k = node.get("k")
        if k not in self.arrays:
            self.fail(f"the structure refers to tensor {k!r}, which the file does not "
                      "contain")
        key = (k, tag, bool(node.get("param")), bool(node.get("rg")))
        if key in self.made:  # shared tensors come back shared
            return self.made[key]
        self.used.add(k)
        arr = self.arrays[k]
        arr = arr.copy() if not arr.flags.writeable else arr
        if tag == "array":
            out = arr
        elif node.get("param"):
            out = Parameter(Tensor._make(arr), requires_grad=bool(node.get("rg")))
        else:
            out = Tensor._make(arr)
            if node.get("rg"):
                out.requires_grad_(True)
        self.made[key] = out
        return out


def load(f, map_location=None, *, weights_only=True, **kwargs):
    """Read a checkpoint written by :func:`save`; tensors come back as chainrule
    Tensors (Parameters as Parameters), on the CPU.

    ``f`` is a path or a binary file object.  ``map_location`` and
    ``weights_only`` are accepted for PyTorch compatibility (chainrule only
    runs on the CPU and never unpickles).  Raises :class:`CheckpointError`
    naming the file when it is not an intact chainrule checkpoint.
    """
    if map_location not in (None, "cpu") and not callable(map_location) and \
            str(map_location).split(":")[0] != "cpu":
        raise ArgumentError(f"load: map_location {map_location!r} is not available; "
                            "chainrule runs on the CPU")
    if hasattr(f, "read"):
        data, name = f.read(), getattr(f, "name", "<file object>")
    elif isinstance(f, (str, bytes, os.PathLike)):
        name = os.fsdecode(f)
        with open(name, "rb") as fh:
            data = fh.read()
    else:
        raise ArgumentError(f"load: expected a path or a binary file object, got "
                            f"{type(f).__name__}")
    if isinstance(data, str):
        raise ArgumentError(f"load: {name} was opened in text mode; open it with "
                            "'rb'")
    data = bytes(data)
    _sniff(data, name)
    n, header = _header(data, name)
    digest = _check_meta(header.get("__metadata__"), name)
    _check_size(header, n, data, name)
    _check_sum(data, n, digest, name)
    stn = _safetensors()
    try:
        arrays = stn.load(data)
    except Exception as e:  # the reader's own errors: bad dtype, offsets, shapes
        raise CheckpointError(f"load: {name} has invalid tensor data: {e}") from None
    try:
        structure = json.loads(header["__metadata__"][_KEY_STRUCT])
    except ValueError:
        raise CheckpointError(f"load: {name} is corrupted: its structure entry is not "
                              "valid JSON") from None
    except RecursionError:  # a forged structure, nested thousands deep
        raise CheckpointError(f"load: {name} is corrupted: its structure is nested "
                              "too deeply") from None
    dec = _Decoder(arrays, name)
    try:
        obj = dec.decode(structure)
    except RecursionError:
        raise CheckpointError(f"load: {name} is corrupted: its structure is nested "
                              "too deeply") from None
    extra = sorted(set(arrays) - dec.used, key=lambda s: (len(s), s))
    if extra:
        raise CheckpointError(f"load: {name} is corrupted: it holds tensors its "
                              f"structure does not mention: {extra[:10]}")
    return obj
