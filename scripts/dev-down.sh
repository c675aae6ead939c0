#!/usr/bin/env bash
# Stops the processes that scripts/dev-up.sh started, by the ids it recorded.
# The database, the streams and target/dev/ stay, so the next dev-up starts where this one
# stopped. To start afresh, delete target/dev/ and drop the database `rollcall_dev`.
# DEV_DIR names another instance's folder, as for dev-up.
set -uo pipefail
cd "$(dirname "$0")/.."

DEV=${DEV_DIR:-target/dev}
for service in file-connector engine; do
  pid_file="$DEV/$service.pid"
  [ -f "$pid_file" ] || continue
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    printf 'dev-down: stopped %s (%s)\n' "$service" "$pid"
  fi
  rm -f "$pid_file"
done
