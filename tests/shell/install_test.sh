#!/usr/bin/env bash
# `cmake --install BUILD --prefix P` gives a working pitool at any prefix, and
# keeps working when the prefix is moved: the program finds pitool-net.so
# relative to its own location. Docs, man page and completions are installed
# where Debian's tools look.   install_test.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
source "$here/smoke-lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/first" >/dev/null
fail() { echo "install_test: $*" >&2; exit 1; }
for f in bin/pitool bin/pitool-sandbox libexec/pitool/pitool-net.so share/doc/pitool/LICENSE \
         share/doc/pitool/copyright share/doc/pitool/cli.md share/bash-completion/completions/pitool \
         share/zsh/vendor-completions/_pitool share/fish/vendor_completions.d/pitool.fish; do
  [ -e "$work/first/$f" ] || fail "missing $f"
done
if command -v help2man >/dev/null; then
  [ -e "$work/first/share/man/man1/pitool.1" ] || fail "missing share/man/man1/pitool.1"
fi
# Moved after installing: nothing may point at the first prefix.
mv "$work/first" "$work/moved"
"$work/moved/bin/pitool" --version | grep -qx "pitool [0-9.]*" || fail "--version"
mkdir "$work/run"
smoke_test_call "$work/moved/bin/pitool" "$work/moved/bin/pitool-sandbox" "$work/run"
echo "install_test: ok"
