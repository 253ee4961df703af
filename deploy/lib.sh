# Sourced by deploy/run.sh and deploy/bench.sh: starting one of our hosts and waiting until it is ready, in one place.
# (StressTests and Ingest.Tests do the same in C#: Ingest.Testing/Hosts/HostProcess.cs.)

# run_host DLL PORT: runs a host (Ingest.Api.dll, Ingest.Worker.dll) from its own folder, so that its appsettings.json
# applies, on http://127.0.0.1:PORT, in place of the calling (sub)shell: `(run_host …) &` leaves $! the host's pid.
run_host() {
  cd "$(dirname "$1")" && ASPNETCORE_URLS=http://127.0.0.1:$2 exec dotnet "$1"
}

# wait_ready URL PID NAME [LOG]: waits until URL (its /health/ready) answers 2xx, at most 60 s. Returns non-zero, with
# the end of LOG, when PID exits first or the time is up.
wait_ready() {
  local url=$1 pid=$2 name=$3 log=${4:-}
  for _ in $(seq 1 120); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      [ -z "$log" ] || tail -20 "$log" >&2
      echo "$name exited before it was ready" >&2
      return 1
    fi
    sleep 0.5
  done
  [ -z "$log" ] || tail -20 "$log" >&2
  echo "$name was not ready at $url within 60 s" >&2
  return 1
}

# free_port FROM: the first loopback port from FROM (up to FROM+200) that nothing listens on.
free_port() {
  local port
  for port in $(seq "$1" $(($1 + 200))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return 0; }
  done
  echo "no free port from $1" >&2
  return 1
}
