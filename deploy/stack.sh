#!/usr/bin/env bash
# Starts, stops and reports a private PostgreSQL cluster and RabbitMQ node for development and tests.
# No Docker, no systemd: Debian's packages, data in a git-ignored folder, loopback ports that do not
# collide with a system install. Running `start` twice is harmless.
#
#   deploy/stack.sh start | stop | status | env
#   deploy/stack.sh consumer-timeout <ms>|default   (RabbitMQ's consumer_timeout for channels opened from now on)
#   deploy/stack.sh cluster start | stop | status | env | stop-node N | start-node N | leader <queue>
#     A 3-node RabbitMQ cluster beside the single node (for quorum queues and failover): nodes 1-3 on AMQP ports
#     INGEST_AMQP_PORT+101..103, joined with rabbitmqctl join_cluster; `env` prints Ingest__Broker__Nodes__*;
#     `leader` prints the node number holding a quorum queue's leader.
#
# Settings (environment): INGEST_STACK_DIR (default <repo>/.local/stack), INGEST_PG_PORT (25432),
# INGEST_AMQP_PORT (25672). Several stacks can run side by side with different values.
# INGEST_PG_HUGE_PAGES=reserve (deploy/bench.sh sets it): before PostgreSQL starts, reserve the huge pages its shared
# memory needs (vm.nr_hugepages, as root or by sudo) if the system has too few free, and give them back at stop.
# Off by default: a reserved page is memory taken from everything else until then, used or not.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
stack_dir=${INGEST_STACK_DIR:-$repo/.local/stack}
pg_port=${INGEST_PG_PORT:-25432}
amqp_port=${INGEST_AMQP_PORT:-25672}
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

# One RabbitMQ node's environment: rabbit_env_for <home (cookie, config)> <data dir> <node name> <amqp port> <dist port> <epmd port>
rabbit_env_for() {
  export HOME=$1 ERL_EPMD_PORT=$6 ERL_CRASH_DUMP=$2/erl_crash.dump \
    RABBITMQ_MNESIA_BASE=$2/mnesia RABBITMQ_LOG_BASE=$2/log \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$4 RABBITMQ_DIST_PORT=$5 \
    RABBITMQ_NODENAME=$3 RABBITMQ_ENABLED_PLUGINS_FILE=$1/enabled_plugins \
    RABBITMQ_PID_FILE=$2/pid RABBITMQ_CONFIG_FILE=$1/rabbitmq
}
rabbit_env() { rabbit_env_for "$stack_dir/rabbit" "$stack_dir/rabbit" "$node" "$amqp_port" "$dist_port" "$epmd_port"; }

pg_running() { [ -f "$pg_dir/postmaster.pid" ] && as_pg "$pg_bin/pg_ctl" -D "$pg_dir" status >/dev/null 2>&1; }
rabbit_running() { (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" status >/dev/null 2>&1); }

# The cluster: three nodes sharing one home (one Erlang cookie) and one epmd, each with its own data and ports.
cluster_dir=$stack_dir/cluster
cluster_base=$((amqp_port + 100))
cluster_epmd=$((cluster_base + 20))
cluster_node() { echo "ingest-c${cluster_base}-$1@localhost"; }
cluster_port() { echo $((cluster_base + $1)); }
cluster_env() { rabbit_env_for "$cluster_dir" "$cluster_dir/n$1" "$(cluster_node "$1")" "$(cluster_port "$1")" $((cluster_base + 10 + $1)) "$cluster_epmd"; }
cluster_ctl() { local n=$1; shift; (cluster_env "$n"; "$rabbit_bin/rabbitmqctl" -q -n "$(cluster_node "$n")" "$@"); }
cluster_running() { cluster_ctl "$1" status >/dev/null 2>&1; }

# The huge pages this stack reserved (reserve_huge_pages), to give back at stop.
huge_pages_file=$stack_dir/huge-pages-reserved
set_huge_pages() { echo "$1" | sudo_if_needed tee /proc/sys/vm/nr_hugepages >/dev/null 2>&1; }
reserve_huge_pages() {
  [ "${INGEST_PG_HUGE_PAGES:-}" = reserve ] || return 0
  local need available before
  need=$(as_pg "$pg_bin/postgres" -D "$pg_dir" -C shared_memory_size_in_huge_pages) || return 0
  available=$(awk '/^HugePages_Free/ { f = $2 } /^HugePages_Rsvd/ { r = $2 } END { print f - r }' /proc/meminfo)
  [ "$need" -gt "$available" ] || return 0
  before=$(cat /proc/sys/vm/nr_hugepages)
  set_huge_pages $((before + need - available)) || { echo "postgres: could not reserve $need huge pages"; return 0; }
  # The kernel reserves what it can find free, perhaps fewer; PostgreSQL (huge_pages = try) then runs without.
  echo $(($(cat /proc/sys/vm/nr_hugepages) - before + $(cat "$huge_pages_file" 2>/dev/null || echo 0))) >"$huge_pages_file"
}
release_huge_pages() {
  [ -f "$huge_pages_file" ] || return 0
  set_huge_pages $(($(cat /proc/sys/vm/nr_hugepages) - $(cat "$huge_pages_file"))) || true
  rm -f "$huge_pages_file"
}
on_huge_pages() { grep -q anon_hugepage "/proc/$(head -1 "$pg_dir/postmaster.pid")/maps" 2>/dev/null; }

start_pg() {
  if pg_running; then echo "postgres: already running on 127.0.0.1:$pg_port"; ensure_database; return; fi
  mkdir -p "$pg_dir"
  [ "$pg_user" = "$(id -un)" ] || chown "$pg_user" "$pg_dir"
  if [ ! -f "$pg_dir/PG_VERSION" ]; then
    as_pg "$pg_bin/initdb" -D "$pg_dir" -A trust -U postgres -E UTF8 --no-locale >/dev/null
  fi
  # deploy/postgres/postgresql.conf, copied in at every start (a cluster made before a change gets it too) and included
  # by the cluster's own file, then the address. Not on the command line, which would override ALTER SYSTEM
  # (deploy/ab.sh's A_PG/B_PG).
  cp "$repo/deploy/postgres/postgresql.conf" "$pg_dir/ingest.conf"
  grep -qx "include 'ingest.conf'" "$pg_dir/postgresql.conf" ||
    printf "include 'ingest.conf'\nlisten_addresses = '127.0.0.1'\n" >>"$pg_dir/postgresql.conf"
  reserve_huge_pages
  as_pg "$pg_bin/pg_ctl" -D "$pg_dir" -o "-p $pg_port -k $pg_dir" -l "$pg_dir/log" -w -t 60 start >/dev/null
  echo "postgres: started on 127.0.0.1:$pg_port (data $pg_dir$(on_huge_pages && echo ", shared memory on huge pages"))"
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

# The config and plugins file of a node's home: write_rabbit_conf <home> [extra config lines]
write_rabbit_conf() {
  mkdir -p "$1"
  cat >"$1/rabbitmq.conf" <<CONF
loopback_users = none
log.console = false
log.file.level = warning
disk_free_limit.absolute = 200MB
${2:-}
CONF
  echo '[].' >"$1/enabled_plugins"
}

# Starts a node in the environment the caller set, and waits for it: launch_rabbit <node name> <data dir> <what to call it>
launch_rabbit() {
  mkdir -p "$2/log"
  setsid "$rabbit_bin/rabbitmq-server" >"$2/log/stdout" 2>&1 </dev/null &
  for _ in $(seq 1 90); do "$rabbit_bin/rabbitmqctl" -q -n "$1" status >/dev/null 2>&1 && break; sleep 1; done
  "$rabbit_bin/rabbitmqctl" -q -n "$1" await_startup --timeout 60 >/dev/null 2>&1 || {
    echo "$3: did not start; see $2/log" >&2; tail -20 "$2/log/stdout" >&2; return 1; }
}

start_rabbit() {
  install_rabbit
  if rabbit_running; then echo "rabbitmq: already running on 127.0.0.1:$amqp_port"; return; fi
  write_rabbit_conf "$stack_dir/rabbit"
  (rabbit_env; launch_rabbit "$node" "$stack_dir/rabbit" rabbitmq) || exit 1
  echo "rabbitmq: started on 127.0.0.1:$amqp_port (data $stack_dir/rabbit)"
}

# Small nodes: a memory ceiling of their own, and schedulers that do not spin (three nodes share two cores).
start_cluster_node() {
  local n=$1
  if cluster_running "$n"; then echo "rabbitmq node $n: already running on 127.0.0.1:$(cluster_port "$n")"; return; fi
  (cluster_env "$n"; export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"
   launch_rabbit "$(cluster_node "$n")" "$cluster_dir/n$n" "rabbitmq node $n") || return 1
  echo "rabbitmq node $n: started on 127.0.0.1:$(cluster_port "$n") ($(cluster_node "$n"), data $cluster_dir/n$n)"
}

start_cluster() {
  install_rabbit
  write_rabbit_conf "$cluster_dir" "vm_memory_high_watermark.absolute = 512MB"
  # One cookie for the three, written before they start at once (each would otherwise make its own).
  if [ ! -f "$cluster_dir/.erlang.cookie" ]; then
    (umask 077; head -c 32 /dev/urandom | md5sum | cut -c1-20 >"$cluster_dir/.erlang.cookie"); chmod 400 "$cluster_dir/.erlang.cookie"
  fi
  local pids=()
  for n in 1 2 3; do start_cluster_node "$n" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || exit 1; done
  # Nodes 2 and 3 join node 1 once; restarted later, they find the cluster in their data.
  for n in 2 3; do
    if ! cluster_ctl "$n" cluster_status 2>/dev/null | grep -q "$(cluster_node 1)"; then
      # (start_app logs errors about the tracking tables of nodes still starting: harmless, and hidden here.)
      cluster_ctl "$n" stop_app >/dev/null 2>&1 && cluster_ctl "$n" reset >/dev/null 2>&1 &&
        cluster_ctl "$n" join_cluster "$(cluster_node 1)" >/dev/null 2>&1 && cluster_ctl "$n" start_app >/dev/null 2>&1 ||
        { echo "rabbitmq node $n: could not join node 1" >&2; exit 1; }
      echo "rabbitmq node $n: joined $(cluster_node 1)"
    fi
  done
}

stop_cluster_node() {
  if cluster_running "$1"; then cluster_ctl "$1" shutdown >/dev/null 2>&1 || true; echo "rabbitmq node $1: stopped"; else echo "rabbitmq node $1: not running"; fi
}

stop_cluster() {
  for n in 1 2 3; do stop_cluster_node "$n"; done
  pkill -f -- "-sname ingest-c${cluster_base}-" >/dev/null 2>&1 || true
  [ -x "$(command -v epmd)" ] && ERL_EPMD_PORT=$cluster_epmd epmd -port "$cluster_epmd" -kill >/dev/null 2>&1 || true
}

print_cluster_env() {
  echo "export Ingest__Broker__QueueType=quorum"
  for n in 1 2 3; do echo "export Ingest__Broker__Nodes__$((n - 1))=127.0.0.1:$(cluster_port "$n")"; done
}

# The number of the node that holds <queue>'s quorum leader, asked of the first node that answers.
cluster_leader() {
  for n in 1 2 3; do
    if cluster_running "$n"; then
      local leader; leader=$(cluster_ctl "$n" list_queues name leader --no-table-headers | awk -v q="$1" '$1 == q { gsub(/\047/, "", $2); print $2 }')
      for m in 1 2 3; do [ "$leader" = "$(cluster_node "$m")" ] && { echo "$m"; return 0; }; done
      echo "no leader for queue $1 (yet): '$leader'" >&2; return 1
    fi
  done
  echo "no cluster node is running" >&2; return 1
}

cluster_command() {
  case "${1:-status}" in
    start) start_cluster; echo "settings (source them with: eval \"\$(deploy/stack.sh cluster env)\"):"; print_cluster_env ;;
    stop) stop_cluster ;;
    status) for n in 1 2 3; do if cluster_running "$n"; then echo "rabbitmq node $n: running on 127.0.0.1:$(cluster_port "$n")"; else echo "rabbitmq node $n: stopped"; fi; done ;;
    env) print_cluster_env ;;
    stop-node) stop_cluster_node "${2:?usage: $0 cluster stop-node 1|2|3}" ;;
    start-node) start_cluster_node "${2:?usage: $0 cluster start-node 1|2|3}" ;;
    leader) cluster_leader "${2:?usage: $0 cluster leader <queue>}" ;;
    *) echo "usage: $0 cluster start|stop|status|env|stop-node N|start-node N|leader <queue>" >&2; exit 2 ;;
  esac
}

stop_all() {
  if [ -d "$cluster_dir" ]; then stop_cluster; fi
  if rabbit_running; then (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" shutdown >/dev/null 2>&1) || true; echo "rabbitmq: stopped"; else echo "rabbitmq: not running"; fi
  (rabbit_env; pkill -f -- "-sname ingest-${amqp_port}" >/dev/null 2>&1 || true; [ -x "$(command -v epmd)" ] && epmd -port "$epmd_port" -kill >/dev/null 2>&1 || true)
  if pg_running; then as_pg "$pg_bin/pg_ctl" -D "$pg_dir" -m fast -w stop >/dev/null; echo "postgres: stopped"; else echo "postgres: not running"; fi
  release_huge_pages
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
  cluster) shift; cluster_command "$@" ;;
  start) start_pg; start_rabbit; echo "settings (source them with: eval \"\$(deploy/stack.sh env)\"):"; print_env ;;
  stop) stop_all ;;
  status)
    if pg_running; then echo "postgres: running on 127.0.0.1:$pg_port"; else echo "postgres: stopped"; fi
    if rabbit_running; then echo "rabbitmq: running on 127.0.0.1:$amqp_port"; else echo "rabbitmq: stopped"; fi ;;
  env) print_env ;;
  queues) (rabbit_env; "$rabbit_bin/rabbitmqctl" -q -n "$node" list_queues name type messages --no-table-headers) ;;
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
  *) echo "usage: $0 start|stop|status|env|queues|cluster|stop-postgres|start-postgres|stop-rabbitmq|start-rabbitmq|block-rabbitmq|unblock-rabbitmq|consumer-timeout" >&2; exit 2 ;;
esac
