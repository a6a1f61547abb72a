"""Random-number generators: reproducible runs from one seed.

A :class:`Generator` wraps NumPy's PCG64.  ``chainrule.manual_seed(s)`` seeds
the default generator that every random op uses unless given ``generator=``.
Streams differ from PyTorch's; only reproducibility within chainrule holds.
"""
import numpy as np

from .errors import ArgumentError


class Generator:
    """A seeded source of randomness, like ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self._seed = int(np.random.SeedSequence().entropy % (2**63))
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed):
        """Reset the stream from ``seed`` (an int); returns self."""
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
            raise ArgumentError(f"manual_seed: seed must be an int, got {seed!r}")
        self._seed = int(seed) % (2**64)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self):
        """Seed from fresh OS entropy and return the seed used."""
        self.manual_seed(int(np.random.SeedSequence().entropy % (2**63)))
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        """The full stream state as a plain dict (JSON-serialisable ints)."""
        st = self._rng.bit_generator.state
        return {
            "seed": self._seed,
            "state": int(st["state"]["state"]),
            "inc": int(st["state"]["inc"]),
            "has_uint32": int(st["has_uint32"]),
            "uinteger": int(st["uinteger"]),
        }

    def set_state(self, state):
        """Restore a state from :meth:`get_state`; the stream continues exactly."""
        try:
            self._seed = int(state["seed"])
            self._rng.bit_generator.state = {
                "bit_generator": "PCG64",
                "state": {"state": int(state["state"]), "inc": int(state["inc"])},
                "has_uint32": int(state["has_uint32"]),
                "uinteger": int(state["uinteger"]),
            }
        except (KeyError, TypeError, ValueError) as e:
            raise ArgumentError(
                f"Generator.set_state: expected a dict from get_state(), got {state!r}"
            ) from e
        return self

    @property
    def numpy(self):
        """The underlying ``numpy.random.Generator`` (used inside ``ops/``)."""
        return self._rng


default_generator = Generator().manual_seed(0)


def manual_seed(seed):
    """Seed the default generator; returns it, as PyTorch does."""
    return default_generator.manual_seed(seed)


def seed():
    return default_generator.seed()


def initial_seed():
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state):
    default_generator.set_state(state)


def rng(generator=None):
    """The NumPy generator to draw from: ``generator``'s or the default's."""
    return (generator or default_generator)._rng
