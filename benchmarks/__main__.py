"""Command line: ``python -m benchmarks list | run | show``."""

from __future__ import annotations

import argparse
import json
import sys

from benchmarks import results as results_mod
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
    run = sub.add_parser("run", help="run experiments that are not up to date")
    run.add_argument("names", nargs="*", help="experiments to run (default: all)")
    run.add_argument("--profile", default="default", help=f"one of {', '.join(PROFILES)}")
    run.add_argument("--force", action="store_true", help="re-run even when up to date")
    show = sub.add_parser("show", help="print a stored result")
    show.add_argument("name")
    args = parser.parse_args(argv)

    try:
        if args.command == "list":
            return _list(get_profile(args.profile))
        if args.command == "run":
            profile = get_profile(args.profile)
            experiments = [get_experiment(n) for n in args.names] or list(all_experiments().values())
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
    except (UnknownExperimentError, UnknownProfileError, results_mod.ResultsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 2


def _list(profile: Profile) -> int:
    from benchmarks.machine import machine_card
    from benchmarks.results import results_dir
    from benchmarks.runner import state

    card = machine_card()
    for name, exp in sorted(all_experiments().items()):
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


if __name__ == "__main__":
    sys.exit(main())
