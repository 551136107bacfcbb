"""``StorageManager``: files by URL, as the reference SDK's ``clearml.StorageManager``.

Local paths and ``file://`` URLs need nothing else. ``http(s)://`` downloads use the
standard library. ``s3://``, ``gs://`` and ``azure://`` go through the cloud vendors'
SDKs when installed (the extras ``exptable-desktop[s3]``, ``[gs]``, ``[azure]``); without
one, the call fails with a one-line error naming the extra to install. Credentials
come from each SDK's usual places (environment, config files), never from ExpTable.

Downloads land in a cache folder (``<user cache>/ExpTable/storage``), one folder per URL,
so a second ``get_local_copy`` of the same URL does not download again.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path
from typing import Any

CLOUD_EXTRAS = {"s3": ("boto3", "s3"), "gs": ("google.cloud.storage", "gs"), "azure": ("azure.storage.blob", "azure")}
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


class StorageError(ValueError):
    """A URL that cannot be read or written; the text is one line."""


def cache_root() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("ExpTable", appauthor=False)) / "storage"


def scheme(url: str) -> str:
    """"" for a local path (or file://), else the URL scheme in lower case."""
    text = str(url)
    if text.startswith("file://"):
        return ""
    parsed = urllib.parse.urlparse(text)
    # "C:\\x" parses with scheme "c": a one-letter scheme is a Windows drive.
    return parsed.scheme.lower() if len(parsed.scheme) > 1 and "://" in text else ""


def local_path(url: str | os.PathLike) -> Path:
    text = os.fspath(url)
    if text.startswith("file://"):
        parsed = urllib.parse.urlparse(text)
        text = urllib.parse.unquote(parsed.path)
        if parsed.netloc and parsed.netloc != "localhost":
            text = f"//{parsed.netloc}{text}"
    return Path(text).expanduser()


def _cloud(kind: str):
    module, extra = CLOUD_EXTRAS[kind]
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        raise StorageError(f"{kind}:// URLs need {module.split('.')[0]}: "
                           f"pip install 'exptable-desktop[{extra}]'") from None


def _bucket_key(url: str) -> tuple[str, str]:
    parsed = urllib.parse.urlparse(url)
    return parsed.netloc, parsed.path.lstrip("/")


def _azure_blob(url: str):
    """azure://<account>.blob.core.windows.net/<container>/<path>, with AZURE_STORAGE_KEY or a
    connection string in AZURE_STORAGE_CONNECTION_STRING."""
    blob = _cloud("azure")
    parsed = urllib.parse.urlparse(url)
    container, _, path = parsed.path.lstrip("/").partition("/")
    connection = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if connection:
        service = blob.BlobServiceClient.from_connection_string(connection)
    else:
        service = blob.BlobServiceClient(f"https://{parsed.netloc}", credential=os.environ.get("AZURE_STORAGE_KEY"))
    return service.get_blob_client(container=container, blob=path)


def _download(url: str, target: Path) -> None:
    kind = scheme(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        if kind in ("http", "https"):
            with urllib.request.urlopen(url, timeout=60) as response, open(partial, "wb") as out:
                shutil.copyfileobj(response, out)
        elif kind == "s3":
            bucket, key = _bucket_key(url)
            _cloud("s3").client("s3").download_file(bucket, key, str(partial))
        elif kind == "gs":
            bucket, key = _bucket_key(url)
            _cloud("gs").Client().bucket(bucket).blob(key).download_to_filename(str(partial))
        elif kind == "azure":
            with open(partial, "wb") as out:
                _azure_blob(url).download_blob().readinto(out)
        else:
            raise StorageError(f"cannot read {url}: the {kind}:// scheme is not supported")
        os.replace(partial, target)
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"could not download {url}: {type(exc).__name__}: {exc}") from None
    finally:
        if partial.exists():
            partial.unlink()


def _upload(source: Path, url: str) -> None:
    kind = scheme(url)
    try:
        if kind == "s3":
            bucket, key = _bucket_key(url)
            _cloud("s3").client("s3").upload_file(str(source), bucket, key)
        elif kind == "gs":
            bucket, key = _bucket_key(url)
            _cloud("gs").Client().bucket(bucket).blob(key).upload_from_filename(str(source))
        elif kind == "azure":
            with open(source, "rb") as data:
                _azure_blob(url).upload_blob(data, overwrite=True)
        else:
            raise StorageError(f"cannot write {url}: uploads go to a local folder, file://, s3://, gs:// or azure://")
    except StorageError:
        raise
    except Exception as exc:
        raise StorageError(f"could not upload {source} to {url}: {type(exc).__name__}: {exc}") from None


def _cache_folder(url: str, cache_context: str | None) -> Path:
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]
    return cache_root() / (cache_context or "global") / digest


def _file_name(url: str, name: str | None) -> str:
    base = urllib.parse.unquote(urllib.parse.urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]) or "download"
    return name if name and Path(name).suffix else (f"{name}{''.join(Path(base).suffixes)}" if name else base)


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES) and (zipfile.is_zipfile(path) or tarfile.is_tarfile(path))


def extract_archive(archive: Path, cache_context: str | None = None) -> Path:
    """The folder holding ``archive``'s files, extracted once into the cache (members stay inside it)."""
    stat = archive.stat()
    key = f"{archive.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    target = _cache_folder(key, cache_context) / (archive.name.split(".")[0] or "archive")
    if target.is_dir():
        return target
    staging = target.with_name(target.name + ".extracting")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    root = staging.resolve()
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as handle:
            for member in handle.namelist():
                if not (root / member).resolve().is_relative_to(root):
                    raise StorageError(f"{archive}: member {member!r} would land outside the extraction folder")
            handle.extractall(staging)
    else:
        with tarfile.open(archive) as handle:
            for member in handle.getmembers():
                if member.issym() or member.islnk() or not (root / member.name).resolve().is_relative_to(root):
                    raise StorageError(f"{archive}: member {member.name!r} would land outside the extraction folder")
            handle.extractall(staging)
    os.replace(staging, target)
    return target


class StorageManager:
    """Get, download and upload files by URL (see the module text for which URLs)."""

    @classmethod
    def get_local_copy(cls, remote_url: str, cache_context: str | None = None, extract_archive: bool = True,
                       name: str | None = None, force_download: bool = False) -> str | None:
        """A local path to the file: a local path or file:// URL as it is, anything else downloaded to the
        cache. An archive (.zip, .tar.gz) is extracted and its folder returned, unless ``extract_archive=False``.
        None when the file does not exist (as the reference)."""
        url = os.fspath(remote_url)
        if not scheme(url):
            path = local_path(url)
            if not path.exists():
                return None
        else:
            path = _cache_folder(url, cache_context) / _file_name(url, name)
            if force_download or not path.is_file():
                _download(url, path)
        if extract_archive and path.is_file() and _is_archive(path):
            return str(globals()["extract_archive"](path, cache_context))
        return str(path)

    @classmethod
    def download_file(cls, remote_url: str, local_folder: str | None = None, overwrite: bool = False,
                      skip_zero_size_check: bool = False, silence_errors: bool = False) -> str | None:
        """Copy the file at ``remote_url`` into ``local_folder`` (default: the cache) and return its path."""
        url = os.fspath(remote_url)
        try:
            if local_folder is None:
                return cls.get_local_copy(url, extract_archive=False, force_download=overwrite)
            target = Path(local_folder).expanduser() / _file_name(url, None)
            if target.exists() and not overwrite:
                return str(target)
            if scheme(url):
                _download(url, target)
            else:
                source = local_path(url)
                if not source.is_file():
                    raise StorageError(f"no file {url}")
                target.parent.mkdir(parents=True, exist_ok=True)
                if source.resolve() != target.resolve():
                    shutil.copyfile(source, target)
            if not skip_zero_size_check and target.stat().st_size == 0:
                raise StorageError(f"{url} is empty")
            return str(target)
        except StorageError:
            if silence_errors:
                return None
            raise

    @classmethod
    def upload_file(cls, local_file: str, remote_url: str, wait_for_upload: bool = True,
                    retries: int | None = None) -> str:
        """Copy ``local_file`` to ``remote_url`` (a local path, file://, s3://, gs:// or azure:// URL,
        naming the file itself) and return that URL."""
        source = Path(local_file).expanduser()
        if not source.is_file():
            raise StorageError(f"upload_file: no file {local_file}")
        url = os.fspath(remote_url)
        if scheme(url):
            _upload(source, url)
            return url
        target = local_path(url)
        if url.endswith(("/", os.sep)) or target.is_dir():
            target = target / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.resolve() != target.resolve():
            shutil.copyfile(source, target)
        return url if url.startswith("file://") else str(target)

    @classmethod
    def upload_folder(cls, local_folder: str, remote_url: str, match_wildcard: str | None = None,
                      retries: int | None = None) -> str:
        folder = Path(local_folder).expanduser()
        if not folder.is_dir():
            raise StorageError(f"upload_folder: no folder {local_folder}")
        for path in sorted(folder.rglob(match_wildcard or "*")):
            if path.is_file():
                relative = path.relative_to(folder).as_posix()
                cls.upload_file(str(path), remote_url.rstrip("/") + "/" + relative)
        return remote_url

    @classmethod
    def download_folder(cls, remote_url: str, local_folder: str | None = None, match_wildcard: str | None = None,
                        overwrite: bool = False, skip_zero_size_check: bool = False,
                        silence_errors: bool = False, max_workers: int | None = None) -> str | None:
        """Local folders only (listing a bucket needs the server-side listing the reference uses)."""
        url = os.fspath(remote_url)
        if scheme(url):
            raise StorageError(f"download_folder supports local folders and file:// only, not {url}")
        source = local_path(url)
        if not source.is_dir():
            if silence_errors:
                return None
            raise StorageError(f"download_folder: no folder {url}")
        target = Path(local_folder).expanduser() if local_folder else _cache_folder(url, None)
        for path in sorted(source.rglob(match_wildcard or "*")):
            if path.is_file():
                out = target / path.relative_to(source)
                if overwrite or not out.exists():
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(path, out)
        return str(target)

    @classmethod
    def exists_file(cls, remote_url: str) -> bool:
        url = os.fspath(remote_url)
        if not scheme(url):
            return local_path(url).is_file()
        try:
            return cls.get_local_copy(url, extract_archive=False) is not None
        except StorageError:
            return False

    @classmethod
    def get_file_size_bytes(cls, remote_url: str, silence_errors: bool = False) -> int | None:
        url = os.fspath(remote_url)
        try:
            path = cls.get_local_copy(url, extract_archive=False)
            return Path(path).stat().st_size if path else None
        except (StorageError, OSError):
            if silence_errors:
                return None
            raise

    @classmethod
    def list(cls, remote_url: str, return_full_path: bool = False, with_metadata: bool = False) -> list[Any] | None:
        url = os.fspath(remote_url)
        if scheme(url):
            raise StorageError(f"list supports local folders and file:// only, not {url}")
        folder = local_path(url)
        if not folder.is_dir():
            return None
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        names = [str(p) if return_full_path else p.relative_to(folder).as_posix() for p in files]
        if with_metadata:
            return [{"name": n, "size": p.stat().st_size} for n, p in zip(names, files)]
        return names

    @classmethod
    def set_cache_file_limit(cls, cache_file_limit: int, cache_context: str | None = None) -> int:
        return int(cache_file_limit)  # the cache is never trimmed here: nothing to limit


__all__ = ["StorageManager", "StorageError"]
