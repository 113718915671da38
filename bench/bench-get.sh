#!/usr/bin/env bash
# `pitool get NAME` on a tiny vault with the agent warm, against the
# trivial-process floor (`int main(){return 0;}`, cc -O2), side by side in ONE
# hyperfine invocation so that the machine's load affects both alike. The
# target (issue 5) is a median at most 3x the floor's.
#
#   bench/bench-get.sh [BUILD_DIR] [OTHER_PITOOL...]   (default: build/release)
#
# N (default 10) integrations, RUNS (default 300) runs after WARMUP (default
# 20). Any OTHER_PITOOL binaries (e.g. a copy of an older build, with its
# pitool-net.so next to it) are timed in the same invocation against the same
# vault and agent. Extra hyperfine options in $HYPERFINE_OPTS (e.g.
# "--export-json get.json").
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
pitool=$(realpath "$build/pitool")
others=()
for p in "$@"; do others+=("$(realpath "$p")"); done
n=${N:-10}
runs=${RUNS:-300}
warmup=${WARMUP:-20}
source bench/bench-common.sh

export PITOOL_VAULT="$work/vault" PITOOL_PASSPHRASE_FILE="$work/pass"
"$pitool" -q init --kdf interactive >/dev/null
gen "$n" | "$pitool" -q import
"$pitool" -q unlock
unset PITOOL_PASSPHRASE_FILE # from here on only the agent can open the vault
mid=$(printf 'acme-location-%06d' $((n / 2)))
# Every binary must really be served by the agent (no passphrase is available).
for p in "$pitool" "${others[@]}"; do "$p" get "$mid" >/dev/null; done

cmds=("$work/floor" "$pitool get $mid")
for p in "${others[@]}"; do cmds+=("$p get $mid"); done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
# shellcheck disable=SC2086
hyperfine -N --warmup "$warmup" --runs "$runs" ${HYPERFINE_OPTS:-} --export-json "$work/h.json" "${cmds[@]}"
python3 - "$work/h.json" <<'PY'
import json, statistics, sys
res = json.load(open(sys.argv[1]))["results"]
floor = statistics.median(res[0]["times"])
for r in res:
    m = statistics.median(r["times"])
    print(f"{r['command']}: median {m * 1000:.3f} ms = {m / floor:.2f} x floor")
PY
