#!/usr/bin/env bash
# `make bench`: builds the release bundle, starts the sandbox and the app, runs every benchmark
# and writes target/bench/results.json (also printed). See BENCH.md for the keys.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p target/bench
trunk build --release
BENCH_SANDBOX_PORT=${BENCH_SANDBOX_PORT:-28787}
BENCH_APP_PORT=${BENCH_APP_PORT:-28080}
# Billed like a real provider; start_sandbox exports SANDBOX_CONTROL_TOKEN for bench/*.mjs.
start_sandbox "$BENCH_SANDBOX_PORT" real
start_app "$BENCH_APP_PORT"
export APP_URL="http://127.0.0.1:$BENCH_APP_PORT"
export SANDBOX_URL="http://127.0.0.1:$BENCH_SANDBOX_PORT/v1"
cargo build --release --examples -q
node bench/run.mjs
