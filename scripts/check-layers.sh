#!/usr/bin/env bash
# Checks the layer rules of docs/ARCHITECTURE.md against the #include lines
# of src/, include/pitool/ and sandbox/ (run by ctest as check_layers):
#  - a layer includes the public headers (pitool/<layer>/...) of the layers
#    below it only;
#  - a private header (src/<layer>/...) is included by its own layer only;
#  - pitool-sandbox includes nothing of pitool.
# The CMake targets enforce the same for private headers (each layer gets only
# its own src/<layer> on its include path); this also catches a public
# header included by a layer that does not link it.
set -euo pipefail
cd "$(dirname "$0")/.."

declare -A allowed=(
  [util]=""
  [core]="util"
  [crypto]="util"
  [identity]="util crypto"
  [vault]="util core crypto"
  [agent]="util"
  [http]="util"
  [providers]="util core http"
  [cli]="util core crypto identity vault agent http providers"
)

status=0
check() { # file layer
  local file=$1 layer=$2 inc target
  while IFS= read -r inc; do
    case $inc in
      pitool/exit_codes.hpp) continue ;;
      pitool/*/*) target=${inc#pitool/}; target=${target%%/*}
        if [[ $target != "$layer" && " ${allowed[$layer]} " != *" $target "* ]]; then
          echo "$file: layer $layer includes $inc (allowed: $layer ${allowed[$layer]})"; status=1
        fi ;;
      */*) target=${inc%%/*}
        if [[ -n ${allowed[$target]+x} && $target != "$layer" ]]; then
          echo "$file: layer $layer includes $inc, a private header of $target"; status=1
        fi ;;
    esac
  done < <(sed -nE 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/p' "$file")
}

for layer in "${!allowed[@]}"; do
  for dir in "src/$layer" "include/pitool/$layer"; do
    [[ -d $dir ]] || continue
    while IFS= read -r f; do check "$f" "$layer"; done < <(find "$dir" -name '*.cpp' -o -name '*.hpp')
  done
done

if [[ -d sandbox ]]; then
  if grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"(pitool|util|core|crypto|identity|vault|agent|http|providers|cli)/' \
      sandbox --include='*.cpp' --include='*.hpp'; then
    echo "sandbox/ must not include pitool's own headers"; status=1
  fi
fi

[[ $status -eq 0 ]] && echo "check-layers: every #include follows the layer rules"
exit $status
