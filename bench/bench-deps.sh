#!/usr/bin/env bash
# OPTIONAL: what bench/bench-peers.sh and bench/plot-bench.py need on
# Debian 12 (run as root). Not part of the build or CI deps (scripts/deps.sh):
# only for comparing pitool with other credential stores on one machine.
# Only installs packages that are missing; runs apt-get update at most once.
set -euo pipefail

packages=(
  time
  hyperfine                   # whole-process timing
  pass gnupg age keepassxc    # the peers (keepassxc-cli is in keepassxc)
  python3-matplotlib          # bench/plot-bench.py (run with /usr/bin/python3)
  python3-pykeepass           # an Argon2 .kdbx (keepassxc-cli 2.7 cannot choose the KDF)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "bench-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
