"""Reading code from a git repository (a URL or a local folder) without running it.

Used by the New Experiment wizard and ``exptable create`` to check a version
and a script as they are typed, and by the agent to make a working copy.
Every git call has a timeout and never prompts for credentials: a wizard must
not hang on a password prompt nobody sees.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path, PurePosixPath

from exptable_desktop.store.remote_urls import without_credentials

GIT_TIMEOUT_S = 20.0
# The wizard validates as the user types; one ls-remote per URL per this long is enough.
LS_REMOTE_CACHE_S = 30.0
_HEX = re.compile(r"^[0-9a-fA-F]{4,40}$")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")


class RepoError(Exception):
    """A repository, version or path that cannot be used; the text is one line a person can act on."""


def _shown(url: str) -> str:
    """The URL as messages may show it: a token in it is somebody's secret."""
    return without_credentials(url) or ""


def _scrub(text: str, url: str) -> str:
    return text.replace(url, _shown(url)) if url else text


def git_env() -> dict:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -oBatchMode=yes")
    env["LC_ALL"] = "C"
    return env


def run_git(args: list[str], cwd: str | Path | None = None, *, timeout: float = GIT_TIMEOUT_S,
            input_text: str | None = None) -> subprocess.CompletedProcess:
    """Run git; raises RepoError when git is missing or times out (never when it merely fails)."""
    try:
        return subprocess.run(["git", *args], cwd=str(cwd) if cwd else None, capture_output=True, text=True,
                              timeout=timeout, env=git_env(), input=input_text,
                              stdin=None if input_text is not None else subprocess.DEVNULL)
    except FileNotFoundError:
        raise RepoError("git is not installed (or not on PATH)") from None
    except subprocess.TimeoutExpired:
        raise RepoError(f"git {args[0]} took longer than {timeout:.0f} s; is the repository reachable?") from None


def git_error(done: subprocess.CompletedProcess) -> str:
    """The line of git's stderr that says what went wrong."""
    lines = [ln.strip() for ln in (done.stderr or "").splitlines() if ln.strip()]
    for line in lines:
        if line.lower().startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[-1] if lines else f"git exited with code {done.returncode}"


def is_url(repository: str) -> bool:
    """``https://…``, ``ssh://…``, ``file://…`` and scp-like ``git@host:org/repo.git`` are URLs;
    anything else is a folder on this machine."""
    text = (repository or "").strip()
    return "://" in text or bool(_SCP_LIKE.match(text))


def local_folder(repository: str) -> Path:
    return Path(os.path.expanduser(repository.strip())).resolve()


def is_git_folder(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    done = run_git(["rev-parse", "--show-toplevel"], folder)
    return done.returncode == 0


def repo_root(folder: Path) -> Path:
    done = run_git(["rev-parse", "--show-toplevel"], folder)
    if done.returncode != 0:
        raise RepoError(f"{folder} is not a git repository")
    return Path(done.stdout.strip()).resolve()


# ---- versions ------------------------------------------------------------------------

_ls_cache: dict[str, tuple[float, dict[str, str]]] = {}
_ls_lock = threading.Lock()


def ls_remote(url: str, *, use_cache: bool = True) -> dict[str, str]:
    """``{ref name: commit}`` of a remote repository (tags peeled to their commit), plus ``HEAD``."""
    now = time.monotonic()
    with _ls_lock:
        cached = _ls_cache.get(url)
        if use_cache and cached and now - cached[0] < LS_REMOTE_CACHE_S:
            return cached[1]
    done = run_git(["ls-remote", url])
    if done.returncode != 0:
        raise RepoError(f"cannot read repository {_shown(url)}: {_scrub(git_error(done), url)}")
    refs: dict[str, str] = {}
    for line in done.stdout.splitlines():
        sha, _, ref = line.partition("\t")
        if not ref:
            continue
        if ref.endswith("^{}"):
            refs[ref[:-3]] = sha  # the peeled commit of an annotated tag wins over the tag object
        else:
            refs.setdefault(ref, sha)
    with _ls_lock:
        _ls_cache[url] = (now, refs)
    return refs


def _check_version_args(branch: str, tag: str, commit: str) -> None:
    if tag and (branch or commit):
        raise RepoError("give a tag, or a branch and/or commit, not both")


def resolve_version(repository: str, *, branch: str = "", tag: str = "", commit: str = "") -> str:
    """The full commit a branch, tag or commit names (a commit wins over a branch given with it).

    Nothing given: the repository's current commit (HEAD), or "" for a local
    folder that is not a git repository. A URL is read with ``git ls-remote``;
    a commit that is not the tip of a branch or tag cannot be checked that way,
    so a full 40-character hash is accepted as it is (the agent checks it when
    it clones). Raises RepoError with a one-line reason.
    """
    branch, tag, commit = (branch or "").strip(), (tag or "").strip(), (commit or "").strip()
    _check_version_args(branch, tag, commit)
    if commit and not _HEX.match(commit):
        raise RepoError(f"{commit!r} is not a commit hash (4 to 40 hexadecimal digits)")
    repository = (repository or "").strip()
    if not repository:
        raise RepoError("no repository given")
    if is_url(repository):
        return _resolve_remote(repository, branch, tag, commit)
    folder = local_folder(repository)
    if not folder.exists():
        raise RepoError(f"no folder {folder}")
    if not folder.is_dir():
        raise RepoError(f"{folder} is a file; give the folder (or repository) that holds the script")
    if not is_git_folder(folder):
        if branch or tag or commit:
            raise RepoError(f"{folder} is not a git repository, so it has no branches, tags or commits")
        return ""
    return _resolve_local(folder, branch, tag, commit)


def _rev_parse(folder: Path, ref: str) -> str | None:
    done = run_git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], folder)
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None


def _resolve_local(folder: Path, branch: str, tag: str, commit: str) -> str:
    if commit:
        found = _rev_parse(folder, commit)
        if found is None:
            raise RepoError(f"commit {commit} not found in {folder}")
        return found
    if tag:
        found = _rev_parse(folder, f"refs/tags/{tag}")
        if found is None:
            raise RepoError(f"tag {tag!r} not found in {folder}")
        return found
    if branch:
        found = _rev_parse(folder, f"refs/heads/{branch}") or _rev_parse(folder, f"refs/remotes/origin/{branch}")
        if found is None:
            raise RepoError(f"branch {branch!r} not found in {folder}")
        return found
    found = _rev_parse(folder, "HEAD")
    if found is None:
        raise RepoError(f"{folder} has no commits yet")
    return found


def _resolve_remote(url: str, branch: str, tag: str, commit: str) -> str:
    refs = ls_remote(url)
    if commit:
        lowered = commit.lower()
        matches = {sha for sha in refs.values() if sha.lower().startswith(lowered)}
        if len(matches) == 1:
            return matches.pop()
        if len(lowered) == 40:
            return lowered
        raise RepoError(f"commit {commit} is not the tip of a branch or tag of {_shown(url)}; "
                        "give its full 40-character hash")
    if tag:
        found = refs.get(f"refs/tags/{tag}")
        if found is None:
            raise RepoError(f"tag {tag!r} not found in {_shown(url)}")
        return found
    if branch:
        found = refs.get(f"refs/heads/{branch}")
        if found is None:
            raise RepoError(f"branch {branch!r} not found in {_shown(url)}")
        return found
    found = refs.get("HEAD")
    if found is None:
        raise RepoError(f"{_shown(url)} has no default branch; give a branch, tag or commit")
    return found


def current_branch(folder: Path) -> str:
    done = run_git(["rev-parse", "--abbrev-ref", "HEAD"], folder)
    name = done.stdout.strip() if done.returncode == 0 else ""
    return "" if name == "HEAD" else name


def uncommitted_diff(folder: Path) -> str:
    """Changes to tracked files since HEAD, as ``git apply`` takes them (untracked files are not included)."""
    done = run_git(["diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/", "--binary",
                    "HEAD"], folder)
    if done.returncode != 0:
        raise RepoError(f"cannot read the uncommitted changes of {folder}: {git_error(done)}")
    return done.stdout


# ---- files at a version ------------------------------------------------------------------

def repo_path(working_dir: str, path: str) -> str:
    """``path`` (relative to the working directory) as a path from the repository root."""
    joined = PurePosixPath((working_dir or ".").replace("\\", "/")) / path.replace("\\", "/")
    parts: list[str] = []
    for part in joined.parts:
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise RepoError(f"{path} is outside the repository")
            parts.pop()
        else:
            parts.append(part)
    if not parts or PurePosixPath(path).is_absolute():
        raise RepoError(f"{path!r} must be a path inside the repository, relative to the working directory")
    return "/".join(parts)


_fetch_lock = threading.Lock()


def _remote_snapshot(url: str, version: str) -> Path:
    """A bare repository holding ``version`` of ``url`` (depth 1), cached for this process."""
    key = hashlib.sha1(f"{url}\n{version}".encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"exptable-remote-{os.getuid() if hasattr(os, 'getuid') else 0}" / key
    with _fetch_lock:
        if (folder / "FETCHED").exists():
            return folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        run_git(["init", "-q", "--bare"], folder)
        done = run_git(["fetch", "-q", "--depth", "1", url, version or "HEAD"], folder, timeout=GIT_TIMEOUT_S * 3)
        if done.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise RepoError(f"cannot fetch {version or 'HEAD'} of {_shown(url)}: {_scrub(git_error(done), url)}")
        (folder / "FETCHED").write_text("")
    return folder


def _read_blob(repository: str, version: str, rel: str) -> str | None:
    """The text of ``rel`` at ``version``, or None when there is no such file."""
    if is_url(repository):
        snapshot = _remote_snapshot(repository.strip(), version)
        done = run_git(["cat-file", "-p", f"FETCH_HEAD:{rel}"], snapshot)
        return done.stdout if done.returncode == 0 else None
    folder = local_folder(repository)
    if not folder.is_dir():
        raise RepoError(f"no folder {folder}")
    if not version or not is_git_folder(folder):
        if version:
            raise RepoError(f"{folder} is not a git repository")
        # No version: the folder as it is now (what a copy or clone-plus-diff gives the agent).
        base = repo_root(folder) if is_git_folder(folder) else folder
        target = base / rel
        return target.read_text(encoding="utf-8", errors="replace") if target.is_file() else None
    done = run_git(["cat-file", "-p", f"{version}:{rel}"], folder)
    return done.stdout if done.returncode == 0 else None


def script_exists(repository: str, version: str, path: str, working_dir: str = "") -> bool:
    """Whether ``path`` (relative to ``working_dir``) is a file of the repository at ``version``.

    ``version`` is a commit from :func:`resolve_version` ("" = the local folder
    as it is now, or a URL's default branch). Raises RepoError when the
    repository cannot be read at all.
    """
    rel = repo_path(working_dir, path)
    if not is_url(repository):
        folder = local_folder(repository)
        if version and is_git_folder(folder):
            done = run_git(["cat-file", "-t", f"{version}:{rel}"], folder)
            return done.returncode == 0 and done.stdout.strip() == "blob"
    return _read_blob(repository, version, rel) is not None


def script_source(repository: str, version: str, path: str, working_dir: str = "") -> str:
    """The text of a script at a version (for argument detection); RepoError when it is missing."""
    rel = repo_path(working_dir, path)
    text = _read_blob(repository, version, rel)
    if text is None:
        where = f" at {version[:12]}" if version else ""
        raise RepoError(f"no file {rel} in {repository}{where}")
    return text


def module_path_candidates(module: str) -> list[str]:
    """Where ``python -m module`` finds its code, relative to the working directory."""
    base = module.replace(".", "/")
    return [f"{base}.py", f"{base}/__main__.py"]
