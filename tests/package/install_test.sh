#!/usr/bin/env bash
# Installs the build into a scratch prefix and checks what a user gets: the tools run, the
# man pages and completions are where they belong, find_package(pipeproc) and pkg-config
# build the embedding example; then builds the .deb and runs a tool from it.
# usage: install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$1 build=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pipeproc-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
p=$tmp/prefix
for t in pp pp-commit pp-range pp-length pp-check pp-proc pp-ack pp-reclaim pp-procs pp-wait pp-gc; do
  [[ -x $p/bin/$t ]] || fail "bin/$t not installed"
  "$p/bin/$t" --version >/dev/null || fail "$t --version failed"
done
[[ -f $p/share/man/man1/pp-commit.1 ]] || fail "man page pp-commit.1 not installed"
[[ -f $p/share/man/man7/pipeproc.7 ]] || fail "man page pipeproc.7 not installed"
[[ -f $p/share/bash-completion/completions/pp ]] || fail "bash completion not installed"
[[ -f $p/include/pipeproc/store.h ]] || fail "headers not installed"
# pp-ack --commit runs its helper from PREFIX/libexec/pipeproc.
export PIPEPROC_LOCATION=$tmp/store0
"$p/bin/pp-commit" -q -t t 1
"$p/bin/pp-proc" t -n p >/dev/null
"$p/bin/pp-ack" p --commit -t out '{"r":1}' >/dev/null || fail "installed pp-ack --commit failed"
[[ $("$p/bin/pp-length" out) == 1 ]] || fail "installed pp-ack --commit committed nothing"
# pp-commit runs its helper from there for stdin and envelopes.
echo '{"s":1}' | "$p/bin/pp-commit" -q -t t || fail "installed pp-commit from stdin failed"
"$p/bin/pp-commit" -q '{"topic":"t","body":2}' || fail "installed pp-commit of an envelope failed"
[[ $("$p/bin/pp-length" t) == 3 ]] || fail "installed pp-commit committed too little"
unset PIPEPROC_LOCATION

# find_package(pipeproc)
# A sanitizer build installs instrumented libraries: consumers need the same flags
# (PP_SANITIZER_FLAGS, set by tests/CMakeLists.txt).
san=${PP_SANITIZER_FLAGS:-}
cmake -S "$src/examples/embed" -B "$tmp/embed" -DCMAKE_PREFIX_PATH="$p" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="$san" >/dev/null
cmake --build "$tmp/embed" -j 2 >/dev/null
out=$("$tmp/embed/embed" "$tmp/store1") && [[ $out == *"squares holds 3 logs"* ]] || fail "embed (find_package) did not work"

# pkg-config
PKG_CONFIG_PATH=$p/lib/pkgconfig:$p/lib/x86_64-linux-gnu/pkgconfig
export PKG_CONFIG_PATH
# shellcheck disable=SC2086  # $san is a list of flags
g++ -O1 $san -o "$tmp/embed-pc" "$src/examples/embed/main.cpp" $(pkg-config --cflags --libs pipeproc)
out=$("$tmp/embed-pc" "$tmp/store2") && [[ $out == *"squares holds 3 logs"* ]] || fail "embed (pkg-config) did not work"

# The .deb, unpacked into a scratch root.
(cd "$build" && cpack -G DEB -B "$tmp/deb" >/dev/null) || fail "cpack failed"
deb=$(ls "$tmp"/deb/*.deb | head -n 1)
[[ -n $deb ]] || fail "no .deb built"
info=$(dpkg-deb -I "$deb")  # (not piped into grep -q: with pipefail, SIGPIPE would fail it)
[[ $info == *"Package: pipeproc"* ]] || fail "bad package metadata: $info"
dpkg-deb -x "$deb" "$tmp/root"
version=$("$tmp/root/usr/bin/pp-commit" --version) || fail "pp-commit from the .deb does not run"
[[ $version == *pipeproc* ]] || fail "unexpected version line: $version"
PIPEPROC_LOCATION=$tmp/store3 "$tmp/root/usr/bin/pp-commit" -t t '{"deb":1}' >/dev/null || fail "commit from the .deb failed"
echo "install_test: ok ($(basename "$deb"))"
