"""Merge per-platform locks (``uv pip compile --generate-hashes`` output) into one file.

Usage: ``python scripts/merge_locks.py LOCK=MACHINE ...`` (MACHINE as ``platform.machine()``
names it: x86_64, aarch64). Every platform must pin a package at the same version; a package
that not every platform needs gets ``; platform_machine == "..."``; hashes are the union.
Prints the merged lock.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


def read(path: Path) -> dict[str, tuple[str, str, list[str]]]:
    """name -> (spelling, version, hashes), in file order."""
    found: dict[str, tuple[str, str, list[str]]] = {}
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = LINE.match(line)
        if match:
            current = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            found[current] = (match.group(1), match.group(2), [])
        for digest in HASH.findall(line):
            if current is None:
                raise SystemExit(f"{path}: a hash before any package")
            found[current][2].append(digest)
    return found


def main(args: list[str]) -> int:
    locks = []
    for arg in args:
        path, _, machine = arg.partition("=")
        if not machine:
            raise SystemExit(f"usage: merge_locks.py LOCK=MACHINE ...; got {arg!r}")
        locks.append((machine, read(Path(path))))
    names = sorted({n for _, lock in locks for n in lock})
    out = []
    for name in names:
        where = [(machine, lock[name]) for machine, lock in locks if name in lock]
        versions = {entry[1] for _, entry in where}
        if len(versions) != 1:
            raise SystemExit(f"{name}: different versions per platform: {sorted(versions)}")
        spelling, version = where[0][1][0], where[0][1][1]
        hashes = sorted({h for _, entry in where for h in entry[2]})
        if not hashes:
            raise SystemExit(f"{name}: no hashes")
        marker = ""
        if len(where) < len(locks):
            marker = " ; " + " or ".join(f'platform_machine == "{m}"' for m, _ in where)
        out.append(f"{spelling}=={version}{marker} \\")
        out.extend(f"    --hash={h}" + (" \\" if i < len(hashes) - 1 else "") for i, h in enumerate(hashes))
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
