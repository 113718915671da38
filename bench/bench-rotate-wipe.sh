#!/usr/bin/env bash
# The cost of wiping dead secrets (issue 12): one `rotate --now` at N
# integrations (default 100,000) by two builds of pitool, side by side in one
# hyperfine run on the same vault, so that load hits both alike. BASE is a
# build from before the wipe, NEW one with it; each rotation gets a fresh
# token, and every write by NEW wipes what the write before it replaced.
#
#   bench/bench-rotate-wipe.sh BASE_BUILD_DIR NEW_BUILD_DIR [N]
#
# Both build dirs need pitool and pitool-net (cmake --build --preset release
# --target pitool pitool-net pitool-bench-gen). The agent holds the key: no
# key derivation is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
base=$(realpath "$1/pitool")
pitool=$(realpath "$2/pitool")
n=${3:-100000}
runs=${RUNS:-21}
source bench/bench-common.sh
export PITOOL_VAULT="$work/v/vault" PITOOL_PASSPHRASE_FILE="$work/pass"
"$pitool" -q init --kdf interactive >/dev/null
gen "$n" | "$pitool" -q import
"$pitool" -q unlock
unset PITOOL_PASSPHRASE_FILE
mid=$(printf 'acme-location-%06d' $((n / 2)))
fresh="sh -c \"od -An -N6 -tx1 /dev/urandom | tr -d ' \\\\n' | sed 's/^/pit-4f1c2a9e-0000-4000-8000-/' > $work/newtoken\""
eval "$fresh"
hyperfine -N --warmup 3 --runs "$runs" --prepare "$fresh" --export-json "$work/h.json" \
  -n before "$base rotate $mid --now --token-file $work/newtoken" \
  -n wipe "$pitool rotate $mid --now --token-file $work/newtoken" >&2
python3 - "$work/h.json" "$n" <<'PY'
import json, statistics, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
b, w = (statistics.median(r[k]["times"]) * 1000 for k in ("before", "wipe"))
print(f"n={sys.argv[2]}: rotate --now median before {b:.2f} ms, with the wipe {w:.2f} ms, ratio {w / b:.2f}")
PY
"$pitool" verify >/dev/null && echo "verify: ok" >&2
