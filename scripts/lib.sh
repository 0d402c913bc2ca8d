# Shared by the scripts: start the sandbox and the static app server, and stop them on exit.
# Source it; it defines start_sandbox PORT, start_app PORT and registers the cleanup.

mkdir -p target
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

wait_for_url() { # URL, seconds
  local url=$1 tries=$(( ${2:-30} * 10 ))
  for ((i = 0; i < tries; i++)); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

start_sandbox() { # PORT
  cargo build --release -p sandbox -q
  SANDBOX_LOG=${SANDBOX_LOG:-target/sandbox-$1.log}
  "${CARGO_TARGET_DIR:-target}/release/sandbox" --port "$1" >"$SANDBOX_LOG" 2>&1 &
  PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/_sandbox/stats" 30
}

start_app() { # PORT (serves dist/, the release build)
  node scripts/serve-dist.mjs dist "$1" >"target/app-$1.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/" 30
}
