#!/usr/bin/env bash
# `make lock`: regenerate requirements.txt from requirements.in with a resolver (uv), every
# package pinned with the sha256 of each of its files on PyPI, for the platforms this project
# runs on: Linux x86-64 (this machine, GitHub's ubuntu-latest) and Linux aarch64 (GitHub's
# ubuntu-24.04-arm), CPython 3.11. The versions of today's lock are kept (passed as
# constraints): a new version would make every stored result stale, so changing one is a
# deliberate edit of the constraints this script reads from the current requirements.txt.
#
# torch is locked apart: PyPI's torch 2.13.0 is the CUDA build on Linux x86-64, and its
# dependencies pull gigabytes of CUDA libraries. The lock resolves everything else with torch
# excluded, adds torch's own dependencies (read from the installed CPU wheel's metadata), and
# ends with torch pinned to the CPU wheel of this machine type (x86-64, CPython 3.11), hashed
# with the sha256 of that file. See README.md, "Installing", for the hosted runners.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
UV=${UV:-.venv/bin/uv}
TORCH_WHEEL=${TORCH_WHEEL:-$(ls /opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl 2>/dev/null || true)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# today's versions as constraints: everything the lock pins now, torch aside
# today's versions as constraints: everything the lock pins now, torch aside, and for a package
# it does not pin yet (a new dependency), the version installed in .venv
"$PY" - requirements.txt > "$tmp/pins.txt" <<'PYEOF'
import importlib.metadata as m
import re
import sys

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

pins = {}
for line in open(sys.argv[1], encoding="utf-8"):
    found = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)", line)
    if found:
        pins.setdefault(norm(found.group(1)), f"{found.group(1)}=={found.group(2)}")
for dist in m.distributions():
    name = dist.metadata["Name"]
    if name and norm(name) not in pins and norm(name) not in ("pip", "uv", "cpu-inference-guide"):
        pins[norm(name)] = f"{name}=={dist.version}"
pins.pop("torch", None)
print("\n".join(sorted(pins.values(), key=str.lower)))
PYEOF
echo torch > "$tmp/exclude.txt"
"$PY" - > "$tmp/torch-deps.in" <<'PYEOF'
import importlib.metadata as m
for req in m.requires("torch") or []:
    if "extra ==" not in req:
        print(req)
PYEOF
# One resolution per platform (a universal one would also take in Python versions past 3.11),
# merged: a package that only one platform needs carries a platform_machine marker.
for platform in x86_64-manylinux_2_36 aarch64-manylinux_2_39; do
  "$UV" pip compile requirements.in "$tmp/torch-deps.in" \
    --constraints "$tmp/pins.txt" --excludes "$tmp/exclude.txt" \
    --python-platform "$platform" --python-version 3.11.7 --generate-hashes --no-header --no-annotate \
    --only-binary :all: --no-binary jieba --index-url https://pypi.org/simple --no-config \
    -o "$tmp/$platform.txt" >/dev/null
done
"$PY" scripts/merge_locks.py "$tmp/x86_64-manylinux_2_36.txt=x86_64" "$tmp/aarch64-manylinux_2_39.txt=aarch64" > "$tmp/lock.txt"
if [ -z "$TORCH_WHEEL" ]; then
  echo "error: the CPU torch wheel is not in /opt/wheels; set TORCH_WHEEL=path/to/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl" >&2
  exit 2
fi
torch_hash=$(sha256sum "$TORCH_WHEEL" | cut -d' ' -f1)
{
  echo "# The lock: every package pinned, with hashes; install with"
  echo "#   pip install --require-hashes -r requirements.txt"
  echo "# Made by 'make lock' (scripts/lock.sh: uv pip compile --generate-hashes per platform) from"
  echo "# requirements.in, keeping the versions pinned before. Resolved for CPython 3.11 on Linux"
  echo "# x86-64 (manylinux_2_36: this machine type, ubuntu-latest) and Linux aarch64 (manylinux_2_39:"
  echo "# ubuntu-24.04-arm); a package only one of them needs carries a platform_machine marker."
  echo "# litert-torch and what only it needs have no Linux aarch64 wheel: x86-64 only."
  cat "$tmp/lock.txt"
  echo
  echo "# torch: the CPU build, locked apart from the rest, hashed for this machine type only: the"
  echo "# sha256 of $(basename "$TORCH_WHEEL"), the file it keeps in /opt/wheels."
  echo "# GitHub's runners (x86-64 and aarch64) install torch first, unhashed, from the PyTorch CPU"
  echo "# index ('make torch-cpu'); pip then finds torch installed and fetches nothing for this line."
  echo "torch==2.13.0 \\"
  echo "    --hash=sha256:$torch_hash"
} > requirements.txt.new
mv requirements.txt.new requirements.txt
echo "requirements.txt: $(grep -cE '^[A-Za-z0-9]' requirements.txt) packages pinned with hashes"
