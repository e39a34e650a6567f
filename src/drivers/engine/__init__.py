"""The drivers engine: indicators, peer groups, gaps in kroner and their decomposition (pure pandas/numpy).

    from drivers.engine import Panel, load_panel, indicators, api
"""

from drivers.engine import api, indicators
from drivers.engine.panel import Panel, load_panel

__all__ = ["Panel", "load_panel", "indicators", "api"]
