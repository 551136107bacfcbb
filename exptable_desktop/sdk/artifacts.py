"""Turning an object given to ``upload_artifact`` into a stored file with size, hash and preview."""
from __future__ import annotations

import glob
import gzip
import json
import mimetypes
import pickle
import shutil
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from exptable_desktop.store.files import require_plain_name, safe_component, sha256_of

PREVIEW_CHARS = 1000
ZIP_PREVIEW_FILES = 50


def _text_preview(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(PREVIEW_CHARS * 4)
    except OSError:
        return ""
    if b"\0" in head:
        return ""
    return head.decode("utf-8", errors="replace")[:PREVIEW_CHARS]


def _zip_files(files: list[Path], base: Path, target: Path) -> str:
    """Zip ``files`` under names relative to ``base``; return the preview listing them."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(base).as_posix())
        names = archive.namelist()
    return f"{len(names)} files\n" + "\n".join(names[:ZIP_PREVIEW_FILES])


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "to_csv")


def _could_be_path(obj: Any) -> bool:
    return isinstance(obj, Path) or (isinstance(obj, str) and 0 < len(obj) < 4096 and "\n" not in obj
                                     and "\0" not in obj)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):  # a name too long for the file system is text, not a path
        return False


def _split_pattern(pattern: str) -> tuple[Path, str]:
    """("data", "**/*.jpg") for "data/**/*.jpg": the folder before the first wildcard, and the rest."""
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    return Path(*parts[:first]) if first else Path("."), "/".join(parts[first:])


def _is_wildcard(obj: Any) -> bool:
    if not _could_be_path(obj) or not glob.has_magic(str(obj)) or _exists(Path(obj)):
        return False
    if isinstance(obj, Path):
        return True
    # "What is 2*3?" is text: a str with a space is a pattern only when its folder exists.
    base, _ = _split_pattern(obj)
    return not any(c.isspace() for c in obj) or (base != Path(".") and base.is_dir())


def _matching_files(pattern: str) -> tuple[Path, list[Path]]:
    """As the reference: a wildcard only in the last part matches at any depth below its folder."""
    base, rest = _split_pattern(pattern)
    if not base.is_dir():
        return base, []
    if rest == "**" or rest.endswith("/**"):  # pathlib's "**" alone matches folders only
        rest += "/*"
    found = base.rglob(rest) if "/" not in rest else base.glob(rest)
    return base, sorted(p for p in found if p.is_file())


def _plan(name: str, obj: Any, auto_pickle: bool | None = None) -> tuple[str, str, dict[str, Any], Callable[[Path], str]]:
    """(file name, content type, metadata about the kind, a function writing the file and returning its preview).

    Anything else is pickled, as the reference does, unless ``auto_pickle`` is False.
    """
    stem = safe_component(name)
    if isinstance(obj, SerializedBytes):
        return (f"{stem}{obj.extension}", mimetypes.guess_type(f"x{obj.extension}")[0] or "application/octet-stream",
                {"type": "custom"}, lambda target: _write_bytes(target, obj.data))
    if _is_wildcard(obj):
        pattern = str(obj)
        base, files = _matching_files(pattern)
        if not files:
            raise ValueError(f"artifact {name!r}: no files match {pattern!r}")
        return (f"{base.resolve().name or stem}.zip", "application/zip",
                {"type": "wildcard", "source": str(Path(pattern).absolute())},
                lambda target: _zip_files(files, base, target))
    if _could_be_path(obj) and _exists(Path(obj)):
        source = Path(obj)
        meta = {"source": str(source.resolve())}
        if source.is_dir():
            files = sorted(p for p in source.rglob("*") if p.is_file())
            return (f"{source.resolve().name or stem}.zip", "application/zip", {"type": "folder", **meta},
                    lambda target: _zip_files(files, source, target))

        def copy(target: Path) -> str:
            shutil.copyfile(source, target)
            return _text_preview(target)
        return (source.name, mimetypes.guess_type(source.name)[0] or "application/octet-stream",
                {"type": "file", **meta}, copy)
    if isinstance(obj, dict):
        text = json.dumps(obj, indent=2, sort_keys=True, default=str)
        return f"{stem}.json", "application/json", {"type": "dict"}, lambda target: _write_text(target, text)
    if isinstance(obj, str):
        return f"{stem}.txt", "text/plain", {"type": "str"}, lambda target: _write_text(target, obj)
    if isinstance(obj, np.ndarray):
        # As the reference: a compressed .npz holding the array under the artifact's name.
        def save(target: Path) -> str:
            with open(target, "wb") as handle:
                np.savez_compressed(handle, **{name: obj})
            return f"shape={obj.shape} dtype={obj.dtype}\n" + np.array2string(obj, threshold=50)[:PREVIEW_CHARS]
        return f"{stem}.npz", "application/numpy", {"type": "numpy"}, save
    if _is_dataframe(obj):
        def to_csv(target: Path) -> str:
            with gzip.open(target, "wt", encoding="utf-8", newline="") as handle:
                obj.to_csv(handle)
            return f"{obj.shape[0]} rows x {obj.shape[1]} columns\n" + obj.head(10).to_string()[:PREVIEW_CHARS]
        return f"{stem}.csv.gz", "text/csv+gzip", {"type": "pandas"}, to_csv
    if _is_pil_image(obj):
        image_format = (getattr(obj, "format", None) or "PNG").upper()
        extension = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif", "WEBP": ".webp", "BMP": ".bmp",
                     "TIFF": ".tiff"}.get(image_format, ".png")

        def save_image(target: Path) -> str:
            obj.save(target, format=image_format if extension != ".png" else "PNG")
            return f"{image_format} image {obj.size[0]}x{obj.size[1]} {obj.mode}"
        return (f"{stem}{extension}", mimetypes.guess_type(f"x{extension}")[0] or "image/png", {"type": "image"},
                save_image)
    if auto_pickle is False:
        raise TypeError(f"upload_artifact cannot store a {type(obj).__name__} with auto_pickle=False: give a path, "
                        "folder, wildcard, dict, str, numpy array, pandas DataFrame or PIL image")
    try:  # pickled now, so an object that cannot be pickled leaves the previous version in place
        data = pickle.dumps(obj)
    except Exception as exc:
        raise TypeError(f"upload_artifact cannot store a {type(obj).__name__}: it cannot be pickled "
                        f"({type(exc).__name__}: {exc})") from None

    def save_pickle(target: Path) -> str:
        target.write_bytes(data)
        return repr(obj)[:PREVIEW_CHARS]
    return f"{stem}.pkl", "application/pickle", {"type": "pickle"}, save_pickle


def _is_pil_image(obj: Any) -> bool:
    return any(cls.__module__.startswith("PIL.") and cls.__name__ == "Image" for cls in type(obj).__mro__)


class SerializedBytes:
    """What ``upload_artifact(serialization_function=...)`` made of the object: stored as these bytes."""

    def __init__(self, data: bytes, extension: str):
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"serialization_function must return bytes, not {type(data).__name__}")
        self.data = bytes(data)
        self.extension = extension if not extension or extension.startswith(".") else f".{extension}"


def _write_bytes(target: Path, data: bytes) -> str:
    target.write_bytes(data)
    return _text_preview(target)


def _write_text(target: Path, text: str) -> str:
    target.write_text(text, encoding="utf-8")
    return text[:PREVIEW_CHARS]


def store_artifact(name: str, obj: Any, folder: Path, metadata: dict | None = None,
                   auto_pickle: bool | None = None) -> dict:
    """Write ``obj`` under ``folder/<name>/`` (``name`` made one safe folder name) and return the
    artifact row for ``record_batch``.

    The old ``folder/<name>`` is replaced only once ``obj`` is known to be storable, so a
    refused upload leaves the previous version of the artifact in place.
    """
    require_plain_name(name, "artifact name")
    filename, content_type, kind_meta, write = _plan(name, obj, auto_pickle)
    target_dir = folder / safe_component(name)
    if target_dir.is_symlink() or target_dir.is_file():
        target_dir.unlink()
    elif target_dir.exists():
        shutil.rmtree(target_dir)
    target_dir.mkdir(parents=True)
    target = target_dir / filename
    preview = write(target)
    meta = dict(metadata or {})
    meta.update({f"_{k}": v for k, v in kind_meta.items()})
    return {"name": name, "kind": "artifact", "mode": "output", "uri": str(target), "in_storage": True,
            "size": target.stat().st_size, "hash": sha256_of(target), "content_type": content_type,
            "preview": preview, "metadata": meta}
