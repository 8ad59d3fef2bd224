"""Result bundles (issue 19): one machine's results in one archive, imported on another site.

A bundle is untrusted input: every bad bundle below is refused with a message naming what is
wrong, and the results location is left byte for byte as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import bundle, machines, results
from benchmarks.machine import machine_id
from tests.conftest import run_cli
from tests.synthetic import COSINE_OK, synthetic

TAG = "<img src=x onerror=alert(1)>"
NOTE = "capped to AVX2, one thread"


def card(cpu: str = "Test CPU 9000", isa: tuple[str, ...] = ("AVX2", "FMA"), cores: int = 4) -> dict:
    data: dict[str, Any] = {
        "cpu": cpu,
        "arch": "x86_64",
        "isa": list(isa),
        "logical_cores": cores,
        "usable_cores": cores,
        "memory_gib": 16.0,
        "os": "Linux 6.1",
        "python": "3.11.7",
        "packages": {"torch": "2.13.0+cpu", "onnxruntime": "1.31.1"},
        "commit": "0123456789ab",
        "date": "2026-12-01T10:00:00+00:00",
    }
    data["machine_id"] = machine_id(data)
    return data


def stored(
    directory: Path, machine: dict, names: tuple[str, ...] = ("onnxruntime/minilm", "pruning/minilm")
) -> None:
    """Results of ``machine`` in ``directory``, built by the tests' one factory."""
    for i, name in enumerate(names):
        result = synthetic(
            name, "minilm", {"batch": 1}, {"onnxruntime-fp32": (1.4 + i / 10, COSINE_OK | {"accuracy": 0.97})}
        )
        result.machine = dict(machine)
        result.started = f"2026-12-0{i + 1}T08:00:00+00:00"
        results.save(result, directory)


def snapshot(directory: Path) -> dict[str, bytes | None]:
    """Every path under ``directory`` with its bytes (None for a folder)."""
    if not directory.exists():
        return {}
    return {
        str(p.relative_to(directory)): (None if p.is_dir() else p.read_bytes())
        for p in sorted(directory.rglob("*"))
    }


@pytest.fixture
def other(tmp_path: Path) -> dict:
    """Another machine's results, and a bundle of them."""
    source = tmp_path / "other"
    machine = card("Other CPU 7000")
    stored(source, machine)
    path = bundle.write_bundle(tmp_path / "other.tar.gz", directory=source, note=NOTE)
    return {"source": source, "card": machine, "bundle": path}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """This build's results location: its own results (the reference), nothing imported yet."""
    directory = tmp_path / "site"
    stored(directory, card("Reference CPU 5000"), names=("onnxruntime/minilm",))
    return directory


def members(path: Path) -> tuple[dict, dict[str, bytes]]:
    """A bundle's manifest and its other members' bytes, read back with tarfile."""
    files = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            handle = tar.extractfile(member)
            assert handle is not None
            files[member.name] = handle.read()
    return json.loads(files.pop("bundle.json")), files


def entry(name: str, data: bytes) -> dict:
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}


def pack(
    path: Path, manifest: dict | bytes | None, files: dict[str, bytes], extra: Callable | None = None
) -> Path:
    """Write an archive by hand: ``bundle.json``, then ``files``, then what ``extra(tar)`` adds."""
    with (
        open(path, "wb") as fh,
        gzip.GzipFile(fileobj=fh, mode="wb") as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
        items = [] if manifest is None else [("bundle.json", manifest)]
        for name, data in [*items, *files.items()]:
            raw = data if isinstance(data, bytes) else json.dumps(data).encode()
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
        if extra is not None:
            extra(tar)
    return path


def relisted(manifest: dict, files: dict[str, bytes]) -> dict:
    """The manifest with its file listing made to match ``files`` (checksums right)."""
    return {**manifest, "files": [entry(n, d) for n, d in files.items()]}


def test_machine_ids_here_are_the_machine_cards_ids():
    probe = card("Some CPU", isa=("NEON",), cores=64)
    assert machines.card_id(probe) == machine_id(probe)
    assert machines.ID_PATTERN.fullmatch(probe["machine_id"])


def test_a_bundle_round_trips_into_another_site(other: dict, site: Path, tmp_path: Path):
    # A failed later run kept beside an ok result travels with it.
    failed = synthetic("pruning/minilm", "minilm", {"batch": 1}, {})
    failed.status, failed.reason, failed.machine = "failed", "out of memory", dict(other["card"])
    failed.started = "2026-12-05T00:00:00+00:00"
    results.save(failed, other["source"])
    path = bundle.write_bundle(tmp_path, directory=other["source"], note=NOTE)
    assert path.name == f"results-{other['card']['machine_id']}-2026-12-05.tar.gz"

    # Self-describing: the manifest alone says what the archive is and holds.
    manifest, files = members(path)
    assert manifest["format"] == machines.BUNDLE_FORMAT
    assert manifest["machine"]["cpu"] == "Other CPU 7000"
    assert manifest["machine_id"] == other["card"]["machine_id"]
    assert manifest["packages"]["torch"] == "2.13.0+cpu" and manifest["commit"] == "0123456789ab"
    assert manifest["profile"] == "toy" and manifest["note"] == NOTE
    assert manifest["date"].startswith("2026-12-05")
    assert (
        sorted(f["name"] for f in manifest["files"])
        == sorted(files)
        == [
            "results/onnxruntime__minilm.json",
            "results/pruning__minilm.json",
            "results/pruning__minilm.latest.json",
        ]
    )

    machine = bundle.import_bundle(path, directory=site)
    assert machine.directory == site / "machines" / machine.id
    found = machines.list_machines(site)
    assert [(m.reference, m.card["cpu"]) for m in found] == [
        (True, "Reference CPU 5000"),
        (False, "Other CPU 7000"),
    ]
    assert found[0].label == "Reference CPU 5000 · 2026-12-01"
    assert found[1].label == f"Other CPU 7000 · 2026-12-05 · {NOTE}"
    theirs = machines.load_results(found[1])
    source = {r.experiment: r for r in map(results.load, other["source"].glob("*.json")) if r.status == "ok"}
    assert {k: v.to_dict() for k, v in theirs.items()} == {k: v.to_dict() for k, v in source.items()}
    ok, latest = results.load_experiment("pruning/minilm", found[1].directory)
    assert ok is not None and ok.status == "ok" and latest is not None and latest.reason == "out of memory"
    # The reference's own results are untouched and still the only top-level files.
    assert sorted(p.name for p in site.glob("*.json")) == ["onnxruntime__minilm.json"]


def test_importing_a_machine_again_replaces_its_folder(other: dict, site: Path, tmp_path: Path):
    bundle.import_bundle(other["bundle"], directory=site)
    (other["source"] / "pruning__minilm.json").unlink()
    smaller = bundle.write_bundle(tmp_path / "smaller.tar.gz", directory=other["source"])
    machine = bundle.import_bundle(smaller, directory=site)
    assert sorted(machines.load_results(machine)) == ["onnxruntime/minilm"]
    assert machine.manifest["note"] is None and NOTE not in machine.label
    assert sorted(p.name for p in (site / "machines").iterdir()) == [machine.id]  # nothing left behind


def test_html_in_a_machine_card_is_kept_as_data(tmp_path: Path, site: Path):
    source = tmp_path / "html"
    stored(source, card("AMD EPYC " + TAG))
    machine = bundle.import_bundle(bundle.write_bundle(tmp_path, directory=source, note=TAG), directory=site)
    assert machine.card["cpu"] == "AMD EPYC " + TAG
    assert machine.label == f"AMD EPYC {TAG} · 2026-12-02 · {TAG}"
    reread = machines.list_machines(site)[1]
    assert reread.card["cpu"] == "AMD EPYC " + TAG and reread.manifest["note"] == TAG


# Members that are no regular file: (tar type, link target).
SPECIAL_MEMBERS = {
    "symlink": (tarfile.SYMTYPE, "/etc/passwd"),
    "hard link": (tarfile.LNKTYPE, "bundle.json"),
    "device": (tarfile.CHRTYPE, ""),
}


def _bad(case: str, manifest: dict, files: dict[str, bytes], path: Path, good: Path) -> Path:
    name = "results/onnxruntime__minilm.json"
    if case == "random bytes":
        path.write_bytes(os.urandom(4096))
    elif case == "truncated gzip":
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    elif case == "gzip of no tar":
        path.write_bytes(gzip.compress(os.urandom(4096)))
    elif case == "no manifest":
        pack(path, None, files)
    elif case == "parent path":
        bad = {**files, "../x.json": files[name]}
        pack(path, relisted(manifest, files), bad)
    elif case == "absolute path":
        pack(path, relisted(manifest, files), {**files, "/tmp/x.json": files[name]})
    elif case in SPECIAL_MEMBERS:
        kind, target = SPECIAL_MEMBERS[case]

        def special(tar: tarfile.TarFile) -> None:
            info = tarfile.TarInfo("results/evil.json")
            info.type, info.linkname = kind, target
            tar.addfile(info)

        pack(path, manifest, files, special)
    elif case == "unexpected name":
        pack(path, manifest, {**files, "run.sh": b"rm -rf ~\n"})
    elif case == "nested folder":
        pack(path, manifest, {**files, "results/sub/x.json": files[name]})
    elif case == "duplicate member":
        pack(
            path, manifest, files, lambda tar: tar.addfile(_info(name, files[name]), io.BytesIO(files[name]))
        )
    elif case == "schema-invalid result":
        data = json.loads(files[name])
        data["points"][0]["variants"]["onnxruntime-fp32"]["latency"]["p50"] = "fast"
        bad = {**files, name: json.dumps(data).encode()}
        pack(path, relisted(manifest, bad), bad)
    elif case == "not JSON":
        bad = {**files, name: b"\x80\x81 not json"}
        pack(path, relisted(manifest, bad), bad)
    elif case == "NaN in a result":
        bad = {**files, name: files[name].replace(b'"duration_s": 0.0', b'"duration_s": NaN')}
        assert bad[name] != files[name]
        pack(path, relisted(manifest, bad), bad)
    elif case == "misnamed result":
        bad = {"results/pruning__minilm.json": files[name]}
        pack(path, relisted(manifest, bad), bad)
    elif case == "checksum mismatch":
        bad = {**files, name: files[name].replace(b"onnxruntime-fp32", b"onnxruntime-fp64")}
        pack(path, manifest, bad)
    elif case == "size mismatch":
        listing = [{**f, "size": f["size"] + 1} if f["name"] == name else f for f in manifest["files"]]
        pack(path, {**manifest, "files": listing}, files)
    elif case == "unlisted member":
        pack(path, {**manifest, "files": [f for f in manifest["files"] if f["name"] != name]}, files)
    elif case == "listed, missing":
        pack(path, manifest, {k: v for k, v in files.items() if k != name})
    elif case == "manifest field missing":
        pack(path, {k: v for k, v in manifest.items() if k != "profile"}, files)
    elif case == "manifest field unknown":
        pack(path, {**manifest, "run_me": "curl x | sh"}, files)
    elif case == "manifest not JSON":
        pack(path, b"{not json", files)
    elif case == "machine id not hex":
        machine = {**manifest["machine"], "machine_id": "../../etc"}
        pack(path, {**manifest, "machine_id": "../../etc", "machine": machine}, files)
    elif case == "machine id of another card":
        pack(path, {**manifest, "machine": {**manifest["machine"], "cpu": "Different CPU"}}, files)
    elif case == "note with a line break":
        pack(path, {**manifest, "note": "one\x1b[2Jtwo"}, files)
    elif case == "result from another machine":
        data = json.loads(files[name])
        data["machine"] = card("Yet another CPU")
        bad = {**files, name: json.dumps(data).encode()}
        pack(path, relisted(manifest, bad), bad)
    elif case == "newer format":
        pack(path, {**manifest, "format_version": 99}, files)
    else:
        raise AssertionError(case)
    return path


def _info(name: str, data: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info


BAD = {
    "random bytes": "not a readable gzip-compressed tar archive",
    "truncated gzip": "not a readable gzip-compressed tar archive",
    "gzip of no tar": "not a readable gzip-compressed tar archive",
    "no manifest": "no bundle.json",
    "parent path": "member '../x.json': a path that leaves the archive",
    "absolute path": "member '/tmp/x.json': an absolute path",
    "symlink": "member 'results/evil.json': a symbolic link (to '/etc/passwd')",
    "hard link": "member 'results/evil.json': a hard link",
    "device": "member 'results/evil.json': a device",
    "unexpected name": "member 'run.sh': an unexpected name",
    "nested folder": "member 'results/sub/x.json': an unexpected name",
    "duplicate member": "appears twice",
    "schema-invalid result": "points[0].variants.onnxruntime-fp32.latency.p50: expected a number, got 'fast'",
    "not JSON": "results/onnxruntime__minilm.json: not valid JSON",
    "NaN in a result": "NaN is not a JSON number",
    "misnamed result": "holds experiment 'onnxruntime/minilm'",
    "checksum mismatch": "'results/onnxruntime__minilm.json': its sha256 is not the one in bundle.json",
    "size mismatch": "the manifest says",
    "unlisted member": "not listed in bundle.json",
    "listed, missing": "which the archive does not hold",
    "manifest field missing": "missing fields ['profile']",
    "manifest field unknown": "unknown fields ['run_me']",
    "manifest not JSON": "bundle.json: not valid JSON",
    "machine id not hex": "machine_id: expected 12 hex digits",
    "machine id of another card": "the id of the card's CPU",
    "note with a line break": "note: expected one line without control characters",
    "result from another machine": "is not the bundle's machine",
    "newer format": "format_version",
}


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_bundle_is_refused_and_nothing_changes(case: str, other: dict, site: Path, tmp_path: Path):
    bundle.import_bundle(other["bundle"], directory=site)  # an earlier import of the same machine
    before = snapshot(site)
    manifest, files = members(other["bundle"])
    path = _bad(case, manifest, files, tmp_path / "bad.tar.gz", other["bundle"])
    with pytest.raises(bundle.BundleError) as refused:
        bundle.import_bundle(path, directory=site)
    assert BAD[case] in str(refused.value)
    assert snapshot(site) == before


def test_a_bad_bundle_writes_nothing_into_an_empty_location(tmp_path: Path, other: dict):
    manifest, files = members(other["bundle"])
    path = _bad("symlink", manifest, files, tmp_path / "bad.tar.gz", other["bundle"])
    with pytest.raises(bundle.BundleError):
        bundle.import_bundle(path, directory=tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


@pytest.mark.parametrize(
    ("limit", "value", "message"),
    [
        ("MAX_MEMBER_BYTES", 1000, "above the cap of 1000 per file"),
        ("MAX_TOTAL_BYTES", 3000, "the members pass 3000 bytes"),
        ("MAX_FILES", 2, "more than 2 members"),
        ("MAX_ARCHIVE_BYTES", 100, "above the cap of 100 on an archive"),
    ],
)
def test_the_caps_refuse_an_oversized_bundle(
    limit: str, value: int, message: str, other: dict, site: Path, monkeypatch: pytest.MonkeyPatch
):
    files = members(other["bundle"])[1]
    assert all(len(d) > 1000 for d in files.values()) and len(files) == 2
    before = snapshot(site)
    monkeypatch.setattr(bundle, limit, value)
    with pytest.raises(bundle.BundleError, match=message):
        bundle.import_bundle(other["bundle"], directory=site)
    assert snapshot(site) == before


def test_a_header_that_unpacks_past_the_cap_is_stopped(other: dict, site: Path, tmp_path: Path, monkeypatch):
    """Bytes that no member's size accounts for (a long tar header) still count against the cap."""
    manifest, files = members(other["bundle"])

    def long_header(tar: tarfile.TarFile) -> None:
        info = _info("results/x.json", b"")
        info.pax_headers = {"comment": "x" * 200_000}
        tar.addfile(info, io.BytesIO(b""))

    path = pack(tmp_path / "bomb.tar.gz", manifest, files, long_header)
    monkeypatch.setattr(bundle, "MAX_TOTAL_BYTES", 50_000)
    monkeypatch.setattr(bundle, "_STREAM_SLACK", 10_000)
    with pytest.raises(bundle.BundleError, match="unpacks to more than 50000 bytes"):
        bundle.import_bundle(path, directory=site)
    assert not (site / "machines").exists()


def test_a_bundle_of_the_reference_machine_is_refused(site: Path, tmp_path: Path):
    own = bundle.write_bundle(tmp_path, directory=site)
    with pytest.raises(bundle.BundleError, match="from this build's own machine"):
        bundle.import_bundle(own, directory=site)
    assert not (site / "machines").exists()


def test_a_machine_folder_with_a_bad_manifest_is_named(other: dict, site: Path):
    machine = bundle.import_bundle(other["bundle"], directory=site)
    manifest = machine.directory / "bundle.json"
    manifest.write_text(manifest.read_text().replace('"format_version": 1', '"format_version": "1"'))
    with pytest.raises(results.ResultsError, match=f"{machine.directory}: invalid manifest"):
        machines.list_machines(site)
    (site / "machines" / "not-an-id").mkdir()
    manifest.unlink()
    with pytest.raises(results.ResultsError, match=r"no readable bundle\.json"):
        machines.list_machines(site)


def test_no_machines_without_results(tmp_path: Path):
    assert machines.list_machines(tmp_path / "nothing") == []
    assert machines.machines_dir(tmp_path) == tmp_path / "machines"


def test_a_bundle_is_refused_when_the_results_do_not_make_one(tmp_path: Path, other: dict):
    with pytest.raises(bundle.BundleError, match="no results in"):
        bundle.write_bundle(tmp_path, directory=tmp_path / "empty")
    mixed = tmp_path / "mixed"
    stored(mixed, card("A CPU"), names=("onnxruntime/minilm",))
    stored(mixed, card("B CPU"), names=("pruning/minilm",))
    with pytest.raises(
        bundle.BundleError, match=r"results from another machine than .*: onnxruntime__minilm.json;"
    ):
        bundle.write_bundle(tmp_path, directory=mixed)
    data = json.loads((other["source"] / "pruning__minilm.json").read_text())
    data["profile"] = "default"
    results.write_atomic(other["source"] / "pruning__minilm.json", data)
    with pytest.raises(bundle.BundleError, match=r"several profiles \(default, toy\)"):
        bundle.write_bundle(tmp_path, directory=other["source"])
    path = bundle.write_bundle(tmp_path / "toy.tar.gz", directory=other["source"], profile="toy")
    assert [f["name"] for f in members(path)[0]["files"]] == ["results/onnxruntime__minilm.json"]
    assert not list(tmp_path.glob(".*.tmp"))


def test_the_command_line(other: dict, site: Path, tmp_path: Path):
    out = tmp_path / "cli.tar.gz"
    made = run_cli("bundle", "-o", str(out), "--note", NOTE, env={"BENCH_RESULTS_DIR": str(other["source"])})
    assert made.returncode == 0, made.stderr
    assert str(out) in made.stdout and out.is_file()

    env = {"BENCH_RESULTS_DIR": str(site)}
    bad = pack(tmp_path / "bad.tar.gz", None, {"../x.json": b"{}"})
    added = run_cli("import", str(bad), str(out), env=env)
    assert added.returncode == 2
    assert f"error: {bad}: nothing imported" in added.stderr and "'../x.json'" in added.stderr
    assert "Traceback" not in added.stderr
    ident = other["card"]["machine_id"]
    assert f"imported {ident} (Other CPU 7000 · 2026-12-02 · {NOTE}): 2 results" in added.stdout

    listed = run_cli("machines", env=env)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert len(lines) == 2 and "reference" in lines[0] and "Reference CPU 5000" in lines[0]
    assert lines[1].startswith(ident) and "2 results" in lines[1] and NOTE in lines[1]

    empty = run_cli("bundle", env={"BENCH_RESULTS_DIR": str(tmp_path / "none")})
    assert (
        empty.returncode == 2 and "error: no results in" in empty.stderr and "Traceback" not in empty.stderr
    )
    (site / "machines" / "junk").mkdir()
    broken = run_cli("machines", env=env)
    assert broken.returncode == 2 and "junk: not an imported machine" in broken.stderr


def test_a_failed_replace_keeps_the_earlier_import(other: dict, site: Path, monkeypatch: pytest.MonkeyPatch):
    bundle.import_bundle(other["bundle"], directory=site)
    before = snapshot(site)
    real = os.replace
    calls = []

    def flaky(src: Any, dst: Any) -> None:
        calls.append((src, dst))
        if len(calls) == 2:  # the new folder moving into place, after the old one moved aside
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(bundle.os, "replace", flaky)
    with pytest.raises(bundle.BundleError, match="No space left on device"):
        bundle.import_bundle(other["bundle"], directory=site)
    assert len(calls) == 3  # moved aside, failed, moved back
    assert snapshot(site) == before


def test_an_unusable_results_location_is_refused(other: dict, tmp_path: Path):
    location = tmp_path / "a-file"
    location.write_text("not a folder")
    with pytest.raises(bundle.BundleError, match="is not a folder"):
        bundle.import_bundle(other["bundle"], directory=location)
    assert location.read_text() == "not a folder"


# ---- earlier releases' bundles (archive/<tag>/, read by the releases page) ---------------------


def test_a_release_bundle_lands_whole_in_its_tag_folder(other: dict, tmp_path: Path):
    archive = tmp_path / "archive"
    folder = bundle.archive_release(other["bundle"], "v1.2.0", archive=archive)
    assert folder == archive / "v1.2.0"
    names = sorted(p.name for p in folder.iterdir())
    assert names and all(n.endswith(".json") for n in names) and "bundle.json" not in names
    for name in names:  # each file reads back as a result
        results.load(folder / name)
    assert [p.name for p in archive.iterdir()] == ["v1.2.0"]  # no staging folder left behind


@pytest.mark.parametrize("tag", ["../evil", "..", ".hidden", "a/b", "", "v1 2", "x" * 80])
def test_a_release_tag_that_is_not_a_plain_name_is_refused(other: dict, tmp_path: Path, tag: str):
    with pytest.raises(bundle.BundleError, match="release tag"):
        bundle.archive_release(other["bundle"], tag, archive=tmp_path / "archive")
    assert not (tmp_path / "archive").exists() and not (tmp_path / "evil").exists()


@pytest.mark.parametrize("case", ["parent path", "symlink", "checksum mismatch", "schema-invalid result"])
def test_a_bad_release_bundle_is_refused_and_nothing_lands(case: str, other: dict, tmp_path: Path):
    manifest, files = members(other["bundle"])
    path = _bad(case, manifest, files, tmp_path / "bad.tar.gz", other["bundle"])
    archive = tmp_path / "archive"
    archive.mkdir()
    with pytest.raises(bundle.BundleError):
        bundle.archive_release(path, "v0.9", archive=archive)
    assert list(archive.iterdir()) == []


def test_a_release_already_in_the_archive_is_left_as_it_is(other: dict, tmp_path: Path):
    archive = tmp_path / "archive"
    (archive / "v1.0").mkdir(parents=True)
    (archive / "v1.0" / "kept.json").write_text("{}")
    with pytest.raises(bundle.BundleError, match="exists already"):
        bundle.archive_release(other["bundle"], "v1.0", archive=archive)
    assert [p.name for p in (archive / "v1.0").iterdir()] == ["kept.json"]
    proc = run_cli("archive", str(other["bundle"]), "--tag", "../x", env={"BENCH_ARCHIVE_DIR": str(archive)})
    assert proc.returncode == 2 and "release tag" in proc.stderr and "Traceback" not in proc.stderr
