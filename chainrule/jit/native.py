"""Native backend (placeholder)."""


def lower(graph, required=False):
    return graph


def available():
    return False
