#!/usr/bin/env bash
# Installs what the test suite needs beyond the Rust toolchain. The offline rules and
# readers need nothing else yet; the list grows with the services' integration tests.
set -euo pipefail
packages=()
if [ "${#packages[@]}" -gt 0 ]; then
  missing=()
  for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
fi
