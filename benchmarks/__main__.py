"""Command line: ``python -m benchmarks list | run | show | merge | bundle | import | machines | archive``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from benchmarks import results as results_mod
from benchmarks import shards
from benchmarks.experiments import (
    PROFILES,
    Profile,
    UnknownExperimentError,
    UnknownProfileError,
    all_experiments,
    get_experiment,
    get_profile,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="experiments and the state of their results, with reasons")
    listing.add_argument("--profile", default="default", help=f"one of {', '.join(PROFILES)}")
    _shard_options(listing)
    run = sub.add_parser("run", help="run experiments that are not up to date")
    run.add_argument("names", nargs="*", help="experiments to run (default: all)")
    run.add_argument("--profile", default="default", help=f"one of {', '.join(PROFILES)}")
    run.add_argument("--force", action="store_true", help="re-run even when up to date")
    _shard_options(run)
    merge = sub.add_parser("merge", help="copy the results folders of shards into the results location")
    merge.add_argument("folders", nargs="+", metavar="DIR", help="results folders written by shards")
    show = sub.add_parser("show", help="print a stored result")
    show.add_argument("name")
    packing = sub.add_parser("bundle", help="write this machine's results to one archive for another site")
    packing.add_argument(
        "-o", "--output", metavar="FILE", help="default: results-<machine id>-<date>.tar.gz here"
    )
    packing.add_argument(
        "--note", metavar="TEXT", help="how the run was made, e.g. 'capped to AVX2, one thread'"
    )
    packing.add_argument("--profile", help="bundle only the results at this profile")
    adding = sub.add_parser("import", help="add bundles from other machines (results/machines/<id>/)")
    adding.add_argument("files", nargs="+", metavar="FILE", help="bundles written by 'bundle'")
    sub.add_parser("machines", help="list the machines with results: this one first, then the imported ones")
    archiving = sub.add_parser(
        "archive", help="add an earlier release's bundle to archive/<tag>/ (checked first)"
    )
    archiving.add_argument("file", metavar="FILE", help="the bundle attached to that release")
    archiving.add_argument("--tag", required=True, help="the release's tag (the folder's name)")
    args = parser.parse_args(argv)
    if args.command in ("bundle", "import", "machines", "archive"):
        return _machines_command(args)

    try:
        if args.command == "list":
            profile = get_profile(args.profile)
            if args.shard is not None:
                chosen, line = shards.choose(list(all_experiments().values()), args.shard, _costs(args))
                print(line)
                return _list(profile, {e.name for e in chosen})
            return _list(profile)
        if args.command == "run":
            profile = get_profile(args.profile)
            experiments = [get_experiment(n) for n in args.names] or list(all_experiments().values())
            if args.shard is not None:
                experiments, line = shards.choose(experiments, args.shard, _costs(args))
                print(line)
            # Before anything runs: a location that cannot take results would lose every result.
            try:
                results_mod.check_writable(results_mod.results_dir())
            except results_mod.ResultsLocationError as exc:
                print(
                    f"error: {exc}; nothing was run (BENCH_RESULTS_DIR sets the results location)",
                    file=sys.stderr,
                )
                return 2
            from benchmarks.runner import run_all

            try:
                outcomes = run_all(experiments, profile, force=args.force)
            except KeyboardInterrupt:
                print(
                    "interrupted: finished results are kept; run again to resume with what is missing",
                    file=sys.stderr,
                )
                return 130
            failed = [exp.name for exp, status, _ in outcomes if status == "failed"]
            if failed:
                print(f"error: failed experiments: {', '.join(failed)}", file=sys.stderr)
                return 3
            return 0
        if args.command == "merge":
            destination = results_mod.results_dir()
            written = shards.merge([Path(f) for f in args.folders], destination)
            print(f"merged {len(written)} results files from {len(args.folders)} folders into {destination}")
            return 0
        if args.command == "show":
            get_experiment(args.name)
            stored, failure = results_mod.load_experiment(args.name)
            if stored is None and failure is None:
                print(f"error: {args.name} has no results yet; run it first", file=sys.stderr)
                return 1
            for record in (stored, failure):
                if record is not None:
                    print(json.dumps(_without_samples(record.to_dict()), indent=1, ensure_ascii=False))
            return 0
    except (UnknownExperimentError, UnknownProfileError, results_mod.ResultsError, shards.ShardError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


def _costs(args: argparse.Namespace) -> Path | None:
    return Path(args.costs) if args.costs else None


def _shard_options(parser: argparse.ArgumentParser) -> None:
    """``--shard I/N`` and ``--costs DIR``, which ``list`` and ``run`` read alike."""
    parser.add_argument(
        "--shard", metavar="I/N", help="only shard I of N: a share of the experiments balanced by cost"
    )
    parser.add_argument(
        "--costs",
        metavar="DIR",
        help="where --shard reads each experiment's last duration (default: results/)",
    )


def _list(profile: Profile, only: set[str] | None = None) -> int:
    from benchmarks.machine import machine_card
    from benchmarks.results import results_dir
    from benchmarks.runner import state

    card = machine_card()
    for name, exp in sorted(all_experiments().items()):
        if only is not None and name not in only:
            continue
        status, reasons = state(exp, profile, card, results_dir())
        why = f": {'; '.join(reasons)}" if reasons else ""
        print(f"{name:28s} {exp.workload:12s} {status}{why}")
    return 0


def _without_samples(data: dict) -> dict:
    """Raw samples stay in the file; the terminal shows the summaries."""
    for point in data.get("points", []):
        for entry in point["variants"].values():
            entry["latency"] = {k: v for k, v in entry["latency"].items() if k != "values"}
    return data


def _machines_command(args: argparse.Namespace) -> int:
    """``bundle``, ``import``, ``machines`` and ``archive``: errors go to stderr with exit code 2."""
    from benchmarks import bundle, machines

    try:
        if args.command == "bundle":
            path = bundle.write_bundle(args.output or ".", profile=args.profile, note=args.note)
            print(f"wrote {path}")
            return 0
        if args.command == "archive":
            print(f"release {args.tag} -> {bundle.archive_release(args.file, args.tag)}")
            return 0
        if args.command == "import":
            bad = 0
            for file in args.files:
                try:
                    machine = bundle.import_bundle(file)
                except bundle.BundleError as exc:
                    print(f"error: {file}: nothing imported: {_printable(str(exc))}", file=sys.stderr)
                    bad += 1
                    continue
                count = len(machines.load_results(machine))
                label = _printable(machine.label)
                print(f"imported {machine.id} ({label}): {count} results -> {machine.directory}")
            return 2 if bad else 0
        found = machines.list_machines()
        if not found:
            print(f"no results in {results_mod.results_dir()} yet")
        for machine in found:
            role = "reference" if machine.reference else "imported"
            count = len(machines.load_results(machine))
            print(f"{machine.id}  {role:9s}  {count:3d} results  {_printable(machine.label)}")
        return 0
    except (bundle.BundleError, results_mod.ResultsError) as exc:
        print(f"error: {_printable(str(exc))}", file=sys.stderr)
        return 2


def _printable(text: str) -> str:
    """Strings from another machine go to a terminal: control characters are shown, not sent."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


if __name__ == "__main__":
    sys.exit(main())
