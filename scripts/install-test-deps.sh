#!/usr/bin/env bash
# Installs the Debian packages the test suite needs beyond the Rust toolchain and the
# servers the machine already runs (PostgreSQL, NATS, Redis; see scripts/services.sh).
set -euo pipefail
# nats-server: the bus tests and the file connector's outage test start their own
# server, to stop it mid-stream.
packages=(nats-server)
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
