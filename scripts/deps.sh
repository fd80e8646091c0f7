#!/usr/bin/env bash
# Installs the Debian packages pipeproc builds and tests with, if any are missing.
# Used by `make demo` and `make test`; safe to run again.
set -euo pipefail
pkgs=(cmake g++ make pkg-config libcli11-dev libfmt-dev libxxhash-dev libboost-dev doctest-dev
      libsimdjson-dev rapidjson-dev scdoc bats python3 dpkg-dev file jq clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q "${missing[@]}" >/dev/null ||
  { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
