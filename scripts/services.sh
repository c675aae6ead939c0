#!/usr/bin/env bash
# Starts the local servers the test suite may use (NATS with JetStream, Redis, PostgreSQL)
# when they are not answering on their standard loopback ports. The commands are the ones
# the development machines use; on a machine without a server's package this prints what
# is missing and goes on, so tests that need it fail with their own message.
set -uo pipefail

answering() { # host port
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

start_nats() {
  if answering 127.0.0.1 4222; then return; fi
  if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
    echo "services: nats-server is not installed; skipping" >&2; return
  fi
  mkdir -p /var/lib/nats-server
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
}

start_redis() {
  if answering 127.0.0.1 6379; then return; fi
  if ! command -v redis-server >/dev/null; then
    echo "services: redis-server is not installed; skipping" >&2; return
  fi
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
}

start_postgres() {
  if answering 127.0.0.1 5432; then return; fi
  if [ ! -d /etc/postgresql ]; then
    echo "services: PostgreSQL is not installed; skipping" >&2; return
  fi
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
}

start_nats
start_redis
start_postgres
for port in 4222 6379 5432; do
  for _ in $(seq 1 50); do answering 127.0.0.1 "$port" && break; sleep 0.2; done
  answering 127.0.0.1 "$port" || echo "services: nothing answers on 127.0.0.1:$port" >&2
done
exit 0
