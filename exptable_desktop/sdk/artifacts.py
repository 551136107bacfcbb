"""Turning an object given to ``upload_artifact`` into a stored file with size, hash and preview."""
from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import shutil
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

PREVIEW_CHARS = 1000


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _text_preview(path: Path) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(PREVIEW_CHARS * 4)
    except OSError:
        return ""
    if b"\0" in head:
        return ""
    return head.decode("utf-8", errors="replace")[:PREVIEW_CHARS]


def _zip_folder(source: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(source).as_posix())


def _is_dataframe(obj: Any) -> bool:
    return type(obj).__name__ == "DataFrame" and hasattr(obj, "to_csv")


def store_artifact(name: str, obj: Any, folder: Path, metadata: dict | None = None) -> dict:
    """Write ``obj`` under ``folder/<name>/`` and return the artifact row for ``record_batch``."""
    if not name or "/" in name or "\\" in name:
        raise ValueError(f"artifact name {name!r} must be non-empty and contain no slash")
    target_dir = folder / name
    if target_dir.exists():
        shutil.rmtree(target_dir)
    target_dir.mkdir(parents=True)
    kind_meta: dict[str, Any] = {}
    preview = ""
    if isinstance(obj, Path) or (isinstance(obj, str) and len(obj) < 4096 and "\n" not in obj
                                 and Path(obj).exists()):
        source = Path(obj)
        if source.is_dir():
            target = target_dir / f"{source.name or name}.zip"
            _zip_folder(source, target)
            content_type, kind_meta["type"] = "application/zip", "folder"
            with zipfile.ZipFile(target) as archive:
                names = archive.namelist()
            preview = f"{len(names)} files\n" + "\n".join(names[:50])
        else:
            target = target_dir / source.name
            shutil.copyfile(source, target)
            content_type = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
            kind_meta["type"] = "file"
            preview = _text_preview(target)
        kind_meta["source"] = str(source.resolve())
    elif isinstance(obj, dict):
        target = target_dir / f"{name}.json"
        text = json.dumps(obj, indent=2, sort_keys=True, default=str)
        target.write_text(text, encoding="utf-8")
        content_type, kind_meta["type"], preview = "application/json", "dict", text[:PREVIEW_CHARS]
    elif isinstance(obj, str):
        target = target_dir / f"{name}.txt"
        target.write_text(obj, encoding="utf-8")
        content_type, kind_meta["type"], preview = "text/plain", "str", obj[:PREVIEW_CHARS]
    elif isinstance(obj, np.ndarray):
        target = target_dir / f"{name}.npy"
        np.save(target, obj, allow_pickle=False)
        content_type, kind_meta["type"] = "application/x-npy", "numpy"
        preview = f"shape={obj.shape} dtype={obj.dtype}\n" + np.array2string(obj, threshold=50)[:PREVIEW_CHARS]
    elif _is_dataframe(obj):
        target = target_dir / f"{name}.csv.gz"
        with gzip.open(target, "wt", encoding="utf-8", newline="") as handle:
            obj.to_csv(handle)
        content_type, kind_meta["type"] = "text/csv+gzip", "pandas"
        preview = f"{obj.shape[0]} rows x {obj.shape[1]} columns\n" + obj.head(10).to_string()[:PREVIEW_CHARS]
    else:
        raise TypeError(f"upload_artifact cannot store a {type(obj).__name__}: give a path, folder, dict, str, "
                        "numpy array or pandas DataFrame")
    meta = dict(metadata or {})
    meta.update({f"_{k}": v for k, v in kind_meta.items()})
    return {"name": name, "kind": "artifact", "mode": "output", "uri": str(target), "in_storage": True,
            "size": target.stat().st_size, "hash": _sha256(target), "content_type": content_type,
            "preview": preview, "metadata": meta}
