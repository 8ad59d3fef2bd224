#!/usr/bin/env bash
# Download the results attached to earlier releases into archive/<tag>/, so the
# "Releases compared" page can show them beside this build's. Needs the GitHub
# CLI and GH_TOKEN (the release workflow provides both); usage: SCRIPT [current-tag]
set -euo pipefail
current="${1:-}"
mkdir -p archive
gh release list --limit 50 --json tagName --jq '.[].tagName' | while read -r tag; do
  if [ "$tag" = "$current" ] || [ -d "archive/$tag" ]; then continue; fi
  tmp=$(mktemp -d)
  if gh release download "$tag" --pattern "results-*.tar.gz" --dir "$tmp"; then
    mkdir -p "archive/$tag"
    tar -xzf "$tmp"/results-*.tar.gz -C "archive/$tag" --strip-components=1
  else
    echo "note: release $tag has no results attached" >&2
  fi
  rm -rf "$tmp"
done
