#!/bin/sh
# Long crash-safety run: SIGKILLs N mutating pitool commands (default 5000)
# at random moments and checks, after every kill, that the vault opens and
# holds exactly the state before or after the interrupted command.
#   scripts/crash-soak.sh [ITERATIONS] [BUILD_DIR]
# Figures go to stdout and, one JSON line per run, to crash-soak.jsonl.
# Reproduce a run with PITOOL_CRASH_SEED=<seed printed by the run>.
set -eu
n=${1:-5000}
build=${2:-build/dev}
bin="$build/tests/pitool_robustness_tests"
[ -x "$bin" ] || { echo "build first: cmake --build --preset dev --target pitool pitool-sandbox pitool_robustness_tests" >&2; exit 2; }
report=${PITOOL_CRASH_REPORT:-crash-soak.jsonl}
PITOOL_CRASH_ITERATIONS=$n PITOOL_CRASH_REPORT=$report \
    "$bin" --gtest_filter='CrashSafety.*' --gtest_brief=1
tail -n 1 "$report"
