#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The gRPC interop test drives the proxy with Python's grpcio, an independent client.
if ! python3 -c 'import grpc, grpc_health.v1' 2>/dev/null; then
  echo "installing grpcio and grpcio-health-checking for the gRPC interop test" >&2
  python3 -m pip install --quiet --disable-pip-version-check grpcio grpcio-health-checking
fi

# /stats/prometheus is checked with an independent parser of the format.
if ! python3 -c 'import prometheus_client' 2>/dev/null; then
  echo "installing prometheus_client for the Prometheus exposition test" >&2
  python3 -m pip install --quiet --disable-pip-version-check prometheus_client
fi

# The admin /dashboard is tested in a real browser: Debian's Chromium, driven by Python's playwright
# (never `playwright install`: the test launches /usr/bin/chromium, and there is no browser download).
if ! [ -x /usr/bin/chromium ]; then
  echo "installing chromium for the dashboard test" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
if ! python3 -c 'import playwright.sync_api' 2>/dev/null; then
  echo "installing playwright (Python) for the dashboard test" >&2
  python3 -m pip install --quiet --disable-pip-version-check playwright
fi

# The registry's Redis store is tested against a real redis-server (its tests fail without one).
if ! command -v redis-server >/dev/null; then
  echo "installing redis-server for the registry's Redis store tests" >&2
  apt-get update -qq && apt-get install -y -qq redis-server
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets "$@" 2>&1 | tee "$log"
cargo test --workspace --doc 2>&1 | tee -a "$log"
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { passed += $4; failed += $6 } END { printf "%d passed, %d failed\n", passed, failed }' "$log"
