#!/usr/bin/env bash
# Load goro's example HTTP server and its Go twin (benches/go/httpserver) with wrk, alternating
# the two, 100 connections, 5 s a run, 3 rounds; prints requests/s and latency percentiles.
# Needs wrk (apt-get install wrk) and go (apt-get install golang-go).
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${WORKERS:-2}
cargo build --release -q
(cd benches/go && go build -o ../../target/go-httpserver ./httpserver)
./target/release/goro run http-server --workers "$workers" --addr 127.0.0.1:18080 >/dev/null &
goro_pid=$!
GOMAXPROCS=$workers ./target/go-httpserver -addr 127.0.0.1:18081 &
go_pid=$!
trap 'kill $goro_pid $go_pid 2>/dev/null || true' EXIT
sleep 1
for round in 1 2 3; do
  for t in goro:18080 go:18081; do
    name=${t%%:*}
    port=${t##*:}
    out=$(wrk -t2 -c100 -d5s --latency "http://127.0.0.1:$port/")
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1=="50%" {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "round $round  $name  requests/s $rps  p50 $p50  p99 $p99"
  done
done
