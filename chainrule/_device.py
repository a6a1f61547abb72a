"""Devices: chainrule computes on the CPU only.

``chainrule.device`` parses device names as PyTorch does, so the standard line
``device = torch.device("cuda" if torch.cuda.is_available() else "cpu")``
works; tensors and modules can live on ``'cpu'`` only, and asking for any
other device raises an error that says so.
"""
from .errors import ArgumentError

# PyTorch's device types: naming one of them is valid, placing data there is not.
DEVICE_TYPES = (
    "cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve",
    "fpga", "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia",
    "privateuseone",
)


def _parse(spec, index, op):
    if isinstance(spec, device):
        if index is not None:
            raise ArgumentError(f"{op}: give a device or a type and an index, not both")
        return spec.type, spec.index
    if isinstance(spec, bool) or not isinstance(spec, (str, int)):
        raise ArgumentError(f"{op}: expected a device name such as 'cpu' or "
                            f"'cuda:0', a device or an index, got "
                            f"{type(spec).__name__} {spec!r:.40}")
    if isinstance(spec, int):  # an index means the accelerator (PyTorch)
        if spec < 0:
            raise ArgumentError(f"{op}: device index must not be negative, got {spec}")
        raise ArgumentError(f"{op}: device {spec} is an accelerator index, and "
                            "chainrule has no accelerator; it runs on the CPU")
    kind, sep, idx = spec.partition(":")
    if kind not in DEVICE_TYPES:
        raise ArgumentError(f"{op}: unknown device type {kind!r} in {spec!r}; expected "
                            f"one of {', '.join(DEVICE_TYPES)}")
    if sep:
        if index is not None or not idx.isdigit():
            raise ArgumentError(f"{op}: invalid device string {spec!r}; expected "
                                "'type' or 'type:index' with an index >= 0")
        index = int(idx)
    if index is not None and (isinstance(index, bool) or not isinstance(index, int)
                              or index < 0):
        raise ArgumentError(f"{op}: device index must be an int >= 0, got {index!r}")
    return kind, index


class device:
    """A device name: ``device('cpu')``, ``device('cuda:1')``, ``device('cuda',
    1)``.  Any of PyTorch's device types can be named; only ``'cpu'`` can hold
    tensors.  Compares equal to another device of the same type and index (and,
    for convenience, to its string form)."""

    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 (PyTorch's name)
        kind, idx = _parse(type, index, "device")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "index", idx)

    def __setattr__(self, name, value):
        raise AttributeError("device is immutable")

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        if self.index is None:
            return f"device(type={self.type!r})"
        return f"device(type={self.type!r}, index={self.index})"

    def __eq__(self, other):
        if isinstance(other, str):
            return str(self) == other
        if isinstance(other, device):
            return (self.type, self.index) == (other.type, other.index)
        return NotImplemented

    def __hash__(self):
        return hash(str(self))

    def __reduce__(self):
        return (device, (self.type, self.index))


CPU = device("cpu")


def check_device(spec, op):
    """Raise unless ``spec`` (None, a name, an index or a device) is the CPU."""
    if spec is None or spec is CPU:
        return
    kind, _ = _parse(spec, None, op)
    if kind != "cpu":
        raise ArgumentError(
            f"{op}: device {str(spec)!r} is not available; chainrule runs on the "
            "CPU only (chainrule.cuda.is_available() is False): use 'cpu' or "
            "leave device out")


def is_device(obj):
    """Whether ``obj`` names a device (a device, or a string of a device type),
    as opposed to a dtype given to ``to``."""
    if isinstance(obj, device):
        return True
    return isinstance(obj, str) and obj.partition(":")[0] in DEVICE_TYPES
