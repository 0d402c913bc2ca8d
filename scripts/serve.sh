#!/usr/bin/env bash
# `make serve`: the sandbox API on 127.0.0.1:8787 and the app on 127.0.0.1:8080 (trunk serve,
# rebuilt on change). The app is built with DUANJU_DEV_SANDBOX so it starts on the sandbox.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
mkdir -p target
# Billing stays `complete` here (only whole, fault-free replies are billed).
SANDBOX_LOG=target/sandbox-serve.log start_sandbox 8787 complete
cat target/sandbox-serve.log
echo "App:         http://127.0.0.1:8080/   (building… the first build takes a few minutes)"
echo "Sandbox API: http://127.0.0.1:8787/v1"
echo "Sandbox control token (header x-sandbox-control on /_sandbox/*): $SANDBOX_CONTROL_TOKEN"
DUANJU_DEV_SANDBOX="http://127.0.0.1:8787/v1" trunk serve --address 127.0.0.1 --port 8080 --no-autoreload
