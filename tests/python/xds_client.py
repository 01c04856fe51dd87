#!/usr/bin/env python3
"""grpcio xDS interop client for the mesh integration tests.

Usage: xds_client.py XDS_SERVER_HOST:PORT SERVICE

Uses grpcio's own xDS client (proxyless gRPC) as an independent check of the registry's xDS
server: it writes a bootstrap file naming XDS_SERVER (insecure, xds_v3), points
GRPC_XDS_BOOTSTRAP at it, and calls grpc.health.v1.Health/Check (service "") on the target
xds:///SERVICE. gRPC resolves that target only through xDS: an LDS listener named SERVICE, its
route to a CDS cluster, that cluster's EDS endpoints. So the call reaches the backend only if
the registry served all of them correctly. Prints "health SERVICE: STATUS" and "OK" on
success; exits 1 with a message (never hangs: every wait is bounded by TIMEOUT_S) otherwise.

Needs: pip install grpcio grpcio-health-checking
"""

import json
import os
import sys
import tempfile

TIMEOUT_S = 20


def fail(msg: str):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def write_bootstrap(xds_server: str) -> str:
    bootstrap = {
        "xds_servers": [
            {
                "server_uri": xds_server,
                "channel_creds": [{"type": "insecure"}],
                "server_features": ["xds_v3"],
            }
        ],
        "node": {"id": f"mesh-tests-grpcio-{os.getpid()}", "locality": {"zone": "test"}},
    }
    fd, path = tempfile.mkstemp(prefix="mesh-xds-bootstrap-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(bootstrap, f)
    return path


def main():
    if len(sys.argv) != 3:
        fail(f"usage: {sys.argv[0]} XDS_SERVER_HOST:PORT SERVICE")
    xds_server, service = sys.argv[1], sys.argv[2]
    path = write_bootstrap(xds_server)
    # Read by gRPC core when the first xds: channel is made; set before grpc is imported.
    os.environ["GRPC_XDS_BOOTSTRAP"] = path
    try:
        try:
            import grpc
            from grpc_health.v1 import health_pb2, health_pb2_grpc
        except ImportError as e:  # the Rust side turns this into a failure with install advice
            print(f"missing python module ({e}): pip install grpcio grpcio-health-checking", file=sys.stderr)
            sys.exit(3)
        target = f"xds:///{service}"
        with grpc.insecure_channel(target) as channel:
            try:
                grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)
            except grpc.FutureTimeoutError:
                fail(f"channel to {target} (xDS server {xds_server}) not ready within {TIMEOUT_S}s")
            health = health_pb2_grpc.HealthStub(channel)
            try:
                resp = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_S)
            except grpc.RpcError as e:
                fail(f"Health/Check on {target}: {e.code().name} {e.details()!r}")
            status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
            print(f"health {service}: {status}")
            if status != "SERVING":
                fail(f"health status {status}, want SERVING")
    finally:
        os.unlink(path)
    print("OK")


if __name__ == "__main__":
    main()
