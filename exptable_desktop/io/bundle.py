"""Bundles (``.etb``): experiments with everything they own, to carry between machines and databases.

A bundle is one zip (see docs/formats.md):

- ``manifest.json``: format, bundle schema version, the database schema it was written from,
  the experiments, and per table its file and row count; per file its size and SHA-256.
- ``tables/<table>.jsonl``: one JSON object per row of every table an experiment owns (its row,
  execution, tags, hyperparameters, configuration, metric summaries, scalar chunks, single
  values, plots, debug samples, console, artifacts, queue entry, and any table added later that
  refers to an experiment). Autoincrement ids are left out; references to projects, tags and
  queues are written as their names (paths), blobs as base64, non-finite floats spelled out,
  and paths into the experiment's own folder as paths relative to it.
- ``files/<experiment id>/...``: every file in the experiment's folder (artifacts, debug samples).

Importing keeps the experiments' ids, skips (and reports) those already present, and refuses
a bundle any of whose entries would land outside its folder, before writing anything. It is
one transaction: a bundle that fails to import leaves the database (and the files) as they were.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import math
import re
import shutil
import stat
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator

from peewee import AutoField, BlobField, ForeignKeyField, Model

from exptable_desktop import __version__
from exptable_desktop.core.actions import get_or_create_queue
from exptable_desktop.core.projects import get_or_create_project, project_paths
from exptable_desktop.io.importers.common import remove_written_files
from exptable_desktop.store import files as store_files
from exptable_desktop.store import migrations
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import require_writable, write_transaction
from exptable_desktop.store.schema import (
    ALL_MODELS,
    Artifact,
    DebugSample,
    Experiment,
    Project,
    Queue,
    Tag,
    Worker,
)

FORMAT = "exptable-bundle"
SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
# Columns holding a path that may point into the experiment's own folder.
PATH_COLUMNS = {(Artifact, "uri"), (DebugSample, "path")}
# Stamped by a trigger in each database (commit order there); meaningless in another one.
LOCAL_COLUMNS = {(Experiment, "change_seq")}
# Tables that refer to an experiment without belonging to it.
NOT_OWNED = {Worker}
_INSERT_BATCH = 200


class BundleError(Exception):
    """A bundle that cannot be written or read; the text is one line."""


class BundleCancelled(Exception):
    """A bundle export or import stopped by the person (its progress callback said so); nothing is left half-written."""


# ---- Which tables, which columns ---------------------------------------------------------------

def owned_models() -> list[type[Model]]:
    """Experiment first, then every table with a reference to an experiment (schema order)."""
    out = [Experiment]
    for model in ALL_MODELS:
        if model is Experiment or model in NOT_OWNED:
            continue
        if any(isinstance(f, ForeignKeyField) and f.rel_model is Experiment for f in model._meta.sorted_fields):
            out.append(model)
    return out


def _experiment_field(model) -> ForeignKeyField | None:
    if model is Experiment:
        return None
    return next(f for f in model._meta.sorted_fields if isinstance(f, ForeignKeyField) and f.rel_model is Experiment)


def _columns(model) -> list:
    return [f for f in model._meta.sorted_fields
            if not isinstance(f, AutoField) and (model, f.name) not in LOCAL_COLUMNS]


# ---- Encoding values -------------------------------------------------------------------------

def _encode_float(value: float):
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    return value


def _decode(value):
    if isinstance(value, dict):
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        if "$float" in value:
            return float(value["$float"])
    return value


@dataclass
class _Refs:
    """Natural keys of the rows other tables point at: project paths, tag names, queue names."""
    projects: dict[int, str]
    tags: dict[int, dict[str, Any]]
    queues: dict[int, str]


def _encode_row(model, row: dict[str, Any], refs: _Refs, folder: str) -> dict[str, Any]:
    out = {}
    for f in _columns(model):
        value = row[f.name]
        if value is None:
            out[f.name] = None
        elif isinstance(f, ForeignKeyField) and f.rel_model is Project:
            out[f.name] = {"$project": refs.projects[value]}
        elif isinstance(f, ForeignKeyField) and f.rel_model is Tag:
            out[f.name] = {"$tag": refs.tags[value]}
        elif isinstance(f, ForeignKeyField) and f.rel_model is Queue:
            out[f.name] = {"$queue": refs.queues[value]}
        elif isinstance(f, BlobField):
            out[f.name] = {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
        elif isinstance(value, float):
            out[f.name] = _encode_float(value)
        elif (model, f.name) in PATH_COLUMNS and _inside(str(value), folder):
            text = str(value)
            scheme = "file://" if text.startswith("file://") else ""
            relative = PurePosixPath(Path(text[len(scheme):]).relative_to(folder)).as_posix()
            out[f.name] = {"$file": relative, "scheme": scheme} if scheme else {"$file": relative}
        else:
            out[f.name] = value
    return out


def _inside(path: str, folder: str) -> bool:
    path = path[len("file://"):] if path.startswith("file://") else path
    try:
        Path(path).relative_to(folder)
    except ValueError:
        return False
    return True


# ---- Export ----------------------------------------------------------------------------------

@dataclass
class ExportStats:
    """What a bundle export wrote: experiments, rows per table, files, bytes and time."""
    experiments: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def summary(self, target: str) -> str:
        return (f"wrote {self.experiments} experiment{'s' if self.experiments != 1 else ''} to {target}: "
                f"{sum(self.rows.values()):,} rows, {self.files} files, {self.bytes / 1e6:.1f} MB "
                f"in {self.seconds:.1f} s")


def _rows_of(model, ids: list[str]) -> Iterator[dict[str, Any]]:
    fk = _experiment_field(model)
    key = Experiment.id if fk is None else fk
    order = [f for f in (model._meta.primary_key,) if f is not None and not isinstance(f, ForeignKeyField)]
    for chunk in chunked(ids):
        query = model.select(*model._meta.sorted_fields).where(key.in_(chunk))
        if order:
            query = query.order_by(*order)
        yield from query.dicts().iterator()


def export_bundle(experiment_ids: Iterable[str], target: str | Path,
                  on_progress: Callable[[int, int], bool | None] | None = None) -> ExportStats:
    """Write the experiments ``experiment_ids`` into the bundle ``target`` (replaced if present)."""
    clock = time.perf_counter()
    ids = list(dict.fromkeys(experiment_ids))
    if not ids:
        raise BundleError("no experiments to put in the bundle")
    found = {i for i in ids if Experiment.select().where(Experiment.id == i).exists()}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise BundleError(f"no experiment with id {unknown[0]}" + (f" (and {len(unknown) - 1} more)"
                                                                   if len(unknown) > 1 else ""))
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    refs = _Refs(project_paths(),
                 {t.id: {"name": t.name, "background": t.background, "foreground": t.foreground}
                  for t in Tag.select()},
                 {q.id: q.name for q in Queue.select()})
    stats = ExportStats(experiments=len(ids))
    manifest: dict[str, Any] = {
        "format": FORMAT, "schema_version": SCHEMA_VERSION, "database_schema_version": migrations.CURRENT_VERSION,
        "exptable_version": __version__, "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "experiments": [], "tables": {}, "files": []}
    names = dict(Experiment.select(Experiment.id, Experiment.name).where(Experiment.id.in_(ids)).tuples())
    projects = dict(Experiment.select(Experiment.id, Experiment.project).where(Experiment.id.in_(ids)).tuples())
    manifest["experiments"] = [{"id": i, "name": names[i], "project": refs.projects.get(projects[i], "")}
                               for i in ids]
    folders = {i: str(store_files.experiment_folder(i)) for i in ids}
    try:
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
            for model in owned_models():
                name = model._meta.table_name
                entry = f"tables/{name}.jsonl"
                count = 0
                fk = _experiment_field(model)
                with archive.open(entry, "w", force_zip64=True) as raw:
                    out = io.TextIOWrapper(raw, encoding="utf-8", newline="\n")
                    for row in _rows_of(model, ids):
                        owner = row["id"] if fk is None else row[fk.name]
                        out.write(json.dumps(_encode_row(model, row, refs, folders[owner]), ensure_ascii=False,
                                             allow_nan=False, separators=(",", ":")) + "\n")
                        count += 1
                    out.flush()
                    out.detach()
                manifest["tables"][name] = {"file": entry, "rows": count,
                                            "columns": [f.name for f in _columns(model)]}
                stats.rows[name] = count
            for n, exp_id in enumerate(ids, 1):
                folder = Path(folders[exp_id])
                if folder.is_dir():
                    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
                        relative = path.relative_to(folder).as_posix()
                        member = f"files/{exp_id}/{relative}"
                        digest = hashlib.sha256()
                        with open(path, "rb") as src, archive.open(member, "w", force_zip64=True) as dst:
                            while chunk := src.read(1 << 20):
                                digest.update(chunk)
                                dst.write(chunk)
                        size = path.stat().st_size
                        manifest["files"].append({"path": member, "size": size, "sha256": digest.hexdigest()})
                        stats.files += 1
                        stats.bytes += size
                if on_progress is not None and on_progress(n, len(ids)) is False:
                    raise BundleCancelled("bundle export cancelled")
            archive.writestr(MANIFEST, json.dumps(manifest, indent=1, ensure_ascii=False))
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    stats.seconds = time.perf_counter() - clock
    return stats


# ---- Import ----------------------------------------------------------------------------------

@dataclass
class ImportStats:
    """What a bundle import did: experiments imported and skipped, rows, files, notes and time."""
    imported: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already present
    rows: int = 0
    files: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, source: str) -> str:
        text = (f"imported {len(self.imported)} experiment{'s' if len(self.imported) != 1 else ''} from {source} "
                f"({self.rows:,} rows, {self.files} files)")
        if self.skipped:
            text += f"; skipped {len(self.skipped)} already in this database"
        return text + f" in {self.seconds:.1f} s"


_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def _check_member(info: zipfile.ZipInfo, ids: set[str], table_files: set[str]) -> str | None:
    """Why the zip entry ``info`` may not be unpacked, or None."""
    name = info.filename
    if "\\" in name or "\0" in name or re.match(r"^[A-Za-z]:", name):
        return f"entry {name!r} is not a plain relative path"
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or "." in path.parts:
        return f"entry {name!r} would be written outside the bundle's folder"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"entry {name!r} is a symbolic link"
    if info.is_dir():
        return None
    if name == MANIFEST or name in table_files:
        return None
    parts = path.parts
    if len(parts) >= 3 and parts[0] == "files":
        if parts[1] not in ids:
            return f"entry {name!r} belongs to no experiment of the bundle"
        return None
    return f"entry {name!r} is not part of the bundle format"


def read_manifest(archive: zipfile.ZipFile, label: str) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except KeyError:
        raise BundleError(f"{label} is not an ExpTable bundle (no {MANIFEST})") from None
    except ValueError as exc:
        raise BundleError(f"{label}: {MANIFEST} is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{label} is not an ExpTable bundle (its manifest says format "
                          f"{manifest.get('format') if isinstance(manifest, dict) else None!r})")
    version = manifest.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise BundleError(f"{label}: bundle schema version {version!r} is not valid")
    if version > SCHEMA_VERSION:
        raise BundleError(f"{label} was written by a newer ExpTable (bundle schema {version}, this one reads up to "
                          f"{SCHEMA_VERSION}); upgrade ExpTable to import it")
    experiments = manifest.get("experiments")
    if not isinstance(experiments, list) or not all(isinstance(e, dict) and _ID.match(str(e.get("id", "")))
                                                    for e in experiments):
        raise BundleError(f"{label}: the manifest's experiment list is not valid")
    return manifest


def check_bundle(archive: zipfile.ZipFile, label: str) -> dict[str, Any]:
    """The bundle's manifest, once every entry is known to stay inside the bundle's folder."""
    manifest = read_manifest(archive, label)
    ids = {str(e["id"]) for e in manifest["experiments"]}
    tables = manifest.get("tables") if isinstance(manifest.get("tables"), dict) else {}
    table_files = {str(t.get("file")) for t in tables.values() if isinstance(t, dict)}
    for name in table_files:
        if not re.match(r"^tables/[A-Za-z0-9_]+\.jsonl$", name):
            raise BundleError(f"refusing {label}: table file {name!r} is not a plain name under tables/")
    for info in archive.infolist():
        reason = _check_member(info, ids, table_files)
        if reason:
            raise BundleError(f"refusing {label}: {reason}; nothing was imported")
    return manifest


class _RefResolver:
    """Project paths, tag and queue names of a bundle turned into this database's ids (made when missing)."""

    def __init__(self):
        self.projects: dict[str, int] = {}
        self.tags: dict[str, int] = {}
        self.queues: dict[str, int] = {}

    def project(self, path: str) -> int:
        if path not in self.projects:
            self.projects[path] = get_or_create_project(path).id
        return self.projects[path]

    def tag(self, spec: dict[str, Any]) -> int:
        name = str(spec["name"])
        if name not in self.tags:
            tag = Tag.get_or_none(Tag.name == name)
            if tag is None:
                tag = Tag.create(name=name, background=spec.get("background"), foreground=spec.get("foreground"))
            self.tags[name] = tag.id
        return self.tags[name]

    def queue(self, name: str) -> int:
        if name not in self.queues:
            self.queues[name] = get_or_create_queue(name).id
        return self.queues[name]


def _decode_row(model, data: dict[str, Any], resolver: _RefResolver, folder: Path) -> dict[str, Any]:
    known = {f.name: f for f in _columns(model)}
    row = {}
    for name, value in data.items():
        f = known.get(name)
        if f is None:
            continue  # a column this version does not have
        if isinstance(value, dict) and "$project" in value:
            value = resolver.project(value["$project"])
        elif isinstance(value, dict) and "$tag" in value:
            value = resolver.tag(value["$tag"])
        elif isinstance(value, dict) and "$queue" in value:
            value = resolver.queue(value["$queue"])
        elif isinstance(value, dict) and "$file" in value:
            relative = PurePosixPath(str(value["$file"]))
            if relative.is_absolute() or ".." in relative.parts:
                raise BundleError(f"a path in table {model._meta.table_name} points outside its experiment's folder")
            value = str(value.get("scheme") or "") + str(folder.joinpath(*relative.parts))
        else:
            value = _decode(value)
        row[name] = value
    return row


def _table_lines(archive: zipfile.ZipFile, entry: str) -> Iterator[dict[str, Any]]:
    try:
        raw = archive.open(entry)
    except KeyError:
        raise BundleError(f"the bundle lacks {entry}, which its manifest lists") from None
    with raw:
        for number, line in enumerate(io.TextIOWrapper(raw, encoding="utf-8"), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise BundleError(f"{entry} line {number} is not valid JSON; nothing was imported") from None
            if not isinstance(row, dict):
                raise BundleError(f"{entry} line {number} is not a row; nothing was imported")
            yield row


def import_bundle(source: str | Path, on_progress: Callable[[int, int], bool | None] | None = None) -> ImportStats:
    """Import the bundle at ``source`` into the open database (see the module docstring)."""
    require_writable()
    clock = time.perf_counter()
    source = Path(source)
    label = source.name
    if not source.is_file():
        raise BundleError(f"no bundle at {source}")
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError) as exc:
        raise BundleError(f"{label} is not a readable bundle ({exc})") from None
    stats = ImportStats()
    written: list[Path] = []
    with archive:
        manifest = check_bundle(archive, label)
        bundle_ids = [str(e["id"]) for e in manifest["experiments"]]
        tables = manifest.get("tables") or {}
        try:
            with write_transaction():
                present = {i for (i,) in Experiment.select(Experiment.id).where(
                    Experiment.id.in_(bundle_ids)).tuples()} if bundle_ids else set()
                stats.skipped = [i for i in bundle_ids if i in present]
                wanted = [i for i in bundle_ids if i not in present]
                if wanted:
                    _insert_rows(archive, tables, set(wanted), stats)
                    for n, exp_id in enumerate(wanted, 1):
                        written.extend(_unpack_files(archive, exp_id))
                        if on_progress is not None and on_progress(n, len(wanted)) is False:
                            raise BundleCancelled("bundle import cancelled; nothing was imported")
                stats.imported = wanted
                stats.files = len(written)
        except BaseException:
            remove_written_files(written)
            raise
    stats.seconds = time.perf_counter() - clock
    return stats


def _insert_rows(archive: zipfile.ZipFile, tables: dict[str, Any], wanted: set[str], stats: ImportStats) -> None:
    resolver = _RefResolver()
    parents: dict[str, str] = {}
    for model in owned_models():
        spec = tables.get(model._meta.table_name)
        if not isinstance(spec, dict):
            continue
        fk = _experiment_field(model)
        batch: list[dict[str, Any]] = []
        for data in _table_lines(archive, str(spec["file"])):
            owner = str(data.get("id") if fk is None else data.get(fk.name))
            if owner not in wanted:
                continue
            row = _decode_row(model, data, resolver, store_files.experiment_folder(owner))
            if model is Experiment and row.get("parent"):
                parents[owner] = row["parent"]
                row["parent"] = None  # linked once every experiment of the bundle is in
            batch.append(row)
            if len(batch) >= _INSERT_BATCH:
                model.insert_many(batch).execute()
                stats.rows += len(batch)
                batch = []
        if batch:
            model.insert_many(batch).execute()
            stats.rows += len(batch)
    if parents:
        existing = {i for (i,) in Experiment.select(Experiment.id).where(
            Experiment.id.in_(list(set(parents.values())))).tuples()}
        for child, parent in parents.items():
            if parent in existing:
                Experiment.update(parent=parent).where(Experiment.id == child).execute()
            else:
                stats.notes.append(f"{child}: parent {parent} is neither in the bundle nor in this database; "
                                   "imported without it")


def _unpack_files(archive: zipfile.ZipFile, exp_id: str) -> list[Path]:
    folder = store_files.experiment_folder(exp_id)
    prefix = f"files/{exp_id}/"
    out = []
    for info in archive.infolist():
        if info.is_dir() or not info.filename.startswith(prefix):
            continue
        relative = PurePosixPath(info.filename[len(prefix):])
        target = folder.joinpath(*relative.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(info) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        out.append(target)
    return out
