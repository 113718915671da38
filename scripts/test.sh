#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and pass the whole test
# suite through ctest — in the debug build (warnings as errors) and again in
# the AddressSanitizer + UndefinedBehaviorSanitizer build — then run every
# libFuzzer target briefly. Used by .ci/run.
#
# The suites run with TMPDIR set to a fresh directory of this run. After each
# suite the script lists the skipped tests with their reasons, and fails if
# any process the run started is still alive (its argv names the build tree
# or that directory, or its working directory is inside it): a leaked
# pitool-sandbox, pitool or `pitool __agent`.
# As root, it also builds, installs and removes the .deb packages (scripts/test-deb.sh).
#
#   PITOOL_TEST_PRESETS  presets whose ctest runs (default "dev asan")
#   PITOOL_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/pitool-ci-XXXXXX")
# Others may pass through (not list) it: the other-uid tests reach their own
# directories below it as uid 65534.
chmod 711 "$run_tmp"
trap 'rm -rf "$run_tmp"' EXIT

# Processes still alive that this run started. Prints "pid: argv (cwd)".
leftovers() {
  local p pid args cwd
  for p in /proc/[0-9]*; do
    pid=${p#/proc/}
    [ "$pid" = "$$" ] && continue
    args=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
    [ -n "$args" ] || continue
    cwd=$(readlink "$p/cwd" 2>/dev/null) || cwd=
    case "$args" in *"$run_tmp"* | *"$root/build/"*) echo "$pid: $args(cwd $cwd)"; continue ;; esac
    case "$cwd" in "$run_tmp"*) echo "$pid: $args(cwd $cwd)" ;; esac
  done
}

# Fails (after killing them) if processes of this run are left.
check_no_leftovers() {
  local left i
  for i in 1 2 3 4 5 6 7 8 9 10; do # processes being killed need a moment to go
    left=$(leftovers)
    [ -z "$left" ] && return 0
    sleep 0.5
  done
  echo "error: processes left running after $1:" >&2
  echo "$left" >&2
  echo "$left" | cut -d: -f1 | xargs -r kill -9 2>/dev/null || true
  return 1
}

# Lists every skipped test of the last ctest run in build dir $1, with its reason.
list_skips() {
  local log=$1/Testing/Temporary/LastTest.log
  [ -f "$log" ] || return 0
  awk '
    /: Skipped$/ { reason = ""; grab = 1; next }
    grab && /^\[  SKIPPED \]/ { sub(/^\[  SKIPPED \] /, ""); sub(/ \([0-9]+ ms\)$/, "");
                               printf "  skipped: %s: %s\n", $0, (reason == "" ? "(no reason given)" : reason); grab = 0; next }
    grab { reason = (reason == "" ? $0 : reason " " $0) }
  ' "$log" | sort -u >&2
}

# Elapsed seconds of a phase, for the CI log: `phase_done NAME START`.
phase_done() { echo "== $1 done in $((SECONDS - $2)) s (total $SECONDS s)" >&2; }

bash scripts/deps.sh
jobs=$(nproc)
for preset in ${PITOOL_TEST_PRESETS:-dev asan}; do
  echo "== build and test: $preset" >&2
  t0=$SECONDS
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  phase_done "build $preset" "$t0"
  t0=$SECONDS
  status=0
  TMPDIR=$run_tmp ctest --preset "$preset" -j"$jobs" --timeout 600 || status=$?
  phase_done "ctest $preset" "$t0"
  echo "== skipped tests ($preset):" >&2
  list_skips "build/$preset"
  check_no_leftovers "the $preset suite" || status=1
  [ "$status" = 0 ] || exit "$status"
  # The .deb packages, from the debug tree just built (root only: dpkg -i).
  if [ "$preset" = dev ] && [ "$(id -u)" -eq 0 ]; then
    bash scripts/test-deb.sh build/dev
  fi
done

fuzz_seconds=${PITOOL_FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzz: $fuzz_seconds s per target" >&2
  t0=$SECONDS
  TMPDIR=$run_tmp bash scripts/fuzz.sh "$fuzz_seconds"
  phase_done fuzz "$t0"
  check_no_leftovers "fuzzing"
fi
