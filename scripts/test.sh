#!/usr/bin/env bash
# Every test tier, in order; stops at the first failure (set -e). Run through `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

tier() { printf '\n\033[1;35m== %s ==\033[0m\n' "$*"; }

tier "1/7 native: cargo test (domain, sandbox)"
cargo test --workspace

# The sandbox serves the browser tests (tier 2), the SDK conformance tier (tier 3) and the
# end-to-end tests (tier 5). It bills like a real provider (--billing real): from the start of
# generation, for what was generated.
# start_sandbox exports SANDBOX_CONTROL_TOKEN (generated when unset) before tier 2, which compiles
# it into the browser tests (tests/web/http.rs reads it with option_env!).
E2E_SANDBOX_PORT=${E2E_SANDBOX_PORT:-18787}
E2E_APP_PORT=${E2E_APP_PORT:-18080}
start_sandbox "$E2E_SANDBOX_PORT" real
export SANDBOX_CONTROL_TOKEN
export SANDBOX_URL="http://127.0.0.1:$E2E_SANDBOX_PORT/v1"

tier "2/7 wasm-bindgen-test in headless Chromium"
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --test web

tier "3/7 SDK conformance: the official openai and @anthropic-ai/sdk clients against the sandbox"
# The reference implementations check our side of the wire: every reply, stream and error parses,
# and the usage each library reads is what the sandbox billed.
node --test --test-concurrency=1 tests/sdk/

tier "4/7 release build: trunk build --release (wasm-opt -Oz)"
trunk build --release

tier "5/7 end-to-end: playwright-core + Chromium against dist/ and the sandbox"
start_app "$E2E_APP_PORT"
export APP_URL="http://127.0.0.1:$E2E_APP_PORT"
node --test --test-concurrency=1 --test-timeout=600000 tests/e2e/

tier "6/7 accessibility: axe-core on every page (0 serious or critical)"
node tests/a11y/audit.mjs

tier "7/7 bundle budget: initial load, wasm + js + css, at most 250 KB brotli"
# The product's budget (ARCHITECTURE.md, "Bundle size"): the build fails when the initial load
# grows past it.
node scripts/bundle-size.mjs --budget 250000
