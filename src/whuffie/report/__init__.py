"""Outputs: the HTML report, safe tabular exports (and, later, the map and graph exports)."""
