#!/usr/bin/env bash
# Install the named Debian packages that are missing (idempotent; says what it installs).
# --no-install-recommends: name every package a target needs, Recommends included (the Makefile's
# apt-long names libclang-rt-N-dev, which clang only Recommends and the fuzzers link).
set -euo pipefail
missing=()
for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "== installing Debian packages: ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "error: not root; run: sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
