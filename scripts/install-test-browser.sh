#!/usr/bin/env bash
# Installs what the reviews web browser test needs: Debian's chromium, and the npm
# package playwright-core, pinned in services/reviews-web/tests/browser's
# package-lock.json, which drives it. `npx playwright install` downloads browsers from a
# CDN and is not used; the test starts /usr/bin/chromium.
set -euo pipefail
if ! dpkg -s chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
fi
dir="$(cd "$(dirname "$0")/.." && pwd)/services/reviews-web/tests/browser"
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing; install Node.js 20 or later (Debian: apt-get install nodejs npm)" >&2
  exit 1
fi
if [ ! -d "$dir/node_modules/playwright-core" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund)
fi
