#!/usr/bin/env bash
# Measures `pitool test-call --all` one request at a time (--parallel 1)
# against the default concurrency, over N throwaway credentials served by
# pitool-sandbox with a fixed delay on every provider request.
#
#   bench/bench-test-call-all.sh            # 200 credentials, 100 ms, 3 runs each
#   N=50 DELAY_MS=200 RUNS=5 BUILD=build/release bench/bench-test-call-all.sh
#
# Needs curl and a built pitool, pitool-net.so and pitool-sandbox in $BUILD.
# Everything lives in a temporary directory removed on exit; the vault uses
# the cheapest KDF level and a random passphrase, and tokens reach pitool on
# stdin only.
set -euo pipefail

BUILD=${BUILD:-build/dev}
N=${N:-200}
DELAY_MS=${DELAY_MS:-100}
RUNS=${RUNS:-3}
PARALLEL=${PARALLEL:-} # also measure at this concurrency (the default is always measured)

PITOOL=$(realpath "$BUILD/pitool")
SANDBOX=$(realpath "$BUILD/pitool-sandbox")
tmp=$(mktemp -d)
sandbox_pid=
cleanup() {
    [[ -n $sandbox_pid ]] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$SANDBOX" --port 0 --quiet >"$tmp/url" 2>/dev/null &
sandbox_pid=$!
for _ in $(seq 100); do [[ -s $tmp/url ]] && break; sleep 0.05; done
S=$(head -1 "$tmp/url")
[[ -n $S ]] || { echo "pitool-sandbox did not start" >&2; exit 1; }

export PITOOL_VAULT=$tmp/vault
PITOOL_PASSPHRASE=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
export PITOOL_PASSPHRASE
export PITOOL_LOCK_TIMEOUT=30
"$PITOOL" -q init --kdf interactive >/dev/null

echo "creating $N location PITs in the sandbox and the vault..." >&2
for i in $(seq "$N"); do
    token=$(curl -sf -X POST "$S/_sandbox/pits" \
        -d "{\"level\":\"location\",\"location_id\":\"LOC$i\",\"scopes\":[\"locations.readonly\"]}" |
        sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
    printf '%s\n' "$token" | "$PITOOL" -q create "bench-$i" --provider leadconnector --location "LOC$i" \
        --base-url "$S" --scope locations.readonly --token-stdin >/dev/null
done
unset token

# Every provider request now answers $DELAY_MS late.
curl -sf -X POST "$S/_sandbox/faults" -d "{\"kind\":\"delay\",\"delay_ms\":$DELAY_MS,\"count\":-1}" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

measure() { # label, extra args...
    local label=$1
    shift
    local times=()
    for _ in $(seq "$RUNS"); do
        local t0 t1
        t0=$(date +%s%N)
        "$PITOOL" test-call --all "$@" >/dev/null
        t1=$(date +%s%N)
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", (b - a) / 1e9}')")
    done
    printf '%-28s median %6s s   runs: %s\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" "${times[*]}"
}

echo "$N credentials, ${DELAY_MS} ms per request, $RUNS runs each ($(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg))"
measure "test-call --all --parallel 1" --parallel 1
measure "test-call --all (default)"
if [[ -n $PARALLEL ]]; then
    measure "test-call --all --parallel $PARALLEL" --parallel "$PARALLEL"
fi
