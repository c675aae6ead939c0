#!/usr/bin/env bash
# Starts the engine and the file connector as local processes against a copy of the
# example practice, so that a newcomer can watch the pipeline turn exports into findings.
#
# Uses the local NATS, Redis and PostgreSQL on their standard loopback ports (started by
# scripts/services.sh when they are down), a database `rollcall_dev`, and writes
# everything else under target/dev/. `scripts/dev-down.sh` stops the two processes.
#
# The engine evaluates at the example's as-of instant, so that its findings are the ones
# `rollcall scan` prints in the README. DEV_AS_OF=now evaluates at the clock instead.
#
# Other settings, for a second instance beside the first (the tests use them):
# DEV_DIR (target/dev), DEV_DB (rollcall_dev), DEV_ENGINE_OPS and DEV_CONNECTOR_OPS (the
# ops servers' addresses), DEV_SUBJECT_PREFIX and DEV_STREAM_PREFIX (the NATS namespace),
# DEV_BIN_DIR (target/debug) and DEV_SKIP_BUILD=1 to use binaries built before.
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=${DEV_DIR:-target/dev}
DB=${DEV_DB:-rollcall_dev}
PG_HOST=127.0.0.1
PG_PORT=5432
ENGINE_OPS=${DEV_ENGINE_OPS:-127.0.0.1:9181}
CONNECTOR_OPS=${DEV_CONNECTOR_OPS:-127.0.0.1:9182}
SUBJECT_PREFIX=${DEV_SUBJECT_PREFIX:-rollcall}
STREAM_PREFIX=${DEV_STREAM_PREFIX:-ROLLCALL}
BIN=${DEV_BIN_DIR:-target/debug}
AS_OF=${DEV_AS_OF:-2026-12-01T15:00:00Z}

say() { printf 'dev-up: %s\n' "$*"; }

running() { # pid file
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

if running "$DEV/engine.pid" || running "$DEV/file-connector.pid"; then
  say "already running; stop it first with scripts/dev-down.sh (make dev-down)"
  exit 1
fi

scripts/services.sh
if [ "${DEV_SKIP_BUILD:-}" != 1 ]; then
  say "building the engine and the file connector"
  cargo build --locked -q -p rollcall-engine -p rollcall-file-connector
fi

say "preparing database $DB on $PG_HOST:$PG_PORT"
psql_admin() { psql -X -q -h "$PG_HOST" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 "$@"; }
for role in rollcall_migrator rollcall_app; do
  psql_admin -d postgres -c "DO \$\$ BEGIN CREATE ROLE $role LOGIN NOSUPERUSER NOBYPASSRLS; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$"
done
if [ -z "$(psql_admin -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  psql_admin -d postgres -c "CREATE DATABASE $DB OWNER rollcall_migrator"
fi
"$BIN"/rollcall-engine migrate --owner-url "postgres://rollcall_migrator@$PG_HOST:$PG_PORT/$DB"

mkdir -p "$DEV/drop" "$DEV/file-connector-state" "$DEV/secrets"
# Secrets go in files, as in a cluster; these URLs hold no password because the local
# server trusts loopback connections.
printf 'postgres://rollcall_app@%s:%s/%s\n' "$PG_HOST" "$PG_PORT" "$DB" >"$DEV/secrets/postgres-url"
printf 'redis://127.0.0.1:6379\n' >"$DEV/secrets/redis-url"
if [ ! -d "$DEV/drop/harborview" ]; then
  cp -r examples/harborview "$DEV/drop/harborview"
  # The example's own README is documentation, not an export.
  rm -f "$DEV/drop/harborview/README.md"
fi

fixed_as_of=""
if [ "$AS_OF" != "now" ]; then
  fixed_as_of="  fixed_as_of: \"$AS_OF\""
fi
cat > "$DEV/engine.yaml" <<YAML
nats:
  url: nats://127.0.0.1:4222
  subject_prefix: $SUBJECT_PREFIX
  stream_prefix: $STREAM_PREFIX
postgres:
  url_file: $DEV/secrets/postgres-url
redis:
  url_file: $DEV/secrets/redis-url
engine:
  reconcile_seconds: 5
  # A campaign defined in tenant.yaml launches within seconds rather than minutes.
  campaign_scan_seconds: 10
$fixed_as_of
ops:
  listen: $ENGINE_OPS
YAML
cat > "$DEV/file-connector.yaml" <<YAML
drop_root: $DEV/drop
state_dir: $DEV/file-connector-state
poll_interval_seconds: 2
settle_seconds: 2
nats:
  url: nats://127.0.0.1:4222
  subject_prefix: $SUBJECT_PREFIX
  stream_prefix: $STREAM_PREFIX
ops:
  listen: $CONNECTOR_OPS
YAML

"$BIN"/rollcall-engine --config "$DEV/engine.yaml" tenant apply "$DEV/drop/harborview"

nohup "$BIN"/rollcall-engine --config "$DEV/engine.yaml" >"$DEV/engine.log" 2>&1 &
echo $! >"$DEV/engine.pid"
nohup "$BIN"/rollcall-file-connector --config "$DEV/file-connector.yaml" \
  >"$DEV/file-connector.log" 2>&1 &
echo $! >"$DEV/file-connector.pid"

# The engine evaluates after each source it applies, so the count is read until it stays
# the same for five seconds.
say "waiting for the findings (up to 120 s)"
findings=""
previous=""
steady=0
for _ in $(seq 1 120); do
  if ! running "$DEV/engine.pid" || ! running "$DEV/file-connector.pid"; then
    say "a service stopped; its log is in $DEV/engine.log or $DEV/file-connector.log"
    tail -n 5 "$DEV/engine.log" "$DEV/file-connector.log" >&2 || true
    exit 1
  fi
  findings=$(psql_admin -d "$DB" -tAc "SELECT count(*) FROM rollcall.findings WHERE resolved_at IS NULL" 2>/dev/null || true)
  if [ -n "$findings" ] && [ "$findings" != "0" ] && [ "$findings" = "$previous" ]; then
    steady=$((steady + 1))
    if [ "$steady" -ge 5 ]; then break; fi
  else
    steady=0
  fi
  previous=$findings
  sleep 1
done
if [ -z "$findings" ] || [ "$findings" = "0" ]; then
  say "no findings after 120 s; read $DEV/engine.log and $DEV/file-connector.log"
  exit 1
fi

cat <<TEXT
dev-up: the pipeline is running with $findings open findings for tenant harborview.

  drop folder        $DEV/drop/harborview   (change a file: the connector republishes it)
  engine metrics     http://$ENGINE_OPS/metrics
  connector metrics  http://$CONNECTOR_OPS/metrics
  logs               $DEV/engine.log, $DEV/file-connector.log
  findings           psql -h $PG_HOST -U postgres -d $DB -c "SELECT severity, kind, summary FROM rollcall.findings WHERE resolved_at IS NULL ORDER BY kind"
  stop               scripts/dev-down.sh (make dev-down)
TEXT
