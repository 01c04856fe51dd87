#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

# The gRPC interop test drives the proxy with Python's grpcio, an independent client.
if ! python3 -c 'import grpc, grpc_health.v1' 2>/dev/null; then
  echo "installing grpcio and grpcio-health-checking for the gRPC interop test" >&2
  python3 -m pip install --quiet --disable-pip-version-check grpcio grpcio-health-checking
fi

cargo test --workspace --all-targets "$@"
cargo test --workspace --doc
