#!/usr/bin/env bash
# Installs what pitool needs to build and test on Debian 12 (run as root).
# Only installs packages that are missing; runs apt-get update at most once.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libsodium-dev libcurl4-openssl-dev nlohmann-json3-dev libcli11-dev
  libcpp-httplib-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libspdlog-dev libfmt-dev libtomlplusplus-dev help2man
  dpkg-dev file man-db groff-base zsh fish
  openssl faketime tzdata ca-certificates curl jq
  python3-jsonschema # tests/cli: --json outputs checked against docs/schema/
  strace # fault injection (fsync) in tests/cli/local_attacks_test.cpp
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
