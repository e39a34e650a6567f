"""Dash user interface (thin pages over the drivers engine)."""
