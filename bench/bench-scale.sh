#!/usr/bin/env bash
# Cost of pitool's everyday commands against the number of integrations in
# one vault (issue 5's scale figures). For each size it builds a throwaway
# vault with `pitool import`, unlocks it once (the agent holds the data key,
# so key derivation is excluded as the issue asks), then times with hyperfine:
# get, show, list, audit, one rotate --now, and a trivial process as the floor,
# and records each command's peak RSS.
#
#   bench/bench-scale.sh [BUILD_DIR] [SIZES...]      (default: build/release, 1 10 100 1000 10000 100000)
#
# Writes a CSV (size,command,median_ms,mean_ms,min_ms,max_ms,peak_rss_kb) to
# $OUT (default bench-scale.csv) and prints a markdown table.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1 10 100 1000 10000 100000)
pitool=$(realpath "$build/pitool")
out=${OUT:-bench-scale.csv}
runs=${RUNS:-30}
source bench/bench-common.sh
printf 'pit-4f1c2a9e-0000-4000-8000-%012d\n' 42 > "$work/newtoken"

peak_rss() { # peak RSS (KiB) of one run of "$@", by GNU time (package time)
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>&1
  cat "$work/rss"
}

echo "size,command,median_ms,mean_ms,min_ms,max_ms,peak_rss_kb" > "$out"
for n in "${sizes[@]}"; do
  export PITOOL_VAULT="$work/v$n/vault" PITOOL_PASSPHRASE_FILE="$work/pass"
  "$pitool" -q init --kdf interactive >/dev/null
  start=$(date +%s.%N)
  gen "$n" | "$pitool" -q import
  end=$(date +%s.%N)
  # Format 3: the vault file (header, top index) and its data file.
  size_kb=$(( $(cat "$PITOOL_VAULT" "$PITOOL_VAULT".data-* | wc -c) / 1024 ))
  echo "n=$n: import $(python3 -c "print(f'{($end-$start)*1000:.0f}')") ms, vault + data file $size_kb KiB" >&2
  "$pitool" -q unlock
  unset PITOOL_PASSPHRASE_FILE # from here on only the agent can open the vault
  mid=$(printf 'acme-location-%06d' $((n / 2)))
  declare -A cmds=(
    [floor]="$work/floor"
    [get]="$pitool get $mid"
    [show]="$pitool show $mid"
    [list]="$pitool list"
    [audit]="$pitool audit --max-age 3650"
    [rotate]="$pitool rotate $mid --now --token-file $work/newtoken"
  )
  for name in floor get show list audit rotate; do
    r=$runs
    [ "$n" -ge 10000 ] && [ "$name" != floor ] && r=$(( runs < 10 ? runs : 10 ))
    # A rotation needs a token it has not seen: a fresh one before every run.
    prepare=(true)
    [ "$name" = rotate ] && prepare=(sh -c "od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | sed 's/^/pit-4f1c2a9e-0000-4000-8000-/' > $work/newtoken")
    hyperfine -N --warmup 2 --runs "$r" --prepare "${prepare[*]@Q}" --export-json "$work/h.json" "${cmds[$name]}" >/dev/null
    "${prepare[@]}"
    rss=$(peak_rss ${cmds[$name]})
    python3 - "$work/h.json" "$n" "$name" "$rss" >> "$out" <<'PY'
import json, statistics, sys
r = json.load(open(sys.argv[1]))["results"][0]
t = [x * 1000 for x in r["times"]]
print(f"{sys.argv[2]},{sys.argv[3]},{statistics.median(t):.2f},{statistics.mean(t):.2f},{min(t):.2f},{max(t):.2f},{sys.argv[4]}")
PY
  done
  "$pitool" -q lock
  rm -rf "$work/v$n"
done

python3 - "$out" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sizes = sorted({int(r["size"]) for r in rows})
cmds = ["floor", "get", "show", "list", "audit", "rotate"]
print("| integrations | " + " | ".join(f"{c} ms (RSS MiB)" for c in cmds) + " |")
print("|---:|" + "---:|" * len(cmds))
for n in sizes:
    cells = []
    for c in cmds:
        r = next(x for x in rows if int(x["size"]) == n and x["command"] == c)
        cells.append(f'{float(r["median_ms"]):.2f} ({int(r["peak_rss_kb"]) / 1024:.1f})')
    print(f"| {n} | " + " | ".join(cells) + " |")
PY
