"""Bundles: a lossless round trip from SQLite to PostgreSQL, ids kept, present ones skipped,
escaping entries refused before anything is written, and all or nothing."""
from __future__ import annotations

import json
import math
import os
import stat
import zipfile
from pathlib import Path

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.recording import create_experiment, record_batch, record_lifecycle
from exptable_desktop.io.bundle import BundleCancelled, BundleError, export_bundle, import_bundle
from exptable_desktop.io.demo import make_demo
from exptable_desktop.io.importers import run_import
from exptable_desktop.store import close_database, open_database
from exptable_desktop.store.schema import Experiment

from io_support import SESSION_ZIP, files_under, portable_snapshot, raw_snapshot
from pg_support import drop_pg_database, new_pg_database

PG_URL = os.environ.get("EXPTABLE_TEST_PG_URL")


def _fill_source() -> list[str]:
    """Every kind of row an experiment can own: the demo's (nested projects, coloured tags, queue
    entries, parents, curves, console, plots, PNG samples, artifact files and remote ones), an
    imported ClearML session (absolute artifact paths), NaN and infinite values, an inline sample."""
    make_demo(40, seed=5, detailed=6, images=3)
    run_import("clearml", str(SESSION_ZIP))
    odd = create_experiment("edge/cases", "odd values ✓", status=st.RUNNING, tags=["ünï", "best"],
                            description="line one\nline two\ttab")
    record_batch(odd, scalars=[("m", "nan", 0, math.nan, 1.5), ("m", "inf", 1, math.inf, 2.5),
                               ("m", "inf", 2, -math.inf, 3.5)],
                 debug_samples=[{"metric": "inline", "variant": "png", "iteration": 1, "data": b"\x89PNG\0\1\2",
                                 "content_type": "image/png"}],
                 single_values={"nan_value": math.nan})
    record_lifecycle(odd, status=st.FAILED, status_reason="boom", completed=10.0)
    return [i for (i,) in Experiment.select(Experiment.id).order_by(Experiment.id).tuples()]


@pytest.mark.skipif(not PG_URL, reason="EXPTABLE_TEST_PG_URL not set")
@pytest.mark.pg
def test_round_trip_sqlite_to_postgresql_is_lossless_table_by_table(tmp_path, monkeypatch):
    source_files, target_files = tmp_path / "files-sqlite", tmp_path / "files-pg"
    monkeypatch.setenv("EXPTABLE_FILES", str(source_files))
    open_database(f"sqlite:///{tmp_path / 'source.db'}")
    try:
        ids = _fill_source()
        expected = portable_snapshot(source_files)
        expected_files = files_under(source_files)
        stats = export_bundle(ids, tmp_path / "runs.etb")
    finally:
        close_database()
    assert stats.experiments == len(ids) and stats.files == len(expected_files) > 10
    assert all(expected[name] for name in ("scalar_chunk", "console_chunk", "plot", "debug_sample", "artifact",
                                           "queue_entry", "experiment_tag", "hyper_param", "config_object"))

    url = new_pg_database("exptable_io_")
    monkeypatch.setenv("EXPTABLE_FILES", str(target_files))
    try:
        open_database(url)
        result = import_bundle(tmp_path / "runs.etb")
        assert sorted(result.imported) == ids and not result.skipped and not result.notes
        actual = portable_snapshot(target_files)
        for table in expected:
            assert actual[table] == expected[table], f"table {table} differs"
        assert files_under(target_files) == expected_files
        again = import_bundle(tmp_path / "runs.etb")
        assert again.imported == [] and sorted(again.skipped) == ids
    finally:
        close_database()
        drop_pg_database(url)


@pytest.fixture
def bundle(db, tmp_path) -> tuple[Path, list[str]]:
    make_demo(8, seed=2, detailed=3, images=2)
    ids = [i for (i,) in Experiment.select(Experiment.id).order_by(Experiment.id).tuples()]
    export_bundle(ids, tmp_path / "runs.etb")
    return tmp_path / "runs.etb", ids


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """Switch to a new, empty SQLite database (and files folder) named ``name``."""
    def switch(name: str) -> None:
        close_database()
        monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / f"files-{name}"))
        open_database(f"sqlite:///{tmp_path / (name + '.db')}")
    return switch



def _with_member(source: Path, target: Path, name: str, data: bytes = b"x", *, symlink: bool = False) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        info = zipfile.ZipInfo(name)
        if symlink:
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
        dst.writestr(info, data)
    return target


@pytest.mark.parametrize("member", ["../evil.txt", "/tmp/evil-abs.txt", "files/{id}/../../../evil.txt",
                                    "files/{id}/a/../../../evil.txt", "files/0000notinthebundle/x.txt",
                                    "C:/evil.txt", "files\\{id}\\..\\..\\evil.txt", "symlink"])
def test_a_bundle_with_an_escaping_entry_is_refused_and_nothing_written(bundle, tmp_path, fresh, member):
    source, ids = bundle
    name = member.format(id=ids[0]) if member != "symlink" else f"files/{ids[0]}/link"
    evil = _with_member(source, tmp_path / "evil.etb", name, b"/etc/passwd" if member == "symlink" else b"x",
                        symlink=member == "symlink")
    fresh("target")
    before, files = raw_snapshot(), files_under(tmp_path / "files-target")
    with pytest.raises(BundleError) as caught:
        import_bundle(evil)
    message = str(caught.value)
    assert message.startswith("refusing evil.etb:") and "\n" not in message and "nothing was imported" in message
    assert raw_snapshot() == before and files_under(tmp_path / "files-target") == files
    assert not list(tmp_path.parent.glob("evil*.txt")) and not Path("/tmp/evil-abs.txt").exists()


def test_ids_kept_present_ones_skipped_and_reported(bundle, tmp_path, fresh):
    source, ids = bundle
    fresh("target")
    keep = create_experiment("mine", "already here")
    first = import_bundle(source)
    assert sorted(first.imported) == ids and Experiment.select().count() == len(ids) + 1
    assert Experiment.get_by_id(keep).name == "already here"
    second = import_bundle(source)
    assert second.imported == [] and sorted(second.skipped) == ids
    assert "skipped 8 already in this database" in second.summary("runs.etb")


def test_a_cancelled_or_broken_import_leaves_database_and_files_as_they_were(bundle, tmp_path, fresh):
    source, ids = bundle
    fresh("target")
    before, files = raw_snapshot(), files_under(tmp_path / "files-target")
    with pytest.raises(BundleCancelled):
        import_bundle(source, on_progress=lambda done, total: done < 2)
    assert raw_snapshot() == before and files_under(tmp_path / "files-target") == files

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(tmp_path / "broken.etb", "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "tables/console_chunk.jsonl":
                data += b'{"experiment": "cut sho'
            dst.writestr(info, data)
    with pytest.raises(BundleError, match="console_chunk.jsonl line .* is not valid JSON"):
        import_bundle(tmp_path / "broken.etb")
    assert raw_snapshot() == before and files_under(tmp_path / "files-target") == files


def test_manifest_checks(bundle, tmp_path):
    source, _ids = bundle
    with zipfile.ZipFile(source) as src:
        manifest = json.loads(src.read("manifest.json"))
    assert manifest["format"] == "exptable-bundle" and manifest["schema_version"] == 1
    assert manifest["tables"]["experiment"]["rows"] == 8
    newer = dict(manifest, schema_version=99)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(tmp_path / "newer.etb", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, json.dumps(newer) if info.filename == "manifest.json" else src.read(info))
    with pytest.raises(BundleError, match="written by a newer ExpTable"):
        import_bundle(tmp_path / "newer.etb")
    (tmp_path / "plain.zip").write_bytes(b"not a zip at all")
    with pytest.raises(BundleError, match="not a readable bundle"):
        import_bundle(tmp_path / "plain.zip")
    with pytest.raises(BundleError, match="no experiment with id nope"):
        export_bundle(["nope"], tmp_path / "x.etb")
    assert not (tmp_path / "x.etb").exists()


def test_a_parent_outside_the_bundle_is_dropped_with_a_note(db, tmp_path, fresh):
    parent = create_experiment("p", "parent")
    child = create_experiment("p", "child", parent=parent)
    export_bundle([child], tmp_path / "child.etb")
    fresh("target")
    result = import_bundle(tmp_path / "child.etb")
    assert result.imported == [child] and Experiment.get_by_id(child).parent_id is None
    assert result.notes and parent in result.notes[0]
