"""Honest captions (issue 14 item 5): «endelig/foreløpig» and SSB's date only for figures SSB itself answered; the
snapshot's third-party copies say so and ask for a check against Statistikkbanken (real snapshot provenance)."""

from __future__ import annotations

import pandas as pd
import pytest
from ui_pages_data import database

from drivers import figures, provenance, store


@pytest.fixture(scope="module")
def tables():
    con = store.connect(database(), read_only=True)
    try:
        return store.read_tables(con)
    finally:
        con.close()


def _row(tables, table_id: str) -> dict:
    rows = tables[tables["table_id"].astype(str) == table_id]
    if not len(rows):
        pytest.skip(f"table {table_id} is not in this database")
    return rows.iloc[0].to_dict()


def test_the_snapshots_copy_of_12362_is_not_called_final(tables):
    row = _row(tables, "12362")
    if not provenance.third_party(row):
        pytest.skip("12362 here is SSB's own answer (a fetched database): nothing to check")
    for lang, copy_word, release_words in (("nb", "tredjepartskopi", ("endelig", "foreløpig")),
                                           ("en", "third-party copy", ("final", "preliminary"))):
        line = figures.source_line(tables, ["12362"], 2024, lang=lang)
        assert copy_word in line and "Statistikkbanken" in line, line
        assert not any(w in line.lower() for w in release_words), line


def test_ssbs_own_answer_keeps_its_date(tables):
    row = _row(tables, "12134")
    assert not provenance.third_party(row)  # the snapshot's recorded PxWebApi v2 response for 12134
    line = figures.source_line(tables, ["12134"], 2024)
    assert "tredjepartskopi" not in line
    updated = row.get("updated")
    if updated is not None and not pd.isna(updated):
        assert f"oppdatert {pd.Timestamp(updated):%d.%m.%Y}" in line, line


def test_a_table_the_database_has_no_provenance_for_is_not_passed_off_as_ssbs(tables):
    if "07459" in set(tables["table_id"].astype(str)):
        pytest.skip("07459 has a provenance row here (a fetched database)")
    # the snapshot's population (07459) is a third party's copy with no provenance row
    assert "kopi uten registrert opphav" in figures.source_line(tables, ["07459"], 2024)
    assert "copy of unrecorded origin" in figures.source_line(tables, ["07459"], 2024, lang="en")
