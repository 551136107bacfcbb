"""Helpers of the import/export tests: whole-database snapshots to compare, and fixture paths."""
from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

from peewee import AutoField, BlobField, ForeignKeyField

FIXTURE = Path("/work/shared/fixtures/clearml_offline")
SESSION_ID = "offline-7b7cae3d6732458381e26de1e999de5e"
SESSION_ZIP = FIXTURE / f"{SESSION_ID}.zip"
SESSION_DIR = FIXTURE / SESSION_ID
EXPERIMENT_ID = "7b7cae3d6732458381e26de1e999de5e"


def copy_session(tmp_path: Path, *, with_zip: bool = True, name: str = SESSION_ID) -> Path:
    """A private copy of the fixture session (folder, and its zip when asked); returns the folder."""
    folder = tmp_path / "sessions" / name
    shutil.copytree(SESSION_DIR, folder)
    if with_zip:
        shutil.copyfile(SESSION_ZIP, folder.with_name(name + ".zip"))
    return folder


def _value(value):
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


def raw_snapshot() -> dict[str, list[tuple]]:
    """Every row of every table as stored (ids and change counters included), sorted: two equal
    snapshots mean nothing at all was written in between."""
    from exptable_desktop.store.schema import ALL_MODELS

    out = {}
    for model in ALL_MODELS:
        fields = model._meta.sorted_fields
        rows = [tuple(_value(v) for v in row) for row in model.select(*fields).tuples()]
        out[model._meta.table_name] = sorted(rows, key=repr)
    return out


def portable_snapshot(storage_root: Path) -> dict[str, list[tuple]]:
    """The experiments' tables as another database would hold them after a faithful copy: no
    autoincrement ids or change counters, references by name (project path, tag, queue), file
    paths relative to the storage root, plus each stored file's SHA-256."""
    from exptable_desktop.core.projects import project_paths
    from exptable_desktop.io.bundle import LOCAL_COLUMNS, owned_models
    from exptable_desktop.store.schema import Artifact, DebugSample, Project, Queue, Tag

    projects = project_paths()
    tags = {t.id: (t.name, t.background, t.foreground) for t in Tag.select()}
    queues = {q.id: q.name for q in Queue.select()}
    root = str(storage_root)
    out = {}
    for model in owned_models():
        fields = [f for f in model._meta.sorted_fields
                  if not isinstance(f, AutoField) and (model, f.name) not in LOCAL_COLUMNS]
        rows = []
        for row in model.select(*fields).tuples():
            values = []
            for f, v in zip(fields, row):
                v = _value(v)
                if isinstance(f, ForeignKeyField) and v is not None:
                    if f.rel_model is Project:
                        v = ("project", projects[v])
                    elif f.rel_model is Tag:
                        v = ("tag",) + tags[v]
                    elif f.rel_model is Queue:
                        v = ("queue", queues[v])
                if isinstance(f, BlobField) and v is not None:
                    v = hashlib.sha256(bytes(v)).hexdigest()
                if (model, f.name) in ((Artifact, "uri"), (DebugSample, "path")) and isinstance(v, str) and root in v:
                    local = v[len("file://"):] if v.startswith("file://") else v
                    digest = hashlib.sha256(Path(local).read_bytes()).hexdigest() if Path(local).is_file() else None
                    v = (v.replace(root, "<root>"), digest)
                values.append(v)
            rows.append(tuple(values))
        out[model._meta.table_name] = sorted(rows, key=repr)
    return out


def files_under(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()} if root.exists() else {}
