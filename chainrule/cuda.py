"""``chainrule.cuda``: PyTorch's CUDA namespace on a machine without CUDA.

chainrule computes on the CPU.  The queries programs make before choosing a
device answer as PyTorch does without a GPU (``is_available()`` is False,
``device_count()`` 0), and the calls that are harmless without one (seeding,
emptying the cache, memory statistics) do nothing, so such programs run
unchanged on the CPU.  Calls that need a GPU raise an error that says so.
"""
from .errors import ArgumentError


def _no_cuda(op):
    raise ArgumentError(f"cuda.{op}: no GPU backend; chainrule runs on the CPU "
                        "(chainrule.cuda.is_available() is False)")


def is_available():
    """False: chainrule has no GPU backend."""
    return False


def device_count():
    """0: no GPU is visible to chainrule."""
    return 0


def is_initialized():
    return False


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Does nothing (no GPU generator); seed the CPU with chainrule.manual_seed."""


def manual_seed_all(seed):
    """Does nothing (no GPU generators)."""


def seed():
    """Does nothing (no GPU generator)."""


def seed_all():
    """Does nothing (no GPU generators)."""


def empty_cache():
    """Does nothing: there is no GPU memory to release."""


def memory_allocated(device=None):
    """0 bytes: no GPU memory is in use."""
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def reset_peak_memory_stats(device=None):
    """Does nothing: there are no GPU memory statistics."""


def synchronize(device=None):
    _no_cuda("synchronize")


def current_device():
    _no_cuda("current_device")


def set_device(device):
    _no_cuda("set_device")


def get_device_name(device=None):
    _no_cuda("get_device_name")


def get_device_capability(device=None):
    _no_cuda("get_device_capability")


def get_device_properties(device=None):
    _no_cuda("get_device_properties")


def get_rng_state(device="cuda"):
    _no_cuda("get_rng_state")


def set_rng_state(new_state, device="cuda"):
    _no_cuda("set_rng_state")
