"""The ASSS choice (the municipality left out of its own average) is named wherever the peer group is named."""

from __future__ import annotations

from drivers.report import queries
from drivers.report import state as st


def test_peer_label_says_when_the_municipality_is_left_out():
    default = st.parse({"kommune": "3201", "aar": "2024"})
    asss = st.parse({"kommune": "3201", "aar": "2024", "konv": "weighted-excl-self"})
    assert queries.peers_label(default) == "KOSTRA-gruppe 12 (EKG12)"
    assert queries.peers_label(asss) == "KOSTRA-gruppe 12 (EKG12) uten Bærum"
    en = st.parse({"kommune": "3201", "aar": "2024", "konv": "unweighted-excl-self", "lang": "en"})
    assert queries.peers_label(en) == "KOSTRA group 12 (EKG12) excluding Bærum"
    neighbours = st.parse({"kommune": "3201", "aar": "2024", "peers": "naboer", "konv": "weighted-excl-self"})
    assert "uten" not in queries.peers_label(neighbours)  # neighbours never include the municipality
