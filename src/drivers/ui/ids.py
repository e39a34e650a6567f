"""Component ids shared by the shell, the pages and their tests (one place, so callbacks and tests agree)."""

URL = "url"  # the app's own dcc.Location (refresh="callback-nav"); Dash pages keeps its own as well

# control bar
KOMMUNE = "ctl-kommune"
AAR = "ctl-aar"
PEERS = "ctl-peers"
KONV = "ctl-konv"
LANG = "ctl-lang"
TJENESTE = "ctl-tjeneste"

# page blocks (tests and browser tests look for these)
PAGE_ROOT = "page-root"
ERROR_PAGE = "error-page"
STATE_KEY = "state-key"  # a hidden element holding the canonical query string of the view shown
PROFILE = "oversikt-profil"
SUMMARY = "oversikt-sammendrag"
NAV = "nav"


def chart(chart_id: str) -> str:
    """The id of a chart card's dcc.Graph."""
    return f"graph-{chart_id}"
