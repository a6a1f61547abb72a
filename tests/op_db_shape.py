"""Op rows: shape."""
ROWS = []
