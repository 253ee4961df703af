#!/usr/bin/env bash
# The run command: starts the local stack, migrates, creates a development source with a write, a read and an admin key
# (printed once, kept in .local/dev-keys.env), starts Ingest.Worker and Ingest.Api, and prints the URL and a curl line.
# A host that exits is started again. Ctrl+C stops everything it started.
#
# Settings (environment): INGEST_API_PORT (5080), INGEST_WORKER_PORT (5081), and those of deploy/stack.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib.sh
api_port=${INGEST_API_PORT:-5080}
worker_port=${INGEST_WORKER_PORT:-5081}

stack_was_running=$(deploy/stack.sh status | grep -c running || true)
deploy/stack.sh start
eval "$(deploy/stack.sh env)"
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "$stack_was_running" = 2 ] || deploy/stack.sh stop
}
trap cleanup INT TERM EXIT

echo "building (Release)…"
dotnet build Analytics.sln -c Release -nologo -v q -clp:ErrorsOnly
bin() { echo "$repo/$1/bin/Release/net10.0"; }
worker="dotnet $(bin Ingest.Worker)/Ingest.Worker.dll"
$worker migrate

keys=.local/dev-keys.env
if [ ! -f "$keys" ]; then
  $worker source add dev "Development" --origins '*' >/dev/null
  printf 'WRITE_KEY=%s\nREAD_KEY=%s\n' "$($worker key create dev write)" "$($worker key create dev read)" >"$keys"
  chmod 600 "$keys"
  echo "created source 'dev' with a write key and a read key (kept in $keys):"
  cat "$keys"
fi
. "$keys"
if [ -z "${ADMIN_KEY:-}" ]; then
  printf 'ADMIN_KEY=%s\n' "$($worker key create dev admin)" >>"$keys"
  . "$keys"
  echo "created an admin key for privacy requests (kept in $keys): $ADMIN_KEY"
fi

# Readable in a terminal: the console as text, as appsettings.Development.json has it (CLEF elsewhere).
export Serilog__WriteTo__Console__Args__formatter__type=${Serilog__WriteTo__Console__Args__formatter__type:-"Serilog.Formatting.Display.MessageTemplateTextFormatter, Serilog"}
export Serilog__WriteTo__Console__Args__formatter__outputTemplate=${Serilog__WriteTo__Console__Args__formatter__outputTemplate:-"[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}"}

# Each host under a loop of its own: one that exits is started again, with a message, and takes neither the other
# host nor the stack down with it. Ctrl+C (cleanup) ends the loops, and each loop stops its host.
supervise() {
  local name=$1 port=$2 child='' rc
  trap 'kill "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 0' TERM
  while true; do
    (run_host "$(bin "$name")/$name.dll" "$port") & child=$!
    wait "$child" && rc=0 || rc=$?
    echo "run.sh: $name exited (code $rc); starting it again in 2 s. Ctrl+C stops everything." >&2
    sleep 2
  done
}
supervise Ingest.Worker "$worker_port" & pids+=($!)
supervise Ingest.Api "$api_port" & pids+=($!)

wait_ready "http://127.0.0.1:$api_port/health/ready" "${pids[-1]}" Ingest.Api || echo "run.sh: the API is not ready yet; it is started again until it is." >&2
cat <<MSG

Ingest.Api    http://127.0.0.1:$api_port   (OpenAPI: /openapi/v1.json, health: /health/ready)
Ingest.Worker http://127.0.0.1:$worker_port   (health: /health/ready)
Dashboard     http://127.0.0.1:$api_port/dashboard/   (sign in with the read key: $READ_KEY)
Send a first event:
  curl -u '$WRITE_KEY:' -H 'Content-Type: application/json' -d '{"userId":"alice","event":"Signed Up","properties":{"plan":"pro"}}' http://127.0.0.1:$api_port/v1/track
Privacy requests (admin key; see README, Privacy):
  curl -H 'Authorization: Bearer $ADMIN_KEY' 'http://127.0.0.1:$api_port/v1/privacy/subjects?userId=alice'
See it stored:
  psql -h 127.0.0.1 -p $INGEST_PG_PORT -U postgres ingest -c 'select source_id, event, user_id, "timestamp", stored_at from events order by id desc limit 5'
Ctrl+C stops everything.
MSG
wait
