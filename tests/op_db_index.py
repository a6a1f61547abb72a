"""Op rows: index."""
ROWS = []
