#!/usr/bin/env bash
# Quick start (2): install what is missing, build, and pass the whole test
# suite through ctest. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
preset=${PITOOL_PRESET:-dev}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)"
ctest --preset "$preset" -j"$(nproc)" --timeout 600
