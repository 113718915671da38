#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and pass the whole test
# suite through ctest — in the debug build (warnings as errors) and again in
# the AddressSanitizer + UndefinedBehaviorSanitizer build — then run every
# libFuzzer target briefly. Used by .ci/run.
#
# As root, it also builds, installs and removes the .deb packages (scripts/test-deb.sh).
#
#   PITOOL_TEST_PRESETS  presets whose ctest runs (default "dev asan")
#   PITOOL_FUZZ_SECONDS  seconds per fuzz target (default 10; 0 skips fuzzing)
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
jobs=$(nproc)
for preset in ${PITOOL_TEST_PRESETS:-dev asan}; do
  echo "== build and test: $preset" >&2
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j"$jobs"
  ctest --preset "$preset" -j"$jobs" --timeout 600
  # The .deb packages, from the debug tree just built (root only: dpkg -i).
  if [ "$preset" = dev ] && [ "$(id -u)" -eq 0 ]; then
    bash scripts/test-deb.sh build/dev
  fi
done

fuzz_seconds=${PITOOL_FUZZ_SECONDS:-10}
if [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzz: $fuzz_seconds s per target" >&2
  bash scripts/fuzz.sh "$fuzz_seconds"
fi
