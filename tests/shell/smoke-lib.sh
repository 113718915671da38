# Sourced by the shell tests: a throwaway vault, a pitool-sandbox on
# 127.0.0.1 and one real test call through given pitool and pitool-sandbox
# binaries (an installed pair, typically). Needs curl and jq.
#   smoke_test_call PITOOL SANDBOX WORKDIR
smoke_test_call() {
  local pitool=$1 sandbox=$2 work=$3 base pid
  umask 077
  head -c 24 /dev/urandom | base64 > "$work/passphrase"
  export PITOOL_VAULT=$work/vault PITOOL_PASSPHRASE_FILE=$work/passphrase PITOOL_NO_AGENT=1
  # The first line the sandbox prints is its URL: read it from a pipe (no polling).
  exec 7< <(exec "$sandbox" --port 0 --quiet)
  pid=$!
  read -r -t 30 base <&7 || { echo "smoke: $sandbox did not start" >&2; return 1; }
  case $base in http://127.0.0.1:*) ;; *) echo "smoke: unexpected sandbox URL $base" >&2; kill "$pid"; return 1 ;; esac
  "$pitool" -q init --kdf interactive
  curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"id":"loc-smoke","name":"Smoke","company_id":"comp-smoke"}' "$base/_sandbox/locations" >/dev/null
  curl -fsS -X POST -H 'Content-Type: application/json' \
    -d '{"level":"location","location_id":"loc-smoke","name":"smoke","scopes":["locations.readonly"]}' \
    "$base/_sandbox/pits" | jq -r .token |
    "$pitool" -q create smoke --provider leadconnector --location loc-smoke --scope locations.readonly \
      --base-url "$base" --token-stdin
  local out rc=0
  out=$("$pitool" test-call smoke) || rc=$?
  kill "$pid" 2>/dev/null || true
  exec 7<&-
  if [ "$rc" != 0 ] || [[ $out != *"HTTP 200"* ]]; then
    echo "smoke: test-call failed (exit $rc): $out" >&2
    return 1
  fi
  echo "smoke: $out"
}
