"""The artifact store: trained weights, exported models, reference outputs, executed notebooks.

Every derived file the pipelines keep between runs goes through ``artifact``, with one
key policy: an artifact is keyed by

- ``inputs``: the settings that make it (a JSON-able mapping: sizes, seeds, paths of
  source files with their digest, a recipe's knobs);
- ``code``: the source of the functions that make it, so editing them makes it again;
- ``packages``: the installed versions of the distributions it depends on.

It lives at ``<cache dir>/<kind>/<digest><suffix>``; it is made under a file lock (two
workers needing it at once make it once) into a temporary path and renamed into place,
so a crashed or interrupted run never leaves a half-written artifact behind. A stored
artifact that ``check`` rejects (truncated, foreign) is made again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from filelock import FileLock

from benchmarks.workloads import cache_dir


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def file_digest(path: Path) -> str:
    """The sha256 of a file's bytes, for keys that depend on a data or model file."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def key_digest(
    inputs: Mapping[str, Any], code: Iterable[Callable[..., Any]] = (), packages: Iterable[str] = ()
) -> str:
    """The digest naming an artifact: its inputs, its makers' source and its packages' versions."""
    key = {
        "inputs": inputs,
        "code": [inspect.getsource(f) for f in code],
        "packages": {name: _version(name) for name in sorted(set(packages))},
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def artifact(
    kind: str,
    inputs: Mapping[str, Any],
    make: Callable[[Path], Any],
    *,
    code: Iterable[Callable[..., Any]] = (),
    packages: Iterable[str] = (),
    suffix: str = "",
    check: Callable[[Path], Any] | None = None,
) -> Path:
    """The stored artifact for this key, made by ``make(path)`` when it is missing or rejected.

    ``make`` writes a file (or a folder) at the path it is given; ``check(path)`` raises when
    a stored artifact cannot be used."""
    folder = cache_dir() / kind
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key_digest(inputs, code, packages)}{suffix}"
    with FileLock(str(path) + ".lock"):
        if path.exists() and check is not None:
            try:
                check(path)
            except Exception as exc:  # truncated, foreign or out of date: make it again
                reason = f"{type(exc).__name__}: {exc}"
                print(f"making {kind}/{path.name} again: the stored one was rejected ({reason})")
                _remove(path)
        if not path.exists():
            tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
            _remove(tmp)
            try:
                make(tmp)
                if not tmp.exists():
                    raise RuntimeError(f"making artifact {kind}/{path.name} wrote nothing")
                os.replace(tmp, path)
            finally:
                _remove(tmp)
    return path
