"""Result records: one self-describing JSON file per experiment, written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
STATUSES = ("ok", "skipped", "failed")
REPO_ROOT = Path(__file__).resolve().parent.parent


class ResultsError(Exception):
    """A results file that cannot be trusted: missing fields, bad JSON, wrong schema."""


def results_dir() -> Path:
    """Where results live; ``BENCH_RESULTS_DIR`` points elsewhere (tests, other machines)."""
    return Path(os.environ.get("BENCH_RESULTS_DIR", REPO_ROOT / "results"))


class ResultsLocationError(Exception):
    """The results location cannot be created or written (a file, no permission, a full disk)."""


def check_writable(directory: Path) -> None:
    """Refuse a results location that cannot take results, before any experiment runs.

    The location must be a folder in which a file can be written, or, when it does not exist yet,
    its nearest existing parent must be a folder in which a folder can be made. A probe is written
    and removed; a missing location is not created. Raises ResultsLocationError naming the path
    and the reason.
    """
    directory = Path(directory)
    existing = directory
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        if existing == directory:
            raise ResultsLocationError(f"results location {directory} is not a folder")
        raise ResultsLocationError(
            f"results location {directory} cannot be created: {existing} is not a folder"
        )
    try:
        if existing == directory:
            fd, probe = tempfile.mkstemp(dir=directory, prefix=".write-check-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(b"results location check\n")
                    fh.flush()
                    os.fsync(fh.fileno())
            finally:
                Path(probe).unlink(missing_ok=True)
        else:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".write-check-"))
    except OSError as exc:
        action = "cannot be written" if existing == directory else f"cannot be created in {existing}"
        raise ResultsLocationError(f"results location {directory} {action}: {exc.strerror or exc}") from None


def archive_dir() -> Path:
    """Results of earlier releases, one folder per release (``archive/v1.0/*.json``)."""
    return Path(os.environ.get("BENCH_ARCHIVE_DIR", REPO_ROOT / "archive"))


@dataclass
class ExperimentResult:
    experiment: str
    status: str
    profile: str
    config: dict[str, Any]
    machine: dict[str, Any]
    cache_key: str
    reason: str | None = None
    started: str = ""
    duration_s: float = 0.0
    one_time_costs: dict[str, Any] = field(default_factory=dict)
    variants: dict[str, Any] = field(default_factory=dict)
    points: list[dict[str, Any]] = field(default_factory=list)
    cache_inputs: dict[str, Any] = field(default_factory=dict)
    # Variants this machine could not run (an engine without a wheel for it): name -> reason.
    skipped_variants: dict[str, str] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ResultsError(f"status must be one of {STATUSES}, not {self.status!r}")
        if self.status != "ok" and not self.reason:
            raise ResultsError(f"a {self.status} result must say why (reason)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<dict>") -> ExperimentResult:
        if not isinstance(data, dict):
            raise ResultsError(f"{source}: expected a JSON object")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ResultsError(
                f"{source}: schema version {version!r}, this code reads {SCHEMA_VERSION}; "
                "re-run the experiment to refresh it"
            )
        required = ("experiment", "status", "profile", "config", "machine", "cache_key")
        missing = [k for k in required if k not in data]
        if missing:
            raise ResultsError(f"{source}: missing fields {missing}")
        check_shape(data, source)
        known = {f for f in cls.__dataclass_fields__}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise ResultsError(f"{source}: {exc}") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_shape(data: dict[str, Any], source: str = "<dict>") -> None:
    """Refuse a results file whose fields have the wrong types, naming the first wrong field.

    A results file may come from another machine or an earlier release: the pages and the
    verdicts read its figures as numbers and its names as strings, and a string where a
    number belongs would otherwise end the build in a TypeError deep inside a renderer."""

    def fail(where: str, expected: str, value: Any) -> None:
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        raise ResultsError(f"{source}: {where}: expected {expected}, got {shown}")

    def need(where: str, value: Any, kind: type | tuple[type, ...], expected: str) -> None:
        if not isinstance(value, kind) or isinstance(value, bool):
            fail(where, expected, value)

    for key in ("experiment", "status", "profile", "cache_key", "started"):
        if key in data:
            need(key, data[key], str, "a string")
    if data.get("reason") is not None:
        need("reason", data["reason"], str, "a string or null")
    if "duration_s" in data and not _is_number(data["duration_s"]):
        fail("duration_s", "a number", data["duration_s"])
    for key in ("config", "machine", "one_time_costs", "variants", "cache_inputs"):
        if key in data:
            need(key, data[key], dict, "an object")
    if "skipped_variants" in data:
        need("skipped_variants", data["skipped_variants"], dict, "an object")
        for name, reason in data["skipped_variants"].items():
            need(f"skipped_variants.{name}", reason, str, "a string (the reason)")
    for key, value in data.get("machine", {}).items():
        if value is not None and not isinstance(value, str | int | float | list | dict):
            fail(f"machine.{key}", "a string, number, list or object", value)
    for name, version in (data.get("machine", {}).get("packages") or {}).items():
        need(f"machine.packages.{name}", version, str, "a version string")
    for i, spec in enumerate(data.get("config", {}).get("variants", []) or []):
        need(f"config.variants[{i}]", spec, dict, "an object")
        for key in ("name", "label"):
            need(f"config.variants[{i}].{key}", spec.get(key), str, "a string")
    for name, record in data.get("variants", {}).items():
        need(f"variants.{name}", record, dict, "an object")
        for metric, value in (record.get("quality") or {}).items():
            if value is not None and not _is_number(value):
                fail(f"variants.{name}.quality.{metric}", "a number", value)
    need("points", data.get("points", []), list, "a list")
    for i, point in enumerate(data.get("points", [])):
        where = f"points[{i}]"
        need(where, point, dict, "an object")
        need(f"{where}.params", point.get("params"), dict, "an object")
        for key, value in point["params"].items():
            if not isinstance(value, int) or isinstance(value, bool):
                fail(f"{where}.params.{key}", "an integer", value)
        need(f"{where}.variants", point.get("variants"), dict, "an object")
        for name, entry in point["variants"].items():
            at = f"{where}.variants.{name}"
            need(at, entry, dict, "an object")
            need(f"{at}.latency", entry.get("latency"), dict, "an object")
            latency = entry["latency"]
            for key in ("count", "p50", "mean", "min", "p90", "p99", "max"):
                if (key == "p50" or key in latency) and not _is_number(latency.get(key)):
                    fail(f"{at}.latency.{key}", "a number", latency.get(key))
            medians = entry.get("round_medians", [])
            if not isinstance(medians, list) or not all(_is_number(m) for m in medians):
                fail(f"{at}.round_medians", "a list of numbers", medians)
            speed = entry.get("speedup")
            if speed is not None:
                need(f"{at}.speedup", speed, dict, "an object")
                for key in ("median", "ci_low", "ci_high"):
                    if key in speed and not _is_number(speed[key]):
                        fail(f"{at}.speedup.{key}", "a number", speed[key])


def file_name(experiment: str, suffix: str = "") -> str:
    return experiment.replace("/", "__") + suffix + ".json"


def write_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary file in the same folder, then rename it into place.

    A reader (or a crash) sees either the old file or the new one, never half of one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, ensure_ascii=False, allow_nan=False)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> ExperimentResult:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultsError(f"{path}: not a readable results file ({exc})") from exc
    return ExperimentResult.from_dict(data, source=str(path))


# Beside an ok result: the latest run when it did not succeed (failed or skipped), so that
# the page can show both. ``.failed`` is the name releases before 2026-12 wrote.
LATEST_SUFFIX = ".latest"
LEGACY_SUFFIXES = (".failed",)


def save(result: ExperimentResult, directory: Path | None = None) -> Path:
    """Store a result without ever losing an earlier good one.

    An ok result replaces the experiment's file and clears what was kept beside it. A failed
    or skipped result replaces it only when it holds no ok result; otherwise it is kept beside
    it (``*.latest.json``), so the page shows the good figures with a notice of the latest run.
    """
    directory = directory or results_dir()
    main = directory / file_name(result.experiment)
    side = directory / file_name(result.experiment, LATEST_SUFFIX)
    if result.status != "ok":
        previous = None
        try:
            previous = load(main)
        except (FileNotFoundError, ResultsError):
            previous = None
        if previous is not None and previous.status == "ok":
            write_atomic(side, result.to_dict())
            return side
        write_atomic(main, result.to_dict())
        return main
    write_atomic(main, result.to_dict())
    for suffix in (LATEST_SUFFIX, *LEGACY_SUFFIXES):
        (directory / file_name(result.experiment, suffix)).unlink(missing_ok=True)
    return main


def load_experiment(
    experiment: str, directory: Path | None = None
) -> tuple[ExperimentResult | None, ExperimentResult | None]:
    """The stored result of an experiment and the latest unsuccessful run kept beside it, if any."""
    directory = directory or results_dir()
    main = directory / file_name(experiment)
    result = load(main) if main.exists() else None
    latest = None
    for suffix in (LATEST_SUFFIX, *LEGACY_SUFFIXES):
        side = directory / file_name(experiment, suffix)
        if side.exists():
            latest = load(side)
            break
    return result, latest
