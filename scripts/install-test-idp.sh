#!/usr/bin/env bash
# Installs the OpenID provider that the reviews web tests sign in against: the npm
# package oidc-provider, at the version pinned in services/reviews-web/tests/idp's
# package-lock.json. Needs Node.js 20 or later and npm; oidc-provider 9 prints a warning
# that it wants Node 22 and works on 20.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/services/reviews-web/tests/idp"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing; install Node.js 20 or later (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -d "$dir/node_modules/oidc-provider" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund)
fi
