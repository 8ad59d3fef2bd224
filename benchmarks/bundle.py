"""Result bundles: one machine's results in one self-describing archive, and their import.

A bundle is a gzip-compressed tar archive holding exactly:

    bundle.json            the manifest (``machines.check_manifest``): format and version, machine id
                           and card, package versions, commit, profile, date of the newest result,
                           when it was bundled, an optional note, and each results file's name,
                           sha256 and size
    results/<file>.json    the machine's results files, raw samples included

``python -m benchmarks bundle`` writes one; ``python -m benchmarks import FILE`` adds one to
``results/machines/<machine id>/`` (see ``benchmarks.machines``).

An imported bundle is untrusted. It is read member by member from the compressed stream, never
unpacked by tarfile and never unpickled or executed; everything is validated in memory first:
member names and types, counts and sizes against the caps below, checksums against the manifest,
the manifest against its schema, each result against the results schema. Only then is the machine's
folder written, into a temporary sibling that replaces the old folder by rename. A bad bundle raises
``BundleError`` naming what is wrong and leaves the disk as it was.

A bundle whose machine id is the reference machine's (this build's own results) is refused: the id
is checked against the card it claims, so an equal id means the same CPU, architecture, core count
and instruction set, and that machine's results belong at the top of the results folder, where the
verdicts read them; importing them again would list one machine twice.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import Any

from benchmarks import machines
from benchmarks import results as results_mod

MAX_FILES = 500  # members in one archive, folders included
MAX_MEMBER_BYTES = 64 * 2**20  # one results file, uncompressed
MAX_TOTAL_BYTES = 512 * 2**20  # all members together, uncompressed
MAX_ARCHIVE_BYTES = 256 * 2**20  # the compressed archive
# Tar headers, padding and end blocks on top of the members' bytes.
_STREAM_SLACK = (MAX_FILES + 8) * 1536 + 20 * 512
RESULTS_FOLDER = "results"


class BundleError(Exception):
    """A bundle that cannot be written or must not be imported; the message says what is wrong."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def default_name(manifest: dict[str, Any]) -> str:
    """``results-<machine id>-<date of the newest result>.tar.gz``."""
    return f"results-{manifest['machine_id']}-{str(manifest['date'])[:10]}.tar.gz"


def _collect(directory: Path, profile: str | None) -> list[tuple[str, bytes, results_mod.ExperimentResult]]:
    files = machines.result_files(directory)
    if not files:
        raise BundleError(f"no results in {directory}: run experiments first (python -m benchmarks run)")
    found = []
    for path in files:
        data = path.read_bytes()
        try:
            result = results_mod.ExperimentResult.from_dict(_parse(data, str(path)), source=str(path))
            machines.check_file_name(result, path.name, str(path))
        except results_mod.ResultsError as exc:
            raise BundleError(f"{exc}; fix or remove it before bundling") from None
        if profile is None or result.profile == profile:
            found.append((path.name, data, result))
    if not found:
        raise BundleError(f"no results at profile {profile!r} in {directory}")
    profiles = sorted({r.profile for _, _, r in found})
    if len(profiles) > 1:
        raise BundleError(
            f"the results in {directory} ran at several profiles ({', '.join(profiles)}); "
            "a bundle holds one: choose it with --profile"
        )
    return found


def write_bundle(
    destination: Path | str,
    *,
    directory: Path | None = None,
    profile: str | None = None,
    note: str | None = None,
) -> Path:
    """Write this machine's results (``directory``, the results location by default) to a bundle.

    ``destination`` is the archive's path, or a folder to write ``default_name`` into. Only results
    at ``profile`` are bundled when it is given; without it, the results must share one profile.
    All results must come from one machine. The archive is written to a temporary file and renamed
    into place. Returns its path. Raises ``BundleError``."""
    directory = Path(directory or results_mod.results_dir())
    found = _collect(directory, profile)
    manifest = machines.describe([r for _, _, r in found], note=note)
    others = sorted(name for name, _, r in found if r.machine.get("machine_id") != manifest["machine_id"])
    if others:
        raise BundleError(
            f"results from another machine than {manifest['machine_id']} (the newest result's) in "
            f"{directory}: {', '.join(others)}; a bundle holds one machine's results"
        )
    manifest["bundled"] = _now()
    manifest["files"] = [
        {"name": f"{RESULTS_FOLDER}/{name}", "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        for name, data, _ in found
    ]
    try:
        machines.check_manifest(manifest, "the manifest of this machine's results")
    except results_mod.ResultsError as exc:
        raise BundleError(str(exc)) from None
    destination = Path(destination)
    if destination.is_dir():
        destination = destination / default_name(manifest)
    if not destination.parent.is_dir():
        raise BundleError(f"cannot write {destination}: {destination.parent} is not a folder")
    members = [(machines.MANIFEST_NAME, json.dumps(manifest, indent=1, ensure_ascii=False).encode())]
    members += [(f"{RESULTS_FOLDER}/{name}", data) for name, data, _ in found]
    try:
        fd, tmp = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".tmp")
    except OSError as exc:
        raise BundleError(f"cannot write {destination}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            with (
                gzip.GzipFile(filename="", mode="wb", fileobj=fh, mtime=0) as gz,
                tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
            ):
                for name, data in members:
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    info.mode = 0o644
                    info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                    tar.addfile(info, io.BytesIO(data))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, destination)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise BundleError(f"cannot write {destination}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return destination


class _Bounded(io.RawIOBase):
    """Reads a decompressing stream and stops it past a byte budget (a gzip bomb ends here)."""

    def __init__(self, stream: Any, budget: int) -> None:
        self.stream, self.budget, self.seen = stream, budget, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.stream.read(len(buffer))
        self.seen += len(data)
        if self.seen > self.budget:
            raise BundleError(
                f"the archive unpacks to more than {MAX_TOTAL_BYTES} bytes (the cap on a bundle's total size)"
            )
        buffer[: len(data)] = data
        return len(data)


def _parse(data: bytes, source: str) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a JSON number")

    try:
        return json.loads(data.decode("utf-8"), parse_constant=refuse)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise results_mod.ResultsError(f"{source}: not valid JSON ({exc})") from None


def _kind(member: tarfile.TarInfo) -> str:
    if member.issym():
        return f"a symbolic link (to {member.linkname!r})"
    if member.islnk():
        return f"a hard link (to {member.linkname!r})"
    if member.ischr() or member.isblk():
        return "a device"
    if member.isfifo():
        return "a FIFO"
    return f"a member of type {member.type!r}"


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise BundleError(f"member {name!r}: an absolute path")
    if ".." in name.replace("\\", "/").split("/"):
        raise BundleError(f"member {name!r}: a path that leaves the archive ('..')")
    if not (member.isreg() or member.isdir()):
        raise BundleError(f"member {name!r}: {_kind(member)}; only regular files and folders are allowed")
    if member.isdir():
        if name.rstrip("/") != RESULTS_FOLDER:
            raise BundleError(f"member {name!r}: an unexpected folder (only {RESULTS_FOLDER}/)")
        return
    inner = name[len(RESULTS_FOLDER) + 1 :] if name.startswith(RESULTS_FOLDER + "/") else None
    if name != machines.MANIFEST_NAME and not (
        inner is not None and machines.RESULT_FILE_PATTERN.fullmatch(inner)
    ):
        raise BundleError(
            f"member {name!r}: an unexpected name (a bundle holds {machines.MANIFEST_NAME} and "
            f"{RESULTS_FOLDER}/<experiment>.json only)"
        )
    if member.size > MAX_MEMBER_BYTES:
        raise BundleError(
            f"member {name!r}: {member.size} bytes, above the cap of {MAX_MEMBER_BYTES} per file"
        )


def _read_archive(path: Path) -> dict[str, bytes]:
    """The regular files of a bundle, by member name, read from the stream and checked."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise BundleError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not path.is_file():
        raise BundleError(f"{path}: not a file")
    if size > MAX_ARCHIVE_BYTES:
        raise BundleError(f"{path}: {size} bytes, above the cap of {MAX_ARCHIVE_BYTES} on an archive")
    files: dict[str, bytes] = {}
    count = total = 0
    try:
        with open(path, "rb") as raw, gzip.GzipFile(fileobj=raw, mode="rb") as gz:
            stream = io.BufferedReader(_Bounded(gz, MAX_TOTAL_BYTES + _STREAM_SLACK))
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    count += 1
                    if count > MAX_FILES:
                        raise BundleError(
                            f"{path}: more than {MAX_FILES} members (the cap on files in a bundle)"
                        )
                    _check_member(member)
                    if member.isdir():
                        continue
                    if member.name in files:
                        raise BundleError(f"member {member.name!r}: appears twice")
                    total += member.size
                    if total > MAX_TOTAL_BYTES:
                        raise BundleError(
                            f"member {member.name!r}: the members pass {MAX_TOTAL_BYTES} bytes "
                            "(the cap on a bundle's total size)"
                        )
                    handle = tar.extractfile(member)
                    data = handle.read() if handle is not None else b""
                    if len(data) != member.size:
                        raise BundleError(f"member {member.name!r}: truncated")
                    files[member.name] = data
    except BundleError:
        raise
    except (tarfile.TarError, gzip.BadGzipFile, EOFError, zlib.error, OSError, ValueError) as exc:
        raise BundleError(f"{path}: not a readable gzip-compressed tar archive ({exc})") from None
    return files


def read_bundle(path: Path | str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A bundle's manifest and its results files (file name -> bytes), every check passed.

    Reads only; raises ``BundleError``."""
    path = Path(path)
    files = _read_archive(path)
    raw = files.pop(machines.MANIFEST_NAME, None)
    if raw is None:
        raise BundleError(f"{path}: no {machines.MANIFEST_NAME}: not a results bundle")
    try:
        manifest = machines.check_manifest(_parse(raw, machines.MANIFEST_NAME))
    except results_mod.ResultsError as exc:
        raise BundleError(str(exc)) from None
    listed = {entry["name"]: entry for entry in manifest["files"]}
    for name in sorted(set(files) - set(listed)):
        raise BundleError(f"member {name!r}: not listed in {machines.MANIFEST_NAME}")
    for name in sorted(set(listed) - set(files)):
        raise BundleError(f"{machines.MANIFEST_NAME} lists {name!r}, which the archive does not hold")
    found: dict[str, bytes] = {}
    mains = set()
    for name, data in sorted(files.items()):
        entry = listed[name]
        if len(data) != entry["size"]:
            raise BundleError(f"member {name!r}: {len(data)} bytes, the manifest says {entry['size']}")
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            raise BundleError(f"member {name!r}: its sha256 is not the one in {machines.MANIFEST_NAME}")
        file = name[len(RESULTS_FOLDER) + 1 :]
        try:
            result = results_mod.ExperimentResult.from_dict(_parse(data, name), source=name)
            machines.check_file_name(result, file, name)
        except results_mod.ResultsError as exc:
            raise BundleError(f"schema-invalid result: {exc}") from None
        if result.machine.get("machine_id") != manifest["machine_id"]:
            raise BundleError(
                f"member {name!r}: machine.machine_id {result.machine.get('machine_id')!r} is not the "
                f"bundle's machine {manifest['machine_id']!r}"
            )
        if result.profile != manifest["profile"]:
            raise BundleError(
                f"member {name!r}: profile {result.profile!r}, the manifest says {manifest['profile']!r}"
            )
        if file == results_mod.file_name(result.experiment):
            mains.add(result.experiment)
        found[file] = data
    for file in found:
        stem = file[: -len(".json")]
        for suffix in (results_mod.LATEST_SUFFIX, *results_mod.LEGACY_SUFFIXES):
            if stem.endswith(suffix) and f"{stem[: -len(suffix)]}.json" not in found:
                raise BundleError(
                    f"member {RESULTS_FOLDER}/{file!r}: a latest run kept beside a result the bundle lacks"
                )
    return manifest, found


def _fresh_folder(parent: Path, prefix: str) -> Path:
    """A new hidden folder beside the machines' folders, made with the user's umask."""
    while True:
        folder = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue


def import_bundle(path: Path | str, *, directory: Path | None = None) -> machines.Machine:
    """Add another machine's bundle to ``directory/machines/<machine id>/`` (the results location
    by default), replacing that machine's earlier import once the new one has passed every check.
    Returns the imported machine. Raises ``BundleError``; a bad bundle changes nothing on disk."""
    directory = Path(directory or results_mod.results_dir())
    manifest, found = read_bundle(path)
    ident = manifest["machine_id"]
    try:
        own = machines.reference(directory)
    except results_mod.ResultsError as exc:
        raise BundleError(f"cannot tell this build's machine from its results: {exc}") from None
    if own is not None and own.id == ident:
        raise BundleError(
            f"{path}: the bundle is from this build's own machine ({ident}, {own.label}); its results "
            f"belong in {directory} itself, where the verdicts read them, not among other machines"
        )
    target_parent = machines.machines_dir(directory)
    try:
        results_mod.check_writable(target_parent)
    except results_mod.ResultsLocationError as exc:
        raise BundleError(str(exc)) from None
    try:
        target_parent.mkdir(parents=True, exist_ok=True)
        staging = _fresh_folder(target_parent, f".{ident}.import-")
    except OSError as exc:
        raise BundleError(f"cannot write to {target_parent}: {exc.strerror or exc}") from None
    target = target_parent / ident
    old: Path | None = None
    try:
        manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        for name, data in [(machines.MANIFEST_NAME, manifest_bytes), *sorted(found.items())]:
            with open(staging / name, "xb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        machines.load_results(machines.load_machine(staging, ident))
        if target.exists() or target.is_symlink():
            old = _fresh_folder(target_parent, f".{ident}.old-")
            os.replace(target, old / "previous")
        os.replace(staging, target)
    except BaseException as exc:
        if old is not None and not os.path.lexists(target):
            os.replace(old / "previous", target)
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        if isinstance(exc, OSError):
            raise BundleError(f"cannot write to {target_parent}: {exc.strerror or exc}") from None
        if isinstance(exc, results_mod.ResultsError):
            raise BundleError(f"the imported folder does not read back: {exc}") from None
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return machines.load_machine(target)


RELEASE_TAG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")


def archive_release(path: Path | str, tag: str, *, archive: Path | None = None) -> Path:
    """Add an earlier release's bundle (an untrusted download) to ``archive/<tag>/``, where the
    releases page reads it: the tag must be a plain name, the bundle must pass every check of
    ``read_bundle``, and the folder appears whole (written beside it, then renamed) or not at all.
    Raises ``BundleError``; an existing folder for the tag is left as it is."""
    if not RELEASE_TAG.fullmatch(tag) or ".." in tag:
        raise BundleError(f"release tag {tag!r}: expected letters, digits, '.', '_', '+' or '-'")
    archive = Path(archive or results_mod.archive_dir())
    target = archive / tag
    if os.path.lexists(target):
        raise BundleError(f"{target} exists already; remove it to fetch release {tag} again")
    _, found = read_bundle(path)
    try:
        archive.mkdir(parents=True, exist_ok=True)
        staging = _fresh_folder(archive, f".{tag}.fetch-")
    except OSError as exc:
        raise BundleError(f"cannot write to {archive}: {exc.strerror or exc}") from None
    try:
        for name, data in sorted(found.items()):
            with open(staging / Path(name).name, "xb") as fh:
                fh.write(data)
        os.rename(staging, target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleError(f"cannot write to {archive}: {exc.strerror or exc}") from None
    return target
