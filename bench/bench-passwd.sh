#!/usr/bin/env bash
# `pitool passwd` on a vault of N integrations (default 10,000): the whole
# process, the two Argon2id derivations included (the vault is made with
# `init --kdf interactive`, which passwd keeps: ~0.1 s of CPU each), timed by
# hyperfine over RUNS runs (default 3), no warm-up. Each run changes the
# passphrase back and forth (a --prepare swaps the two passphrase files), so
# every run does the same work on a vault of the same size.
#
#   bench/bench-passwd.sh [BUILD_DIR] [OTHER_PITOOL...]   (default: build/release)
#
# The vault is built by `pitool-bench-gen N | pitool import` (BUILD_DIR's
# generator). Every OTHER_PITOOL binary (e.g. a copy of an older build) gets
# a vault of its own, built by itself the same way, and is timed the same way.
# Prints one line per binary: median, mean, min, max (ms) and the vault size.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
shift || true
bins=("$(realpath "$build/pitool")")
for p in "$@"; do bins+=("$(realpath "$p")"); done
gen=$build/pitool-bench-gen
[ -x "$gen" ] || gen=$build/bench/pitool-bench-gen # where a build tree puts it
gen=$(realpath "$gen")
n=${N:-10000}
runs=${RUNS:-3}
command -v hyperfine >/dev/null || { echo "$(basename "$0"): needs hyperfine" >&2; exit 2; }

umask 077
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export PITOOL_NO_AGENT=1 # the agent plays no part: no socket is contacted

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
k=0
for bin in "${bins[@]}"; do
  k=$((k + 1))
  d="$work/v$k"
  mkdir -m 700 "$d"
  printf 'bench-passwd passphrase A\n' > "$d/a"
  printf 'bench-passwd passphrase B\n' > "$d/b"
  PITOOL_VAULT="$d/vault" PITOOL_PASSPHRASE_FILE="$d/a" "$bin" -q init --kdf interactive >/dev/null
  "$gen" "$n" | PITOOL_VAULT="$d/vault" PITOOL_PASSPHRASE_FILE="$d/a" "$bin" -q import
  # cur holds the vault's passphrase after each prepare, next the new one.
  cp "$d/b" "$d/cur"
  cp "$d/a" "$d/next"
  size_kb=$(( $(cat "$d/vault" "$d"/vault.data-* | wc -c) / 1024 ))
  hyperfine -N --runs "$runs" --warmup 0 \
    --prepare "sh -c 'mv $d/cur $d/t && mv $d/next $d/cur && mv $d/t $d/next'" \
    --export-json "$d/h.json" \
    "env PITOOL_VAULT=$d/vault PITOOL_PASSPHRASE_FILE=$d/cur PITOOL_NEW_PASSPHRASE_FILE=$d/next $bin -q passwd" \
    >/dev/null
  # The last run's passphrase must open the vault: the runs really changed it.
  PITOOL_VAULT="$d/vault" PITOOL_PASSPHRASE_FILE="$d/next" "$bin" -q verify >/dev/null
  python3 - "$d/h.json" "$bin" "$n" "$size_kb" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
ms = lambda s: s * 1000
print(f"{sys.argv[2]}: passwd at {sys.argv[3]} integrations ({sys.argv[4]} KiB): median {ms(r['median']):.0f} ms, "
      f"mean {ms(r['mean']):.0f}, min {ms(r['min']):.0f}, max {ms(r['max']):.0f} ({len(r['times'])} runs)")
PY
done
