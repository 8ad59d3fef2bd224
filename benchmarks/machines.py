"""Machines: this build's own results (the reference) and results imported from other machines.

Layout of the results location (``results.results_dir()``)::

    results/*.json                         this build's machine, the reference the verdicts use
    results/machines/<machine id>/         one folder per imported machine (``python -m benchmarks import``)
        bundle.json                        the bundle's manifest, as it came (see ``check_manifest``)
        <experiment>.json                  that machine's results, under the same file names as above

A machine id is the 12 hex digits ``benchmarks.machine.machine_id`` derives from the card's CPU
model, architecture, logical core count and instruction-set features (``card_id`` here).

This module sits at the results layer: it imports ``benchmarks.results`` and the standard library
only, so the pages can read machines without any framework. Every string it returns (labels, cards,
notes) is raw data from a results file or a bundle; whoever shows it on a page escapes it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import results

MACHINES_FOLDER = "machines"
MANIFEST_NAME = "bundle.json"
BUNDLE_FORMAT = "benchmarks-results-bundle"
BUNDLE_FORMAT_VERSION = 1
ID_PATTERN = re.compile(r"[0-9a-f]{12}")
# A results file name inside a bundle or a machine folder: ``results.file_name`` of an experiment,
# optionally with the suffix of the latest unsuccessful run kept beside an ok result.
RESULT_FILE_PATTERN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,199}\.json")
NOTE_MAX_CHARS = 200
MANIFEST_KEYS = {
    "format": "the bundle format's name",
    "format_version": "the bundle format's version",
    "machine_id": "the machine's id (12 hex digits)",
    "machine": "the machine card of the newest result",
    "packages": "package versions of the newest result",
    "commit": "the commit the newest result ran from",
    "profile": "the profile every result ran at",
    "date": "when the newest result started (ISO 8601)",
    "bundled": "when the bundle was written (ISO 8601)",
    "note": "the author's note on the run, or null (e.g. 'capped to AVX2, one thread')",
    "files": "each results file: name (results/<file>.json), sha256, size in bytes",
}


@dataclass(frozen=True)
class Machine:
    """One machine's results: ``card`` is its machine card, ``manifest`` its bundle manifest (for
    the reference, the manifest a bundle of it would carry, without the file listing)."""

    id: str
    card: dict[str, Any]
    manifest: dict[str, Any]
    directory: Path
    reference: bool

    @property
    def label(self) -> str:
        """CPU model and date of the results, plus the note when the manifest has one, e.g.
        ``AMD EPYC · 2026-12-07 · capped to AVX2, one thread``. Raw: escape it where it is shown."""
        cpu = " ".join(str(self.card.get("cpu") or "unknown CPU").split())
        parts = [cpu, str(self.manifest.get("date") or "")[:10]]
        note = self.manifest.get("note")
        if note:
            parts.append(" ".join(str(note).split()))
        return " · ".join(p for p in parts if p)


def machines_dir(directory: Path | None = None) -> Path:
    """Where imported machines live: ``machines/`` inside the results location."""
    return Path(directory or results.results_dir()) / MACHINES_FOLDER


def card_id(card: dict[str, Any]) -> str:
    """The id ``benchmarks.machine.machine_id`` gives this card (the same formula, kept here so that
    the results layer need not import the machine probe; a test holds the two equal)."""
    key = f"{card['cpu']}|{card['arch']}|{card['logical_cores']}|{','.join(card['isa'])}"
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def result_files(directory: Path) -> list[Path]:
    """The results files at the top of a folder (main and ``.latest`` files), sorted by name."""
    if not directory.is_dir():
        return []
    return sorted(
        p
        for p in directory.glob("*.json")
        if p.is_file() and p.name != MANIFEST_NAME and RESULT_FILE_PATTERN.fullmatch(p.name)
    )


def _is_main_file(result: results.ExperimentResult, name: str) -> bool:
    return name == results.file_name(result.experiment)


def check_file_name(result: results.ExperimentResult, name: str, source: str) -> None:
    allowed = {
        results.file_name(result.experiment, suffix)
        for suffix in ("", results.LATEST_SUFFIX, *results.LEGACY_SUFFIXES)
    }
    if name not in allowed:
        raise results.ResultsError(
            f"{source}: holds experiment {result.experiment!r}, whose results file is named "
            f"{results.file_name(result.experiment)}, not {name}"
        )


def _newest(found: list[results.ExperimentResult]) -> results.ExperimentResult:
    return max(found, key=lambda r: (r.started or str(r.machine.get("date") or ""), r.experiment))


def describe(found: list[results.ExperimentResult], note: str | None = None) -> dict[str, Any]:
    """The manifest of a set of results, less its file listing: the machine card, packages and
    commit of the newest result, the profile they share (``mixed`` when they do not) and its date."""
    if not found:
        raise results.ResultsError("no results to describe")
    newest = _newest(found)
    card = dict(newest.machine)
    profiles = sorted({r.profile for r in found})
    ident = card.get("machine_id")
    if not isinstance(ident, str):
        try:
            ident = card_id(card)
        except (KeyError, TypeError):
            ident = "unknown"
    return {
        "format": BUNDLE_FORMAT,
        "format_version": BUNDLE_FORMAT_VERSION,
        "machine_id": ident,
        "machine": card,
        "packages": dict(card.get("packages") or {}),
        "commit": str(card.get("commit") or "unknown"),
        "profile": profiles[0] if len(profiles) == 1 else "mixed",
        "date": newest.started or str(card.get("date") or ""),
        "bundled": None,
        "note": note,
        "files": [],
    }


def _iso(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


def check_manifest(data: Any, source: str = MANIFEST_NAME) -> dict[str, Any]:
    """Refuse a bundle manifest that does not follow its schema, naming the first wrong field.

    The manifest is untrusted (it came from another machine): every field must be present with
    its type, nothing else may be there, the id must be 12 hex digits and the one the card gives.
    Returns the manifest. Raises ``results.ResultsError``."""

    def fail(field: str, expected: str, value: Any) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise results.ResultsError(f"{source}: {field}: expected {expected}, got {shown}")

    if not isinstance(data, dict):
        raise results.ResultsError(f"{source}: expected a JSON object")
    missing = [k for k in MANIFEST_KEYS if k not in data]
    if missing:
        raise results.ResultsError(f"{source}: missing fields {missing}")
    unknown = sorted(set(data) - set(MANIFEST_KEYS))
    if unknown:
        raise results.ResultsError(f"{source}: unknown fields {unknown}")
    if data["format"] != BUNDLE_FORMAT:
        fail("format", repr(BUNDLE_FORMAT), data["format"])
    if data["format_version"] != BUNDLE_FORMAT_VERSION or isinstance(data["format_version"], bool):
        fail(
            "format_version", f"{BUNDLE_FORMAT_VERSION} (the version this code reads)", data["format_version"]
        )
    ident = data["machine_id"]
    if not isinstance(ident, str) or not ID_PATTERN.fullmatch(ident):
        fail("machine_id", "12 hex digits", ident)
    card = data["machine"]
    if not isinstance(card, dict):
        fail("machine", "an object", card)
    results.check_shape({"machine": card}, source)
    for key in ("cpu", "arch"):
        if not isinstance(card.get(key), str) or not card[key].strip():
            fail(f"machine.{key}", "a non-empty string", card.get(key))
    cores = card.get("logical_cores")
    if cores is not None and (not isinstance(cores, int) or isinstance(cores, bool) or cores < 1):
        fail("machine.logical_cores", "a positive integer or null", cores)
    if not isinstance(card.get("isa"), list) or not all(isinstance(f, str) for f in card["isa"]):
        fail("machine.isa", "a list of strings", card.get("isa"))
    if card.get("machine_id") != ident:
        fail("machine.machine_id", f"the manifest's machine_id {ident!r}", card.get("machine_id"))
    if card_id(card) != ident:
        fail("machine_id", f"{card_id(card)!r}, the id of the card's CPU, architecture, cores and ISA", ident)
    packages = data["packages"]
    if not isinstance(packages, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in packages.items()
    ):
        fail("packages", "an object of version strings", packages)
    for key in ("commit", "profile"):
        if not isinstance(data[key], str) or not data[key]:
            fail(key, "a non-empty string", data[key])
    for key in ("date", "bundled"):
        if not _iso(data[key]):
            fail(key, "an ISO 8601 date", data[key])
    note = data["note"]
    if note is not None:
        if not isinstance(note, str) or not note.strip():
            fail("note", "a non-empty string or null", note)
        if len(note) > NOTE_MAX_CHARS:
            fail("note", f"at most {NOTE_MAX_CHARS} characters", note)
        if any(ord(c) < 32 or ord(c) == 127 for c in note):
            fail("note", "one line without control characters", note)
    files = data["files"]
    if not isinstance(files, list) or not files:
        fail("files", "a non-empty list", files)
    seen = set()
    for i, entry in enumerate(files):
        at = f"files[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"name", "sha256", "size"}:
            fail(at, "an object with name, sha256 and size", entry)
        name = entry["name"]
        if (
            not isinstance(name, str)
            or not name.startswith("results/")
            or not RESULT_FILE_PATTERN.fullmatch(name[len("results/") :])
        ):
            fail(f"{at}.name", "results/<experiment file>.json", name)
        if name in seen:
            fail(f"{at}.name", "a name listed once", name)
        seen.add(name)
        if not isinstance(entry["sha256"], str) or not re.fullmatch(r"[0-9a-f]{64}", entry["sha256"]):
            fail(f"{at}.sha256", "64 hex digits", entry["sha256"])
        size = entry["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            fail(f"{at}.size", "a size in bytes", size)
    return data


def reference(directory: Path | None = None) -> Machine | None:
    """This build's machine, read from the top-level results (None when there are none)."""
    directory = Path(directory or results.results_dir())
    found = [results.load(p) for p in result_files(directory)]
    if not found:
        return None
    manifest = describe(found)
    return Machine(
        id=manifest["machine_id"],
        card=manifest["machine"],
        manifest=manifest,
        directory=directory,
        reference=True,
    )


def load_machine(folder: Path, ident: str | None = None) -> Machine:
    """An imported machine's folder, its manifest checked. Raises ``results.ResultsError``
    naming the folder when the folder or its manifest is not what an import writes. ``ident`` is
    the machine's id when the folder is not (yet) named by it."""
    ident = folder.name if ident is None else ident
    if not ID_PATTERN.fullmatch(ident) or not folder.is_dir():
        raise results.ResultsError(
            f"{folder}: not an imported machine (a folder named by a 12-hex-digit machine id)"
        )
    path = folder / MANIFEST_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise results.ResultsError(f"{folder}: no readable {MANIFEST_NAME} ({exc})") from None
    try:
        check_manifest(data, str(path))
    except results.ResultsError as exc:
        raise results.ResultsError(f"{folder}: invalid manifest: {exc}") from None
    if data["machine_id"] != ident:
        raise results.ResultsError(f"{folder}: manifest machine_id {data['machine_id']!r} is not {ident!r}")
    return Machine(id=ident, card=data["machine"], manifest=data, directory=folder, reference=False)


def list_machines(directory: Path | None = None) -> list[Machine]:
    """The reference machine first (when this build has results), then the imported ones by id.

    Folders whose names start with a dot (an import in progress) are passed over; anything else
    in ``machines/`` that is not a valid imported machine raises ``results.ResultsError``."""
    directory = Path(directory or results.results_dir())
    found: list[Machine] = []
    own = reference(directory)
    if own is not None:
        found.append(own)
    imported = machines_dir(directory)
    if imported.is_dir():
        for folder in sorted(imported.iterdir()):
            if folder.name.startswith("."):
                continue
            found.append(load_machine(folder))
    return found


def load_results(machine: Machine) -> dict[str, results.ExperimentResult]:
    """A machine's stored results, experiment name -> result (the main file of each experiment;
    ``results.load_experiment(name, machine.directory)`` also gives the latest unsuccessful run)."""
    found: dict[str, results.ExperimentResult] = {}
    for path in result_files(machine.directory):
        stored = results.load(path)
        check_file_name(stored, path.name, str(path))
        if _is_main_file(stored, path.name):
            found[stored.experiment] = stored
    return found
