"""Where a stored table's figures come from, read off its provenance row (store.read_tables): SSB's own answer, or
a third party's copy of SSB's figures that the snapshot ships. Pure: a row in, a yes or no out."""

from __future__ import annotations

SSB_SOURCES = ("https://data.ssb.no/",)  # a snapshot table whose source_url starts so is SSB's own recorded response


def third_party(row) -> bool:
    """True for a table the snapshot holds as a third party's copy of SSB's figures (a GitHub file, a workbook):
    neither its `updated` nor its release word (endelig/foreløpig) is SSB's own, so a caption must not call the
    figures final or preliminary but say they are a copy to check against Statistikkbanken before publishing.
    Tables fetched from SSB (origin 'ssb-api'), loaded from an SSB file ('statbank-file') and the snapshot's
    recorded SSB responses (source_url at data.ssb.no) are SSB's. `row`: a provenance row (store.read_tables)."""
    get = row.get if hasattr(row, "get") else (lambda k: getattr(row, k, None))
    origin = str(get("origin") or "")
    if not origin.startswith("snapshot"):
        return False
    return not str(get("source_url") or "").startswith(SSB_SOURCES)
