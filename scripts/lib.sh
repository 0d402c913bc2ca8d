# Shared by the scripts: start the sandbox and the static app server, and stop them on exit.
# Source it; it defines start_sandbox PORT [BILLING], start_app PORT and registers the cleanup.

mkdir -p target
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

wait_for_url() { # URL, seconds, extra curl arguments (e.g. -H "name: value")...
  local url=$1 tries=$(( ${2:-30} * 10 ))
  shift 2 || shift $#
  for ((i = 0; i < tries; i++)); do
    curl -fsS -o /dev/null "$@" "$url" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}

# PORT, BILLING (complete or real; default $SANDBOX_BILLING, else complete). The sandbox's control
# routes (/_sandbox/*) need the header x-sandbox-control: $SANDBOX_CONTROL_TOKEN; when the variable
# is unset, a random token is generated and exported, so the tests and benchmarks started after
# this (Node, and the browser tests, which read it at compile time) send it.
start_sandbox() {
  cargo build --release -p sandbox -q
  if [[ -z "${SANDBOX_CONTROL_TOKEN:-}" ]]; then
    SANDBOX_CONTROL_TOKEN=$(head -c16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  fi
  export SANDBOX_CONTROL_TOKEN
  local billing=${2:-${SANDBOX_BILLING:-complete}}
  SANDBOX_LOG=${SANDBOX_LOG:-target/sandbox-$1.log}
  "${CARGO_TARGET_DIR:-target}/release/sandbox" --port "$1" --billing "$billing" \
    --control-token "$SANDBOX_CONTROL_TOKEN" >"$SANDBOX_LOG" 2>&1 &
  PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/_sandbox/stats" 30 -H "x-sandbox-control: $SANDBOX_CONTROL_TOKEN"
}

start_app() { # PORT (serves dist/, the release build)
  node scripts/serve-dist.mjs dist "$1" >"target/app-$1.log" 2>&1 &
  PIDS+=($!)
  wait_for_url "http://127.0.0.1:$1/" 30
}
