#!/usr/bin/env bash
# Regenerates mesh-discovery/src/xds/gen/ (checked in) from mesh-discovery/proto/ with
# tools/xds-codegen (protox + tonic-prost-build; no protoc needed). Run after editing a .proto.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release --manifest-path tools/xds-codegen/Cargo.toml
echo "regenerated mesh-discovery/src/xds/gen; review with: git diff --stat mesh-discovery/src/xds/gen"
