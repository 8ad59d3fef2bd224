#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (test tools cannot download browsers here) and a
# CJK font, without which the Chinese pages render as boxes and the glyph check fails.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-noto-cjk)
if [ "${#missing[@]}" -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "error: ${missing[*]} missing and installing needs root (apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}"
