"""Fixtures: the project's database read once per test process (one_read_per_database, for every test), and the
dashboard's Oversikt, Tjenester and 404 page modules on the real database (fetched db, else the snapshot; pages),
skipped with the reason when there is none."""

import dataclasses
import sys
import threading
from pathlib import Path

import pytest

from drivers.config import Settings


@pytest.fixture(scope="session", autouse=True)
def one_read_per_database():
    """The project's read-only databases (data/snapshot.duckdb, a fetched data/drivers.duckdb) are read from disk
    once per test process. drivers.report.data reads the whole file into a Bundle (the Panel, the map's boundaries,
    what Metode shows: ~1.5 s of CPU) at the first use after every `data.configure()`, and ~25 test modules
    configure it (create_app does): a later read of the same file, unchanged (same path and identity), is a copy
    of the first Bundle with a new number. So it is a new data version, as a read of the file would be: every
    cache keyed on the version forgets (each module's pages start cold, as before); the engine's Panel, immutable
    data whose own caches are keyed on their inputs, is the one read first. Any other file (the tests' copies,
    a file written in place or renamed onto the path) is read as the code reads it, and so is this one while a
    preloaded app's warm-up thread runs: it stops when the Panel changes, as it would after a read.
    Measured on the dashboard's 14 page modules run serially (2-core machine, loaded): 46.9 s of CPU without,
    25.6 s with."""
    from drivers.report import data

    settings = Settings.from_env()
    ours = {p.resolve() for p in (settings.database_for_reading(), settings.snapshot_path) if p.exists()}
    real = data._read  # an AttributeError here: the data layer was refactored, adapt this fixture
    first: dict[tuple, data.Bundle] = {}

    def read(path):
        resolved = Path(path).resolve()
        if resolved not in ours or any(t.name == "drivers-warm" for t in threading.enumerate()):
            return real(path)
        key = (resolved, data.identity(resolved))
        bundle = first.get(key)
        if bundle is None:
            bundle = first[key] = real(path)
            return bundle
        with data._lock:
            data._loads += 1
            number = data._loads
        return dataclasses.replace(bundle, path=Path(path), number=number)

    data._read = read
    yield
    data._read = real


@pytest.fixture(scope="module")
def pages():
    settings = Settings.from_env()
    if not settings.database_for_reading().exists():
        pytest.skip(f"no database at {settings.database_for_reading()}: run `drivers snapshot build`")
    from drivers.ui.app import create_app

    create_app(settings, preload=False)
    return {name: sys.modules[f"pages.{name}"] for name in ("oversikt", "tjenester", "feil")}


# Image export through kaleido (headless Chromium): left out of `make test-fast`. The export tests are other
# helpers' files, so they are marked here, by module or by the fixture that starts kaleido's browser (a test that
# carries @pytest.mark.kaleido itself needs no entry).
KALEIDO_MODULES = {"test_export_images", "test_export_tables", "test_export_deck", "test_export_map_offline"}
KALEIDO_FIXTURES = {"chromium", "offline_renderer", "warm"}
# Slow for the edit-test loop, measured on this 2-core machine (a run of the fast tier, 2026-12-02): modules whose
# fixtures build the snapshot from ../shared (5-7 s each), and tests of ≥ 1 s (subprocesses, real files, every
# municipality). The owners may move these into their files as @pytest.mark.slow; then the entry can go.
SLOW_MODULES = {"test_snapshot", "test_snapshot_series", "test_export_story", "test_cli_data"}
SLOW_TESTS = {
    "test_architecture.py::test_the_engine_imports_and_computes_without_duckdb",
    "test_engine_api.py::test_show_csv_table_and_errors",
    "test_engine_coverage.py::test_gaps_close_with_other_services",
    "test_engine_show_all.py::test_show_json_for_every_municipality_2024",
    "test_engine_memory.py::test_dashboard_warm_up_set_fits_in_the_bound",
    "test_engine_memory.py::test_evicted_table_is_recomputed_with_the_same_numbers",
    "test_engine_summary.py::test_summary_cache_is_bounded",
    "test_fetch.py::test_faults_leave_the_same_database_as_a_clean_run",
    "test_fetch.py::test_fetch_then_export_round_trip_by_subprocess",
    "test_fetch.py::test_full_07459_at_strict_limits_equals_the_source",
    "test_fetch.py::test_interrupted_table_leaves_the_previous_state",
    "test_fetch.py::test_offline_runs_from_the_cache_and_says_what_is_missing",
    "test_fetch.py::test_sigkill_mid_table_leaves_the_previous_state",
    "test_fetch.py::test_too_many_cells_from_ssb_is_split_and_retried",
    "test_fetch_fixes.py::test_07459_status_symbols_are_kept",
    "test_fetch_fixes.py::test_a_bad_cached_entry_is_deleted_logged_and_fetched_again",
    "test_fetch_fixes.py::test_real_v0_files_keep_every_status_symbol_in_the_store",
    "test_fetch_incremental.py::test_a_refresh_with_nothing_new_is_one_call_per_table_and_writes_nothing",
    "test_fetch_incremental.py::test_no_change_refresh_by_the_real_command_on_real_time",
    "test_fetch_incremental.py::test_population_revisions_are_kept_by_age",
    "test_jsonstat.py::test_v0_files_agree_with_pyjstat",
    "test_peersets.py::test_concurrent_saves_from_processes_lose_nothing",
    "test_ssb_client.py::test_faults_are_retried",
}


SLOW_LIST = Path(__file__).with_name("slow_tests.txt")


def slow_list() -> set[str]:
    """Node ids (relative to tests/) listed in slow_tests.txt: measured >= 0.8 s each."""
    lines = SLOW_LIST.read_text("utf-8").splitlines()
    return {line.strip() for line in lines if line.strip() and not line.startswith("#")}


def pytest_collection_modifyitems(config, items):
    measured = slow_list()
    for item in items:
        node = item.nodeid.removeprefix("tests/")
        if node in measured or node.split("[")[0] in measured:
            item.add_marker(pytest.mark.slow)
        module = getattr(getattr(item, "module", None), "__name__", "")
        if module in KALEIDO_MODULES or KALEIDO_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.kaleido)
        name = f"{module}.py::{getattr(item, 'originalname', item.name)}"
        if module in SLOW_MODULES or name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
