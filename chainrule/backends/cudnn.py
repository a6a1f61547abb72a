"""cuDNN's switches: accepted and ignored (chainrule does not use cuDNN)."""
enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available():
    """False: chainrule does not use cuDNN."""
    return False


def version():
    """None, as PyTorch reports without cuDNN."""
    return None
