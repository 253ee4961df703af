#!/usr/bin/env bash
# The benchmark, end to end on a fresh machine: starts the stack (deploy/stack.sh), builds Release, creates and
# migrates the database, adds a source, starts Ingest.Worker and Ingest.Api as the README runs them, runs the
# StressTests benchmark (the ceilings of this machine, then the pipeline's scenarios), prints the table, and stops
# everything it started. Exits non-zero when a scenario breached a threshold.
#
#   INGEST_PG_PORT=25432 INGEST_AMQP_PORT=25672 deploy/bench.sh
#   deploy/bench.sh worker     # only the worker's: backlog drain rates by batch settings, the writer by unnest and COPY
#   deploy/bench.sh read-side  # only the read side's query latency on 1,000,000 events (STRESS_READ_EVENTS) and plans
#   deploy/bench.sh privacy    # only privacy's: the suppression check's and the deletion filter's CPU per event, and a
#                              # deletion of 1,000 subjects from 1,000,000 events (STRESS_PRIVACY_EVENTS) under ingestion
#   deploy/bench.sh fuzz       # instead: the long property-based fuzz of the write side (INGEST_FUZZ_CASES, 100000)
#
# Knobs (environment, see StressTests/Scenarios/Settings.cs): STRESS_SECONDS (15), STRESS_WARMUP_SECONDS (3), STRESS_COST_WARMUP_SECONDS (20),
# STRESS_RATE (1000), STRESS_OPEN_P99_MS (100), STRESS_LAG_EVENTS_PER_SECOND (5000), STRESS_OUTAGE_RATE (500),
# STRESS_READ_EVENTS (1000000), STRESS_PRIVACY_EVENTS (1000000), STRESS_SUSTAINED_SECONDS (60: the batch load storage
# must keep up with, run again on a pipeline of its own whose queue is bounded at STRESS_BACKLOG_MB, 64, past which the
# API pushes back with 503), STRESS_FILLED_EVENTS (10000000: events generated into the table before the last scenario, which
# compares PostgreSQL's CPU per event with the batch scenario's on the emptied table before and after the fill, and
# leaves the table empty; ~20 min, ~10 GB of disk). BENCH_FILTER narrows the scenarios (a dotnet test filter), e.g.
# BENCH_FILTER="FullyQualifiedName~Ceiling|FullyQualifiedName~64_connections".
#
# Each scenario reports the CPU time per event of the API, the worker, RabbitMQ, PostgreSQL and the load generator,
# the batching (events per broker message, messages per transaction), and the pipeline's CPU per event as a multiple
# of the floor measured in the same run (issue #25: a bare Kestrel request over the events it carries + PostgreSQL's
# CPU per COPY row) and of the bare Kestrel request (summary.md's second table).
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
. deploy/lib.sh
export INGEST_PG_PORT=${INGEST_PG_PORT:-25432} INGEST_AMQP_PORT=${INGEST_AMQP_PORT:-25672}
case "${1:-}" in
  worker) BENCH_FILTER="FullyQualifiedName~StressTests.Scenarios.WorkerBenchmarks" ;;
  read-side) BENCH_FILTER="FullyQualifiedName~StressTests.Scenarios.ReadSideBenchmark" ;;
  privacy) BENCH_FILTER="FullyQualifiedName~StressTests.Scenarios.PrivacyBenchmarks" ;;
  ""|fuzz) ;;
  *) echo "bench: unknown mode $1 (worker, read-side, privacy, fuzz, or none for everything)" >&2; exit 2 ;;
esac

logs=$repo/.local/bench
mkdir -p "$logs"
hosts=()
stop_all() {
  for pid in "${hosts[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  deploy/stack.sh stop >/dev/null 2>&1
}
trap stop_all EXIT
fail() { echo "bench: $*" >&2; exit 1; }

if [ "${1:-}" = "fuzz" ]; then
  # The fuzz test starts its own API and worker processes on the stack; it writes .local/fuzz/report.md.
  export INGEST_FUZZ_CASES=${INGEST_FUZZ_CASES:-100000}
  echo "bench: fuzz, $INGEST_FUZZ_CASES cases"
  deploy/test.sh --filter "FullyQualifiedName~Ingest.Tests.Integration.Fuzz"
  rc=$?
  echo
  cat "$repo/.local/fuzz/report.md" 2>/dev/null || echo "(no fuzz report)"
  exit $rc
fi

# PostgreSQL's shared memory on huge pages, as docs/operations.md asks of a server: reserved for the run if the system
# has too few (deploy/stack.sh, as root or by sudo), given back at the end. The line says whether it got them.
export INGEST_PG_HUGE_PAGES=${INGEST_PG_HUGE_PAGES:-reserve}
started=$(deploy/stack.sh start) || fail "the stack did not start"
grep "^postgres:" <<<"$started" | sed 's/^/bench: /'
eval "$(deploy/stack.sh env)"
echo "bench: stack up (postgres :$INGEST_PG_PORT, rabbitmq :$INGEST_AMQP_PORT); building Release"
dotnet build Analytics.sln -c Release -v quiet -nologo >"$logs/build.log" 2>&1 || { tail -30 "$logs/build.log"; fail "build failed"; }

worker_dll=${INGEST_WORKER_DLL:-$repo/Ingest.Worker/bin/Release/net10.0/Ingest.Worker.dll}  # INGEST_WORKER_DLL: another build to measure
api_dll=${INGEST_API_DLL:-$repo/Ingest.Api/bin/Release/net10.0/Ingest.Api.dll}  # INGEST_API_DLL: another build to measure
# A fresh database each run: an insert costs PostgreSQL more as the indexes of events outgrow its memory (about three
# times as much CPU per event on a table of ten million rows as on an empty one, here), so runs on one growing
# database would not compare. The development database (ingest) is left alone.
pg_bin=/usr/lib/postgresql/15/bin
"$pg_bin/dropdb" -h 127.0.0.1 -p "$INGEST_PG_PORT" -U postgres --if-exists ingest_bench || fail "could not drop ingest_bench"
"$pg_bin/createdb" -h 127.0.0.1 -p "$INGEST_PG_PORT" -U postgres ingest_bench || fail "could not create ingest_bench"
export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$INGEST_PG_PORT;Username=postgres;Database=ingest_bench"
dotnet "$worker_dll" migrate || fail "migrate failed"

# The scenarios measure the pipeline, not a source's rate limit (50,000 events/s by default), which batches from 8
# connections pass in this machine's fast windows: no limit for the hosts started here or by the scenarios.
export Ingest__RateLimit__EventsPerSecond=0
worker_port=$(free_port $((INGEST_PG_PORT + 1000))) || fail "no port for the worker"
(run_host "$worker_dll" "$worker_port") >"$logs/worker.log" 2>&1 &
hosts+=($!)
wait_ready "http://127.0.0.1:$worker_port/health/ready" "${hosts[-1]}" worker "$logs/worker.log" || fail "the worker did not start"
api_port=$(free_port $((worker_port + 1))) || fail "no port for the API"
(run_host "$api_dll" "$api_port") >"$logs/api.log" 2>&1 &
hosts+=($!)
wait_ready "http://127.0.0.1:$api_port/health/ready" "${hosts[-1]}" api "$logs/api.log" || fail "the API did not start"
echo "bench: worker on :$worker_port, api on :$api_port (logs in $logs)"

export INGEST_API_URL=http://127.0.0.1:$api_port
# The scenarios meter the hosts' CPU time in /proc by these pids (each subshell above execs dotnet, keeping its pid).
export INGEST_WORKER_PID=${hosts[0]} INGEST_API_PID=${hosts[1]}
export STRESS_REPORT_DIR=$repo/stress-reports/bench-$(date -u +%Y%m%d-%H%M%S)
# BENCH_FILTER narrows the scenarios, e.g. BENCH_FILTER="FullyQualifiedName~Seeds"
dotnet test StressTests -c Release --no-build --filter "TestCategory=Benchmark${BENCH_FILTER:+&($BENCH_FILTER)}" --logger "console;verbosity=normal"
rc=$?

echo
echo "## Benchmark $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores: INGEST_PG_PORT=$INGEST_PG_PORT INGEST_AMQP_PORT=$INGEST_AMQP_PORT deploy/bench.sh${1:+ $1}"
echo
if [ -f "$STRESS_REPORT_DIR/summary.md" ]; then cat "$STRESS_REPORT_DIR/summary.md"; else echo "(no scenario finished)"; fi
echo
echo "reports: $STRESS_REPORT_DIR/report.html and report.md"
exit $rc
