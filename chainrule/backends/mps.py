"""Apple's Metal backend: not available to chainrule."""


def is_available():
    """False: chainrule computes on the CPU."""
    return False


def is_built():
    return False
