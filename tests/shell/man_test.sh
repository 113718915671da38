#!/usr/bin/env bash
# The generated pitool(1) renders with `man -l` and groff, and has the
# sections a manual page needs; its command list and every command's
# examples are the program's own.
#   man_test.sh MAN_PAGE PITOOL
set -euo pipefail
page=$1 pitool=$2
rendered=$(MANWIDTH=100 man -l "$page" 2>&1)
groff -man -Tutf8 -ww -z "$page" 2>"${TMPDIR:-/tmp}/man_test.$$" || { cat "${TMPDIR:-/tmp}/man_test.$$"; exit 1; }
[ ! -s "${TMPDIR:-/tmp}/man_test.$$" ] || { echo "groff warnings:"; cat "${TMPDIR:-/tmp}/man_test.$$"; rm -f "${TMPDIR:-/tmp}/man_test.$$"; exit 1; }
rm -f "${TMPDIR:-/tmp}/man_test.$$"
status=0
for section in NAME SYNOPSIS DESCRIPTION "EXIT STATUS" ENVIRONMENT FILES EXAMPLES; do
  grep -q "^$section" <<<"$rendered" || { echo "no $section section" >&2; status=1; }
done
# Every command the program lists is in the page (one source: --help-all).
for cmd in $("$pitool" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'); do
  grep -q "$cmd" <<<"$rendered" || { echo "command $cmd missing from the page" >&2; status=1; }
done
# Every command's --help examples, each line and what it does, are in the page
# (one source: the CommandSpec examples). Rendered wide so no line wraps.
wide=$(MANWIDTH=400 man -l "$page" 2>&1 | sed 's/^ *//')
for cmd in $("$pitool" --help | sed -n '/^Subcommands:/,$p' | awk 'NR > 1 && NF { print $1 }'); do
  examples=$("$pitool" "$cmd" --help | sed -n '/^Examples:/,/^$/p' | sed '1d;/^$/d;s/^ *//')
  [ -n "$examples" ] || { echo "no examples in pitool $cmd --help" >&2; status=1; }
  while IFS= read -r line; do
    grep -qxF -- "$line" <<<"$wide" || { echo "example of $cmd missing from the page: $line" >&2; status=1; }
  done <<<"$examples"
done
grep -q "wrong passphrase" <<<"$rendered" || { echo "exit code 5 missing" >&2; status=1; }
exit $status
