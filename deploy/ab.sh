#!/usr/bin/env bash
# Two whole pipelines side by side, each on its own stack (PostgreSQL + RabbitMQ), loaded alternately by wrk in short
# windows (A B B A A B ...), so that both see the same machine: on a machine whose speed varies by several times within
# a day, runs minutes apart do not compare. Each window's CPU (utime+stime from /proc) of the API, the worker, RabbitMQ's
# beam.smp and the PostgreSQL cluster, the drain included, is divided by the events the window accepted.
#
#   deploy/ab.sh A_REPO B_REPO   # two clones (or worktrees), e.g. main and a branch; each is built in Release if not yet
# It ends with each side's medians over the rounds, the events per broker message, and the rounds B cost less in.
# It needs wrk (installed from Debian's packages if missing). Ports: A's API 27001, worker 27002, PostgreSQL 27432,
# RabbitMQ 27672 (and 27682-27683); B's the same in 28xxx.
# Settings: AB_ROUNDS (6), AB_SECONDS (10), AB_CONNECTIONS (64), AB_BATCH (1: /v1/track; N>1: /v1/batch of N),
# A_ERL_ARGS, B_ERL_ARGS (RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS of each side's node), A_ENV, B_ENV (settings of each
# side's hosts, e.g. B_ENV="Ingest__Publish__Window=00:00:00.005"), A_PG, B_PG (PostgreSQL settings of each side, set by
# ALTER SYSTEM after the stack starts, then reloaded, or PostgreSQL restarted when one needs it, e.g. B_PG="huge_pages=on"),
# A_LOCALE, B_LOCALE (the locale of each side's database, e.g. en_US.UTF-8 as postgres:15's image makes it; the system
# must have it: `localedef -i en_US -f UTF-8 en_US.UTF-8`).
set -uo pipefail
A=$(cd "$1" && pwd) B=$(cd "$2" && pwd)
rounds=${AB_ROUNDS:-6} secs=${AB_SECONDS:-10} conns=${AB_CONNECTIONS:-64} batch=${AB_BATCH:-1}
for r in "$A" "$B"; do
  [ -f "$r/Ingest.Api/bin/Release/net10.0/Ingest.Api.dll" ] && [ -f "$r/Ingest.Worker/bin/Release/net10.0/Ingest.Worker.dll" ] ||
    dotnet build "$r/Analytics.sln" -c Release -v quiet -nologo >/dev/null || { echo "ab: the build of $r failed" >&2; exit 1; }
done
command -v wrk >/dev/null || { apt-get install -y -qq wrk >/dev/null 2>&1 || sudo apt-get install -y -qq wrk >/dev/null; }
work=$(mktemp -d)
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
. "$A/deploy/lib.sh"
declare -A pg amqp dir erl hostenv pgconf locale api_pid worker_pid port
pg[A]=27432 amqp[A]=27672 port[A]=27001 dir[A]=$A erl[A]=${A_ERL_ARGS:-} hostenv[A]=${A_ENV:-} pgconf[A]=${A_PG:-} locale[A]=${A_LOCALE:-}
pg[B]=28432 amqp[B]=28672 port[B]=28001 dir[B]=$B erl[B]=${B_ERL_ARGS:-} hostenv[B]=${B_ENV:-} pgconf[B]=${B_PG:-} locale[B]=${B_LOCALE:-}
sql() { psql -h 127.0.0.1 -p ${pg[$1]} -U postgres "${@:2}"; } # sql SIDE PSQL_ARGS...
stack() { INGEST_STACK_DIR=$work/stack-$1 INGEST_PG_PORT=${pg[$1]} INGEST_AMQP_PORT=${amqp[$1]} "${dir[$1]}/deploy/stack.sh" "${@:2}"; }
cleanup() {
  for s in A B; do kill ${api_pid[$s]:-} ${worker_pid[$s]:-} 2>/dev/null; done
  wait 2>/dev/null
  for s in A B; do
    stack $s stop >/dev/null 2>&1
    rm -rf "/tmp/ingest-pg-$(printf %s "$work/stack-$s" | md5sum | cut -c1-10)" # where stack.sh keeps PostgreSQL's data as root
  done
  rm -rf "$work"
}
trap cleanup EXIT
for s in A B; do
  RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="${erl[$s]}" stack $s start >/dev/null || { echo "stack $s did not start"; exit 1; }
  for setting in ${pgconf[$s]}; do
    sql $s -qc "alter system set ${setting%%=*} = '${setting#*=}'" || exit 1
  done
  [ -z "${pgconf[$s]}" ] || sql $s -Atc "select pg_reload_conf()" >/dev/null
  if [ "$(sql $s -Atc "select count(*) from pg_settings where pending_restart")" != 0 ]; then # e.g. huge_pages, shared_buffers
    { stack $s stop-postgres && stack $s start-postgres; } >/dev/null || { echo "postgres $s did not restart"; exit 1; }
  fi
  cs="Host=127.0.0.1;Port=${pg[$s]};Username=postgres;Database=ingest"
  w=${dir[$s]}/Ingest.Worker/bin/Release/net10.0/Ingest.Worker.dll
  eval "$(stack $s env)"
  export ConnectionStrings__Postgres=$cs
  export Ingest__RateLimit__EventsPerSecond=0  # measure the pipeline, not a source's rate limit (as deploy/bench.sh)
  # stack.sh made the database ingest; a side with a locale of its own gets it made again in that locale
  [ -z "${locale[$s]}" ] || sql $s -qc "drop database ingest" -c "create database ingest template template0 locale '${locale[$s]}'" || exit 1
  dotnet "$w" migrate >/dev/null || { echo "migrate $s failed"; exit 1; }
  dotnet "$w" source add ab >/dev/null; key=$(dotnet "$w" key create ab write | tail -1)
  ([ -z "${hostenv[$s]}" ] || export ${hostenv[$s]}; run_host "$w" $((port[$s] + 1))) >"$work/worker-$s.log" 2>&1 & worker_pid[$s]=$!
  ([ -z "${hostenv[$s]}" ] || export ${hostenv[$s]}; run_host "${dir[$s]}/Ingest.Api/bin/Release/net10.0/Ingest.Api.dll" ${port[$s]}) >"$work/api-$s.log" 2>&1 & api_pid[$s]=$!
  wait_ready "http://127.0.0.1:$((port[$s] + 1))/health/ready" ${worker_pid[$s]} "worker $s" "$work/worker-$s.log" || exit 1
  wait_ready "http://127.0.0.1:${port[$s]}/health/ready" ${api_pid[$s]} "api $s" "$work/api-$s.log" || exit 1
  auth=$(printf '%s:' "$key" | base64 -w0)
  cat >"$work/$s.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Basic $auth"
local n = 0
local props = '"properties":{"plan":"pro","amount":12.5,"path":"/pricing","referrer":"https://example.com/"}'
function init(args) math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16)) end
local function track(id, user) return '{"type":"track","userId":"u' .. user .. '","event":"Clicked",' .. props .. ',"messageId":"' .. id .. '","timestamp":"$now"}' end
request = function()
  n = n + 1
  local prefix = math.random(1e9) .. "-" .. n
  if $batch == 1 then return wrk.format(nil, "/v1/track", nil, track(prefix, n % 7)) end
  -- as StressTests' batches (EventBodies.Batch): each event's message id random on its own, its user one of 65,536
  local parts = {}
  for i = 1, $batch do parts[i] = track(math.random(1e9) .. "-" .. prefix .. "-" .. i, math.random(0, 65535)) end
  return wrk.format(nil, "/v1/batch", nil, '{"batch":[' .. table.concat(parts, ",") .. ']}')
end
LUA
done
ticks() { local t=0; for p in "$@"; do [ -r /proc/$p/stat ] && t=$((t + $(awk '{print $14+$15+$16+$17}' /proc/$p/stat))); done; echo $t; }
listener() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
pids_of() { # the processes of a side: api worker beam postgres(cluster: postmaster and its children)
  local s=$1 pm
  pm=$(listener ${pg[$s]})
  echo "${api_pid[$s]}|${worker_pid[$s]}|$(listener ${amqp[$s]})|$pm $(pgrep -P "$pm" | tr '\n' ' ')"
}
# The events the side's worker stored, from its transaction log: a count(*) of events would scan the whole table on
# every poll of the drain, a cost in PostgreSQL's CPU that grows with the table (at 10 M events, seconds a window).
stored() { sql $1 -d ingest -Atc "select coalesce(sum(inserted), 0) from ingest_transactions where status = 'committed'"; }
# window SIDE SECONDS: loads the side, waits for its drain, prints "requests stored <4 ticks before> <4 after> p99", the
# ticks (1/100 s: utime+stime with reaped children's) of api, worker, rabbitmq and postgres in that order.
window() {
  local s=$1 p before after out req
  IFS='|' read -ra p <<<"$(pids_of $s)"
  before=$(for x in "${p[@]}"; do ticks $x; done | tr '\n' ' ')
  local n0; n0=$(stored $s)
  out=$(wrk --latency -t2 -c$conns -d${2}s -s "$work/$s.lua" "http://127.0.0.1:${port[$s]}" 2>&1)
  req=$(echo "$out" | awk '/requests in/ {print $1}')
  # the drain: until the side's stored count stops moving
  local last=-1 now; while now=$(stored $s); [ "$now" != "$last" ]; do last=$now; sleep 1; done
  IFS='|' read -ra p <<<"$(pids_of $s)"
  after=$(for x in "${p[@]}"; do ticks $x; done | tr '\n' ' ')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  echo "$req $((now - n0)) $before $after $p99"
}
window A 10 >/dev/null; window B 10 >/dev/null
echo "side, events accepted and stored in the window, wrk's p99, CPU µs per event by process (drain included)"
for r in $(seq 1 "$rounds"); do
  for s in $([ $((r % 2)) = 1 ] && echo "A B" || echo "B A"); do
    read -r req st b1 b2 b3 b4 a1 a2 a3 a4 p99 <<<"$(window $s "$secs")"
    awk -v p99=$p99 -v s=$s -v r=$req -v st=$st -v n=$batch -v b1=$b1 -v b2=$b2 -v b3=$b3 -v b4=$b4 -v a1=$a1 -v a2=$a2 -v a3=$a3 -v a4=$a4 'BEGIN{ev=r*n;
      # a tick is 10,000 µs
      a=(a1-b1)*1e4/ev; w=(a2-b2)*1e4/ev; q=(a3-b3)*1e4/ev; p=(a4-b4)*1e4/ev;
      printf "%s events=%d stored=%d p99=%s api=%.1f worker=%.1f rabbitmq=%.1f postgres=%.1f pipeline=%.1f\n", s, ev, st, p99, a, w, q, p, a+w+q+p}' | tee -a "$work/rounds"
  done
done
echo
for s in A B; do
  printf '%s median:' $s
  for f in api worker rabbitmq postgres pipeline; do
    printf ' %s=%s' $f "$(grep "^$s " "$work/rounds" | grep -o " $f=[0-9.]*" | cut -d= -f2 | sort -n |
      awk '{v[NR] = $1} END {printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}')"
  done
  sql $s -d ingest -Atc \
    "select ' events/msg=' || round(sum(events)::numeric / nullif(sum(broker_messages), 0), 1) || ' checkpoints=' ||
            (select checkpoints_timed + checkpoints_req from pg_stat_bgwriter) from ingest_transactions where status = 'committed'"
done
# B's pipeline below A's in how many rounds (each round is one A and one B window, back to back)
paste -d' ' <(grep '^A ' "$work/rounds") <(grep '^B ' "$work/rounds") | awk '{split($9, a, "="); split($18, b, "="); n++; if (b[2] < a[2]) k++} END {printf "B cost less than A in %d of %d rounds\n", k, n}'
