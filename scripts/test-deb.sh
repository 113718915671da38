#!/usr/bin/env bash
# Builds the .deb packages from an existing build tree (no extra build),
# installs them with dpkg -i, runs the installed `pitool --version`, renders
# the installed man page, checks the installed bash completion, makes one
# test call against the installed pitool-sandbox, and removes both packages.
# Needs root (CI runs it from scripts/test.sh); exits 77 (skipped) otherwise.
#
#   scripts/test-deb.sh [BUILD_DIR]   (default: build/dev)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$(realpath "${1:-build/dev}")
if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
  echo "test-deb: needs root and dpkg; skipped" >&2
  exit 77
fi
if dpkg-query -W -f='${Status}' pitool 2>/dev/null | grep -q "install ok installed"; then
  echo "test-deb: a pitool package is installed already; not touching it" >&2
  exit 1
fi
work=$(mktemp -d)
cleanup() {
  dpkg --purge pitool pitool-sandbox >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# cmake/Packaging.cmake writes them to BUILD_DIR/packages.
rm -f "$build"/packages/pitool*.deb
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/packages/pitool_*.deb "$build"/packages/pitool-sandbox_*.deb)
for d in "${debs[@]}"; do
  [ -f "$d" ] || { echo "test-deb: no package $d" >&2; exit 1; }
  echo "test-deb: $(basename "$d"): $(dpkg-deb -f "$d" Depends)"
done
dpkg-deb -f "$build"/packages/pitool_*.deb Depends | grep -q libsodium23 || { echo "test-deb: no libsodium23 dependency" >&2; exit 1; }
dpkg -i "${debs[@]}" >/dev/null

/usr/bin/pitool --version
[ -e /usr/libexec/pitool/pitool-net.so ] || { echo "test-deb: no network module" >&2; exit 1; }
if [ -e /usr/share/man/man1/pitool.1.gz ] || [ -e /usr/share/man/man1/pitool.1 ]; then
  page=$(man -l /usr/share/man/man1/pitool.1* 2>/dev/null)
  grep -q "EXIT STATUS" <<<"$page" || { echo "test-deb: man page" >&2; exit 1; }
fi
bash -c 'source /usr/share/bash-completion/completions/pitool; complete -p pitool' | grep -q _pitool
source tests/shell/smoke-lib.sh
mkdir "$work/run"
(cd "$work/run" && smoke_test_call /usr/bin/pitool /usr/bin/pitool-sandbox "$work/run")

dpkg --purge pitool-sandbox pitool >/dev/null
[ ! -e /usr/bin/pitool ] || { echo "test-deb: /usr/bin/pitool left behind" >&2; exit 1; }
echo "test-deb: ok"
