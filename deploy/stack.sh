#!/usr/bin/env bash
# Starts, stops and reports a private PostgreSQL cluster and RabbitMQ node for development and tests.
# No Docker, no systemd: Debian's packages, data in a git-ignored folder, loopback ports that do not
# collide with a system install. Running `start` twice is harmless.
#
#   deploy/stack.sh start | stop | status | env
#   deploy/stack.sh consumer-timeout <ms>|default   (RabbitMQ's consumer_timeout for channels opened from now on)
#
# Settings (environment): INGEST_STACK_DIR (default <repo>/.local/stack), INGEST_PG_PORT (55432),
# INGEST_AMQP_PORT (55672). Several stacks can run side by side with different values.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
stack_dir=${INGEST_STACK_DIR:-$repo/.local/stack}
pg_port=${INGEST_PG_PORT:-55432}
amqp_port=${INGEST_AMQP_PORT:-55672}
dist_port=$((amqp_port + 10))
epmd_port=$((amqp_port + 11))
pg_bin=/usr/lib/postgresql/15/bin
rabbit_bin=/usr/lib/rabbitmq/bin
node="ingest-${amqp_port}@localhost"

sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# PostgreSQL refuses to run as root: as root, run it as the postgres user. Its data folder must then be
# reachable by postgres; a clone under a private folder (mktemp -d) is not, so fall back to /tmp.
pg_user=$(id -un)
pg_dir=$stack_dir/pg
if [ "$(id -u)" = 0 ]; then
  pg_user=postgres
  mkdir -p "$stack_dir"
  if ! su postgres -s /bin/sh -c "test -x '$stack_dir'"; then
    pg_dir=/tmp/ingest-pg-$(printf %s "$stack_dir" | md5sum | cut -c1-10)
  fi
fi
as_pg() { if [ "$pg_user" = "$(id -un)" ]; then "$@"; else su "$pg_user" -s /bin/sh -c "$(printf '%q ' "$@")"; fi; }

rabbit_env() {
  export HOME=$stack_dir/rabbit ERL_EPMD_PORT=$epmd_port ERL_CRASH_DUMP=$stack_dir/rabbit/erl_crash.dump \
    RABBITMQ_MNESIA_BASE=$stack_dir/rabbit/mnesia RABBITMQ_LOG_BASE=$stack_dir/rabbit/log \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port RABBITMQ_DIST_PORT=$dist_port \
    RABBITMQ_NODENAME=$node RABBITMQ_ENABLED_PLUGINS_FILE=$stack_dir/rabbit/enabled_plugins \
    RABBITMQ_PID_FILE=$stack_dir/rabbit/pid RABBITMQ_CONFIG_FILE=$stack_dir/rabbit/rabbitmq
}

pg_running() { [ -f "$pg_dir/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_dir" status >/dev/null 2>&1; }
rabbit_running() { (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" status >/dev/null 2>&1); }

start_pg() {
  if pg_running; then echo "postgres: already running on 127.0.0.1:$pg_port"; ensure_database; return; fi
  mkdir -p "$pg_dir"
  [ "$pg_user" = "$(id -un)" ] || chown "$pg_user" "$pg_dir"
  if [ ! -f "$pg_dir/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$pg_dir" -A trust -U postgres -E UTF8 --no-locale >/dev/null
    cat >>"$pg_dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
max_connections = 200
shared_buffers = 256MB
fsync = on
synchronous_commit = on
CONF
  fi
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir" -o "-p $pg_port -k $pg_dir" -l "$pg_dir/log" -w -t 60 start >/dev/null
  echo "postgres: started on 127.0.0.1:$pg_port (data $pg_dir)"
  ensure_database
}

# The database the hosts use by default; tests make their own.
ensure_database() {
  if ! "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "select 1 from pg_database where datname = 'ingest'" | grep -q 1; then
    "$pg_bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -qc "create database ingest" && echo "postgres: created database ingest"
  fi
}

install_rabbit() {
  [ -x "$rabbit_bin/rabbitmq-server" ] && return
  echo "rabbitmq: installing rabbitmq-server from Debian's packages"
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
}

start_rabbit() {
  install_rabbit
  if rabbit_running; then echo "rabbitmq: already running on 127.0.0.1:$amqp_port"; return; fi
  mkdir -p "$stack_dir/rabbit/log"
  cat >"$stack_dir/rabbit/rabbitmq.conf" <<CONF
loopback_users = none
log.console = false
log.file.level = warning
disk_free_limit.absolute = 200MB
CONF
  echo '[].' >"$stack_dir/rabbit/enabled_plugins"
  (rabbit_env; setsid "$rabbit_bin/rabbitmq-server" >"$stack_dir/rabbit/log/stdout" 2>&1 </dev/null &)
  for _ in $(seq 1 90); do rabbit_running && break; sleep 1; done
  (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" await_startup --timeout 60 >/dev/null 2>&1) || {
    echo "rabbitmq: did not start; see $stack_dir/rabbit/log" >&2; tail -20 "$stack_dir/rabbit/log/stdout" >&2; exit 1; }
  echo "rabbitmq: started on 127.0.0.1:$amqp_port (data $stack_dir/rabbit)"
}

stop_all() {
  if rabbit_running; then (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" shutdown >/dev/null 2>&1) || true; echo "rabbitmq: stopped"; else echo "rabbitmq: not running"; fi
  (rabbit_env; pkill -f -- "-sname ingest-${amqp_port}" >/dev/null 2>&1 || true; [ -x "$(command -v epmd)" ] && epmd -port "$epmd_port" -kill >/dev/null 2>&1 || true)
  if pg_running; then as_pg "$pg_bin/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null; echo "postgres: stopped"; else echo "postgres: not running"; fi
}

print_env() {
  cat <<ENV
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$pg_port;Username=postgres;Database=ingest"
export Ingest__Broker__Host=127.0.0.1
export Ingest__Broker__Port=$amqp_port
export INGEST_PG_PORT=$pg_port INGEST_AMQP_PORT=$amqp_port INGEST_PG_DIR=$pg_dir
ENV
}

case "${1:-status}" in
  start) start_pg; start_rabbit; echo "settings (source them with: eval \"\$(deploy/stack.sh env)\"):"; print_env ;;
  stop) stop_all ;;
  status)
    if pg_running; then echo "postgres: running on 127.0.0.1:$pg_port"; else echo "postgres: stopped"; fi
    if rabbit_running; then echo "rabbitmq: running on 127.0.0.1:$amqp_port"; else echo "rabbitmq: stopped"; fi ;;
  env) print_env ;;
  # For outage tests: stop or start one server alone.
  stop-postgres) as_pg "$pg_bin/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null; echo "postgres: stopped" ;;
  start-postgres) start_pg ;;
  stop-rabbitmq) (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" shutdown >/dev/null); echo "rabbitmq: stopped" ;;
  start-rabbitmq) start_rabbit ;;
  # RabbitMQ's memory alarm: the node stays up but blocks every publishing connection (no confirms) until unblocked.
  block-rabbitmq) (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" set_vm_memory_high_watermark 0 >/dev/null); echo "rabbitmq: publishers blocked" ;;
  # RabbitMQ's consumer_timeout (3.10: node-wide only), for channels opened from now on. A channel checks it on its tick,
  # every channel_tick_interval (60 s by default), so a short timeout for tests gets a 1 s tick; `default` restores both.
  consumer-timeout)
    ms=${2:?usage: $0 consumer-timeout <ms>|default}; tick=1000
    if [ "$ms" = default ]; then ms=1800000; tick=60000; fi
    (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" eval \
      "application:set_env(rabbit, consumer_timeout, $ms), application:set_env(rabbit, channel_tick_interval, $tick)." >/dev/null)
    echo "rabbitmq: consumer_timeout $ms ms, checked every $tick ms, for new channels" ;;
  unblock-rabbitmq) (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" set_vm_memory_high_watermark 0.4 >/dev/null); echo "rabbitmq: publishers unblocked" ;;
  *) echo "usage: $0 start|stop|status|env|stop-postgres|start-postgres|stop-rabbitmq|start-rabbitmq|block-rabbitmq|unblock-rabbitmq|consumer-timeout" >&2; exit 2 ;;
esac
