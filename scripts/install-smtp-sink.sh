#!/usr/bin/env bash
# Installs the SMTP sink that the review mail tests start on loopback: aiosmtpd from PyPI
# in a virtual environment of its own, so nothing is installed into the system Python.
# The tests find it at target/test-tools/smtp-sink, or at $ROLLCALL_SMTP_SINK_VENV.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${ROLLCALL_SMTP_SINK_VENV:-$root/target/test-tools/smtp-sink}"
requirements="$root/scripts/smtp-sink/requirements.txt"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null \
  && cmp -s "$requirements" "$venv/requirements.txt"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$venv/requirements.txt"
