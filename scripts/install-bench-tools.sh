#!/usr/bin/env bash
# Installs the load generator of the reviews web benchmark: Debian's wrk.
set -euo pipefail
if ! dpkg -s wrk >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk
fi
