#!/usr/bin/env bash
# Builds the libFuzzer targets (clang 14, ASan + UBSan; CMake preset "fuzz")
# and runs each one, one after the other, for SECONDS seconds (default 30) on
# a scratch copy of its seed corpus (fuzz/corpus/<target>; the committed
# corpus never grows). Prints executions and exec/s per target from
# libFuzzer's final stats. Exits non-zero on any crash, leak, UB, timeout or
# out-of-memory; the offending input is kept in the artifact directory.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (env: FUZZ_WORK=dir to keep)
set -euo pipefail

seconds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

# clang++-14 and its runtimes (libclang_rt.fuzzer* ship in libclang-rt-14-dev).
need=()
command -v clang++-14 >/dev/null || need+=(clang-14)
ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
if ((${#need[@]})); then
  echo "fuzz: installing ${need[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target pitool_fuzz

# target:max_len (bytes) — enough for the largest realistic input of each.
targets=(
  fuzz_vault_parse:8192
  fuzz_payload_decode:8192
  fuzz_records:4096
  fuzz_lc_responses:4096
  fuzz_hint_responses:4096
  fuzz_sandbox_handle:4096
  fuzz_http_inputs:512
)

work=${FUZZ_WORK:-$(mktemp -d)}
[ -n "${FUZZ_WORK:-}" ] || trap 'rm -rf "$work"' EXIT
failed=0
printf '%-22s %8s %12s %8s %s\n' target seconds executions exec/s result
for entry in "${targets[@]}"; do
  t=${entry%%:*} max_len=${entry##*:}
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp fuzz/corpus/$t/* "$work/$t/corpus/"
  set +e
  # -timeout: one input may take at most 10 s (a big KDF would trip it);
  # -rss_limit_mb: the default 2 GiB, stated so a 1 GiB memlimit cannot hide.
  build/fuzz/fuzz/$t "$work/$t/corpus" -max_total_time="$seconds" -max_len="$max_len" \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -detect_leaks=1 \
    -artifact_prefix="$work/$t/artifacts/" >"$work/$t/log" 2>&1
  rc=$?
  set -e
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/$t/log")
  result=ok
  if [ "$rc" -ne 0 ] || ls "$work/$t/artifacts/"* >/dev/null 2>&1; then
    result="FAILED (rc $rc): $(ls "$work/$t/artifacts/" | tr '\n' ' ')"
    failed=1
    grep -E 'ERROR|runtime error|invariant' "$work/$t/log" | head -5 >&2 || true
    [ -n "${FUZZ_WORK:-}" ] || cp -r "$work/$t" "build/fuzz/failed-$t"
  fi
  printf '%-22s %8s %12s %8s %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "$result"
done
exit $failed
