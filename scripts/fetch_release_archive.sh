#!/usr/bin/env bash
# Download the results bundles attached to earlier releases into archive/<tag>/, so the
# "Releases compared" page can show them beside this build's. Needs the GitHub CLI and
# GH_TOKEN (the release workflow provides both); usage: SCRIPT [current-tag]
# A download is untrusted: `python -m benchmarks archive` checks every member of the bundle
# (paths, sizes, checksums, the results schema) before anything lands in archive/<tag>/.
set -euo pipefail
current="${1:-}"
python="${PYTHON:-.venv/bin/python}"
mkdir -p archive
gh release list --limit 50 --json tagName --jq '.[].tagName' | while read -r tag; do
  if [ "$tag" = "$current" ] || [ -d "archive/$tag" ]; then continue; fi
  tmp=$(mktemp -d)
  # The reference machine's bundle is results-<tag>.tar.gz; other machines' bundles have their own names.
  if gh release download "$tag" --pattern "results-$tag.tar.gz" --dir "$tmp"; then
    "$python" -m benchmarks archive "$tmp/results-$tag.tar.gz" --tag "$tag" \
      || echo "note: release $tag: its results bundle was refused (see above)" >&2
  else
    echo "note: release $tag has no results attached" >&2
  fi
  rm -rf "$tmp"
done
