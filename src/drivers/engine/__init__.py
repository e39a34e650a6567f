"""The drivers engine: indicators, peer groups, gaps in kroner and their decomposition (pure pandas/numpy).

    from drivers.engine import Panel, indicators, api
    from drivers.loading import load_panel          # building a Panel from the store lives outside the engine

No environment, file, configuration or database access in this package (tests/test_architecture.py checks it);
saved peer sets come in as data (api.PeerSet, made by drivers.peersets).
"""

from drivers.engine import api, indicators
from drivers.engine.panel import Panel
from drivers.engine.peers import PeerSet

__all__ = ["Panel", "PeerSet", "indicators", "api"]
