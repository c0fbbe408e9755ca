#!/usr/bin/env bash
# Load goro's example HTTP server and two Go twins with wrk, in one sitting: Go's net/http
# (benches/go/httpserver) and a hand-written Go loop with the same shape as goro's server
# (benches/go/httploop). For each shape (keep-alive, and `Connection: close`, one connection
# per request) and each number of connections (100 and 1000), the three servers take turns,
# ROUNDS times (default 2), SECS (default 5) a run; one line per run with requests/s and
# latency percentiles. The `spin` shape loads `/` with 100 connections twice, alone and
# beside one more connection that asks for `/spin?ms=500` (CPU work) back to back, on goro
# and net/http (the hand-written loop has no routes). SHAPES picks shapes (default
# "keep-alive close spin"). Needs wrk (apt-get install wrk) and go (apt-get install golang-go).
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
# wrk's requests/s, p50 and p99 of a run, on one line.
summary() {
  local rps p50 p99 errs
  rps=$(echo "$1" | awk '/Requests\/sec/ {print $2}')
  p50=$(echo "$1" | awk '$1=="50%" {print $2}')
  p99=$(echo "$1" | awk '$1=="99%" {print $2}')
  errs=$(echo "$1" | awk '/Socket errors/ {print $0}')
  echo "requests/s $rps p50 $p50 p99 $p99 ${errs:+($errs)}"
}
for shape in ${SHAPES:-keep-alive close spin}; do
  if [ "$shape" = spin ]; then
    for round in $(seq 1 "$rounds"); do
      for t in goro:18080 go-net/http:18081; do
        name=${t%%:*}
        port=${t##*:}
        alone=$(wrk -t2 -c100 -d"${secs}s" --latency "http://127.0.0.1:$port/")
        sleep 1
        wrk -t1 -c1 -d"$((secs + 1))s" "http://127.0.0.1:$port/spin?ms=500" >/dev/null &
        spinner=$!
        sleep 0.5
        beside=$(wrk -t2 -c100 -d"${secs}s" --latency "http://127.0.0.1:$port/")
        wait $spinner
        echo "spin conns=100 round=$round $name alone: $(summary "$alone"); beside /spin: $(summary "$beside")"
        sleep 1
      done
    done
    continue
  fi
  header=()
  if [ "$shape" = close ]; then header=(-H 'Connection: close'); fi
  for conns in 100 1000; do
    for round in $(seq 1 "$rounds"); do
      for t in goro:18080 go-loop:18082 go-net/http:18081; do
        name=${t%%:*}
        port=${t##*:}
        out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency "${header[@]}" "http://127.0.0.1:$port/")
        echo "$shape conns=$conns round=$round $name $(summary "$out")"
        sleep 1
      done
    done
  done
done
