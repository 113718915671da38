#!/usr/bin/env bash
# Shell completion driven as bash drives it (COMP_WORDS, COMP_CWORD, _pitool,
# COMPREPLY), plus `zsh -n` / `fish -n` on the generated scripts when those
# shells are installed. Integration names are offered only while the agent
# holds the vault's key, and completing never reads the passphrase.
#   completion_test.sh PITOOL
set -euo pipefail
pitool=$1
work=$(mktemp -d)
export PITOOL_VAULT=$work/vault PITOOL_PASSPHRASE_FILE=$work/pass PITOOL_AGENT_SOCKET=$work/agent/agent.sock
export XDG_STATE_HOME=$work/state
trap '"$pitool" -q lock || true; rm -rf "$work"' EXIT
cd "$work"
umask 077
head -c 24 /dev/urandom | base64 > "$work/pass"
"$pitool" -q init --kdf interactive
echo "pit-0f8f2f2e-5b0e-4a4e-9c53-2b1d3c4e5f60" |
  "$pitool" -q create acme-crm --provider leadconnector --location LOC1 --token-stdin
echo "pit-1f8f2f2e-5b0e-4a4e-9c53-2b1d3c4e5f61" |
  "$pitool" -q create beta-crm --provider leadconnector --location LOC2 --token-stdin

failures=0
# complete WORD... : the candidates bash offers after `pitool WORD...` (last word being completed).
complete_words() {
  bash -c 'source <("$0" completion bash) || exit 1
           COMP_WORDS=("$0" "$@"); COMP_CWORD=$#
           _pitool; printf "%s\n" "${COMPREPLY[@]}"' "$pitool" "$@" </dev/null
}
expect() { # expect "DESCRIPTION" "EXPECTED (sorted, space separated)" WORD...
  local what=$1 want=$2 got
  shift 2
  got=$(complete_words "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: pitool $*<TAB> offered [$got], expected [$want]" >&2
    failures=$((failures + 1))
  else
    echo "ok: $what"
  fi
}
expect_has() { # expect_has "DESCRIPTION" CANDIDATE WORD...
  local what=$1 want=$2
  shift 2
  local got
  got=$(complete_words "$@") # not piped into grep -q: pipefail would see printf's SIGPIPE
  if grep -qx -- "$want" <<<"$got"; then echo "ok: $what"; else
    echo "FAIL: $what: pitool $*<TAB> did not offer $want" >&2
    failures=$((failures + 1))
  fi
}

bash -c 'source <("$0" completion bash); complete -p pitool' "$pitool" | grep -qx 'complete -F _pitool pitool' ||
  { echo "FAIL: complete -p pitool" >&2; failures=$((failures + 1)); }
expect "commands by prefix" "exchange-code exec expire-old export" "ex"
expect "the completion command itself" "completion" "compl"
expect "hidden commands stay hidden" "" "__"
expect_has "every command" "test-call" ""
expect_has "global flags" "--verbose" "--ver"
expect "a command's flags" "--old" "get" "--o"
expect "provider values" "hint leadconnector" "test-call" "--all" "--provider" ""
expect "kind values" "oauth oauth-app" "create" "x" "--kind" "oau"
expect "KDF levels" "interactive" "init" "--kdf" "i"
expect_has "a command's own commands" "new" "identity" ""
expect "a command's own commands by prefix" "show" "identity" "sh"
expect "a nested command's flags" "--unprotected" "identity" "new" "--unp"
expect_has "files for --token-file" "pass" "create" "x" "--token-file" ""
# Locked: no names, even though a passphrase file is right there, and no prompt.
expect "no names while locked" "" "get" ""
out=$(setsid "$pitool" __complete names </dev/null 2>&1) || { echo "FAIL: __complete exit $?" >&2; failures=$((failures + 1)); }
[ -z "$out" ] || { echo "FAIL: __complete names printed [$out] while locked" >&2; failures=$((failures + 1)); }
"$pitool" -q unlock --ttl 5m
expect "names while unlocked" "acme-crm beta-crm" "show" ""
expect "names by prefix" "acme-crm" "-v" "get" "ac"
expect "names after global options" "beta-crm" "--json" "rotate" "b"
if grep -q crm <<<"$(complete_words "list" "")"; then
  echo "FAIL: list offered integration names" >&2
  failures=$((failures + 1))
else echo "ok: no names for commands without one"; fi
"$pitool" -q lock

for shell in zsh fish; do
  if command -v "$shell" >/dev/null; then
    "$pitool" completion "$shell" > "$work/script.$shell"
    if "$shell" -n "$work/script.$shell"; then echo "ok: $shell -n"; else
      echo "FAIL: $shell -n" >&2
      failures=$((failures + 1))
    fi
  fi
done
if "$pitool" completion tcsh >/dev/null 2>&1; then echo "FAIL: completion tcsh succeeded" >&2; failures=$((failures + 1)); fi
exit $((failures > 0))
