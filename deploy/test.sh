#!/usr/bin/env bash
# The test command: starts the local stack (installing RabbitMQ when missing), runs every test of the
# solution against it, stops the stack, and prints "N passed, N failed". Exits non-zero on any failure.
# Extra arguments go to `dotnet test` (for example --filter "FullyQualifiedName~Migrations").
# --fast: the inner loop. Only the tests that need no server (unit tests, and the contract tests on MassTransit's
# in-memory test harness), selected by namespace below; no stack, no npm or Chromium. Under two minutes after a build.
set -uo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# A test belongs in one of these namespaces only if it starts nothing: no server, no host process, no database. Put
# one that does under Ingest.Tests.Integration (whose [SetUpFixture] TestStack prepares the servers) instead.
fast_tests="FullyQualifiedName~Ingest.Tests.Unit.|FullyQualifiedName~Ingest.Tests.Contracts.|FullyQualifiedName~StressTests.Unit."
fast=false
for arg in "$@"; do [ "$arg" = "--fast" ] && fast=true; done

if ! $fast; then
  deploy/stack.sh start || { echo "0 passed, 1 failed"; exit 1; }
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  # apt_install <package>...: from Debian's packages, as root.
  apt_install() {
    echo "installing $* from Debian's packages"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
  }
  # The real-client tests install Segment's and RudderStack's libraries with npm (Ingest.Tests/Integration/Clients/node).
  command -v npm >/dev/null || apt_install nodejs npm
  # The dashboard's browser tests drive Debian's Chromium with Playwright (Ingest.Tests/Integration/Dashboard/Browser.cs),
  # since Playwright's own browser download cannot run here.
  [ -x /usr/bin/chromium ] || apt_install chromium
  trap 'deploy/stack.sh stop >/dev/null 2>&1' EXIT
  eval "$(deploy/stack.sh env)"
fi

# Benchmarks run with deploy/bench.sh; a caller's --filter narrows the rest.
filter="TestCategory!=Benchmark"
if $fast; then filter="$filter&($fast_tests)"; fi
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--filter" ] && [ $# -gt 1 ]; then filter="$filter&($2)"; shift 2
  elif [ "$1" = "--fast" ]; then shift
  else args+=("$1"); shift; fi
done

results=$repo/.local/test-results
rm -rf "$results"
# -m:1: one test assembly at a time, since tests stop and start the shared servers (and, in --fast, since
# StressTests.Unit measures the CPU it spends, which a second assembly running beside it on two cores would take).
dotnet test Analytics.sln -c Release -m:1 --logger trx --results-directory "$results" --filter "$filter" "${args[@]}"
rc=$?

read -r passed failed < <(cat "$results"/*.trx 2>/dev/null | grep -o '<Counters [^>]*' |
  awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); gsub(/"/, "", kv[2]);
         if (kv[1] == "passed") p += kv[2]; if (kv[1] == "failed" || kv[1] == "error" || kv[1] == "timeout" || kv[1] == "aborted") f += kv[2] } }
       END { print p + 0, f + 0 }')
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # the build or the test host failed before any result
echo "$passed passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
