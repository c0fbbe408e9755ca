#!/usr/bin/env bash
# Load goro's example HTTP server and two Go twins with wrk, in one sitting: Go's net/http
# (benches/go/httpserver) and a hand-written Go loop with the same shape as goro's server
# (benches/go/httploop). For each shape (keep-alive, and `Connection: close`, one connection
# per request) and each number of connections (100 and 1000), the three servers take turns,
# ROUNDS times (default 2), 5 s a run; one line per run with requests/s and latency
# percentiles. Needs wrk (apt-get install wrk) and go (apt-get install golang-go).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${WORKERS:-2}
rounds=${ROUNDS:-2}
secs=${SECS:-5}
cargo build --release -q
(cd benches/go && go build -o ../../target/go-httpserver ./httpserver && go build -o ../../target/go-httploop ./httploop)
./target/release/goro run http-server --workers "$workers" --addr 127.0.0.1:18080 >/dev/null &
goro_pid=$!
GOMAXPROCS=$workers ./target/go-httpserver -addr 127.0.0.1:18081 &
nethttp_pid=$!
GOMAXPROCS=$workers ./target/go-httploop -addr 127.0.0.1:18082 &
loop_pid=$!
trap 'kill $goro_pid $nethttp_pid $loop_pid 2>/dev/null || true' EXIT
sleep 1
for shape in keep-alive close; do
  header=()
  if [ "$shape" = close ]; then header=(-H 'Connection: close'); fi
  for conns in 100 1000; do
    for round in $(seq 1 "$rounds"); do
      for t in goro:18080 go-loop:18082 go-net/http:18081; do
        name=${t%%:*}
        port=${t##*:}
        out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${header[@]}" "http://127.0.0.1:$port/")
        rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
        p50=$(echo "$out" | awk '$1=="50%" {print $2}')
        p99=$(echo "$out" | awk '$1=="99%" {print $2}')
        errs=$(echo "$out" | awk '/Socket errors/ {print $0}')
        echo "$shape conns=$conns round=$round $name requests/s $rps p50 $p50 p99 $p99 ${errs:+($errs)}"
        sleep 1
      done
    done
  done
done
