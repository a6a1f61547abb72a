"""Op rows: reduce."""
ROWS = []
