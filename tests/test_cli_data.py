"""`drivers load`, `drivers export` and `drivers snapshot build` through the CLI entry point, on real files."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pandas as pd
import pytest
from shared_data import RAW, SHARED, need_shared

from drivers import store
from drivers.cli import main

BANKRUPTCIES = RAW / "riksdata_v0-jsonstat1_07218_bankruptcies.json"
FIXTURE_12134 = RAW / "pxwebapi-v2_12134_data_0301-4601-5001_KOSAG110000_2024.json"


@pytest.fixture(autouse=True)
def _shared():
    need_shared()


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def test_load_then_export_csv_and_parquet(tmp_path, capsys):
    db = tmp_path / "drivers.duckdb"
    assert main(["load", str(BANKRUPTCIES), "--db", str(db)]) == 0
    assert main(["load", str(FIXTURE_12134), "--db", str(db)]) == 0
    assert "1830 celler fra tabell 07218" in capsys.readouterr().out
    con = store.connect(db, read_only=True)
    tables = store.read_tables(con).set_index("table_id")
    obs = store.read_observations(con, tables=["12134"])
    con.close()
    assert tables.loc["07218", "origin"] == "statbank-file" and tables.loc["12134", "release"] == "foreløpig"
    # the catalog's measure id is put on the cells it knows
    assert set(obs["measure"]) == {"frie_inntekter_per_innbygger_kr"}

    out = tmp_path / "07218.csv"
    assert main(["export", "--table", "07218", "--format", "csv", "--db", str(db), "--out", str(out)]) == 0
    # Norwegian Excel's dialect by default: BOM, `;` between fields, decimal comma
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw[3:].split(b"\r\n")[0].count(b";") == 10
    frame = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig", dtype={"status": str})
    assert len(frame) == 1830 and (frame["status"] == "..").sum() == 82
    assert frame.loc[frame["status"] == "..", "value"].isna().all()
    assert frame.iloc[0][["contents_code", "dims", "value"]].tolist() == ["Foretakkonk", "Tid=1995M01", 225.0]
    plain = tmp_path / "07218-plain.csv"
    assert main(["export", "--table", "07218", "--format", "csv-plain", "--db", str(db), "--out", str(plain)]) == 0
    assert not plain.read_bytes().startswith(b"\xef\xbb\xbf")
    pd.testing.assert_frame_equal(pd.read_csv(plain, dtype={"status": str}), frame)
    pq = tmp_path / "12134.parquet"
    assert main(["export", "--table", "12134", "--format", "parquet", "--db", str(db), "--out", str(pq)]) == 0
    back = pd.read_parquet(pq)
    assert back["value"].tolist() == [81240, 66605, 62853]
    assert back["region_label"].tolist() == ["Oslo - Oslove", "Bergen", "Trondheim - Tråante"]


@pytest.mark.parametrize("bad", [
    SHARED / "geo" / "kommuner_2024.csv",                                   # not JSON
    RAW / "klass-v1_classifications-131_codesAt_2026-01-01_nb.json",        # JSON, not JSON-stat
    RAW / "pxwebapi-v2_error-responses_2026-04-25.json",                    # SSB's error bodies
], ids=["csv", "klass-json", "error-bodies"])
def test_load_of_a_file_that_is_not_jsonstat_changes_nothing(tmp_path, capsys, bad):
    db = tmp_path / "drivers.duckdb"
    assert main(["load", str(FIXTURE_12134), "--db", str(db)]) == 0
    capsys.readouterr()
    before = _digest(db)
    assert main(["load", str(bad), "--db", str(db)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "ikke en JSON-stat-fil" in err and bad.name in err
    assert "Traceback" not in err
    assert _digest(db) == before


def test_load_into_a_new_database_with_bad_input_creates_nothing(tmp_path, capsys):
    db = tmp_path / "new.duckdb"
    assert main(["load", str(SHARED / "geo" / "fylker_2024.csv"), "--db", str(db)]) == 2
    assert main(["load", str(tmp_path / "absent.json"), "--db", str(db)]) == 2
    assert "fant ikke filen" in capsys.readouterr().err
    assert not db.exists()


def test_the_console_script_gives_one_line_and_exit_2():
    bin_dir = __import__("pathlib").Path(sys.executable).parent
    proc = subprocess.run([str(bin_dir / "drivers"), "load", str(SHARED / "geo" / "fylker_2024.csv"), "--db",
                           "/nonexistent-dir/x.duckdb"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("drivers: fylker_2024.csv er ikke en JSON-stat-fil")
    assert "Traceback" not in proc.stderr


def test_export_of_an_unknown_table_is_a_clear_error(tmp_path, capsys):
    db = tmp_path / "drivers.duckdb"
    main(["load", str(FIXTURE_12134), "--db", str(db)])
    capsys.readouterr()
    assert main(["export", "--table", "12362", "--db", str(db), "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert "12362" in err and "12134" in err and not (tmp_path / "x.csv").exists()
    assert main(["export", "--table", "12134", "--db", str(tmp_path / "none.duckdb")]) == 2


def test_snapshot_build_command(tmp_path, capsys):
    out = tmp_path / "snap" / "snapshot.duckdb"
    assert main(["snapshot", "build", "--shared", str(SHARED), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "12362" in text and "ndu_1000kr" in text and "befolkning 2015-2026" in text
    con = store.connect(out, read_only=True)
    assert store.read_meta(con)["built_by"] == "drivers snapshot build"
    con.close()
    assert main(["snapshot", "build", "--shared", str(tmp_path / "nowhere"), "--out", str(tmp_path / "y.duckdb")]) == 2
    assert "missing" in capsys.readouterr().err and not (tmp_path / "y.duckdb").exists()


def test_load_of_a_07459_file_fills_the_population_table(tmp_path):
    """A 07459 JSON-stat2 response (the fake SSB's table, built from the real population file) goes to `population`."""
    import json

    from fakessb.tables import table_07459

    table = table_07459()
    ages = next(d.codes for d in table.dims if d.id == "Alder")
    doc = table.data({"Region": ["0301", "4601"], "Kjonn": ["0"], "Alder": ages, "ContentsCode": ["Personer1"],
                      "Tid": ["2024", "2025"]})
    doc.setdefault("extension", {}).setdefault("px", {})["tableid"] = "07459"
    path = tmp_path / "07459.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    db = tmp_path / "drivers.duckdb"
    assert main(["load", str(path), "--db", str(db)]) == 0
    con = store.connect(db, read_only=True)
    pop = store.read_population(con)
    con.close()
    from drivers import reference

    real = reference.population(SHARED)
    real = real[real["region"].isin(["0301", "4601"]) & real["year"].isin([2024, 2025])]
    merged = pop.merge(real, on=["region", "year", "age"], suffixes=("", "_real"))
    assert len(pop) == len(real) == len(merged) == 2 * 2 * 106
    assert (merged["persons"] == merged["persons_real"]).all()


def test_export_csv_of_the_snapshot_opens_in_columns_in_norwegian_excel(tmp_path, capsys):
    """`drivers export` on the shipped snapshot: a decimal figure is written with a comma, the dims column (which
    holds semicolons) is quoted, and the file reads back with sep=";" decimal="," to the stored values."""
    from drivers.config import Settings

    snap = Settings.from_env().snapshot_path
    out = tmp_path / "12209.csv"
    assert main(["export", "--table", "12209", "--db", str(snap), "--out", str(out)]) == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].split(";")[:4] == ["table_id", "region", "region_label", "year"]
    back = pd.read_csv(out, sep=";", decimal=",", encoding="utf-8-sig", dtype={"region": str, "status": str})
    con = store.connect(snap, read_only=True)
    try:
        stored = store.export_frame(con, "12209")
    finally:
        con.close()
    assert len(back) == len(stored) and back["region"].tolist() == stored["region"].tolist()
    assert back["value"].round(6).equals(stored["value"].astype(float).round(6))
    shares = stored["value"].dropna()
    assert (shares % 1 != 0).any()  # decimals to write: they carry a comma, never a point
    first = shares[shares % 1 != 0].iloc[0]
    assert f"{first}".replace(".", ",") in text
