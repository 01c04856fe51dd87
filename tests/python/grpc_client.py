#!/usr/bin/env python3
"""grpcio interop client for the mesh integration tests.

Usage: grpc_client.py HOST:PORT [AUTHORITY]

Against a mesh.test.Echo server (directly, or through the proxy at HOST:PORT, sending
:authority AUTHORITY if given) it:
  (a) calls grpc.health.v1.Health/Check for "mesh.test.Echo" and prints the status (must be SERVING);
  (b) makes a bidi streaming call to /mesh.test.Echo/Bidi and checks every echo;
  (c) calls /mesh.test.Echo/Unary with "fail" and checks it gets INVALID_ARGUMENT.
The echo messages are `message EchoMessage { string text = 1; }`, encoded by hand (no codegen).
Exits 0 and prints "OK" on success; exits 1 with a message on any mismatch.

Needs: pip install grpcio grpcio-health-checking
"""

import sys

try:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc
except ImportError as e:  # the Rust side turns this into a test failure with install advice
    print(f"missing python module ({e}): pip install grpcio grpcio-health-checking", file=sys.stderr)
    sys.exit(3)

TIMEOUT_S = 10


def encode_varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode(text: str) -> bytes:
    """EchoMessage{text}: field 1, wire type 2 (0x0a), varint length, UTF-8."""
    data = text.encode("utf-8")
    if not data:
        return b""  # proto3 omits default values
    return b"\x0a" + encode_varint(len(data)) + data


def decode(buf: bytes) -> str:
    """Reads field 1 of an EchoMessage, skipping unknown varint and length-delimited fields."""
    text = ""
    i = 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = read_varint(buf, i)
        elif wire == 2:
            length, i = read_varint(buf, i)
            if field == 1:
                text = buf[i:i + length].decode("utf-8")
            i += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
    return text


def read_varint(buf: bytes, i: int):
    shift = result = 0
    for _ in range(10):
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7
    raise ValueError("varint too long")


def fail(msg: str):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) not in (2, 3):
        fail(f"usage: {sys.argv[0]} HOST:PORT [AUTHORITY]")
    target = sys.argv[1]
    options = [("grpc.default_authority", sys.argv[2])] if len(sys.argv) == 3 else []
    with grpc.insecure_channel(target, options=options) as channel:
        grpc.channel_ready_future(channel).result(timeout=TIMEOUT_S)

        # (a) health
        health = health_pb2_grpc.HealthStub(channel)
        resp = health.Check(health_pb2.HealthCheckRequest(service="mesh.test.Echo"), timeout=TIMEOUT_S)
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
        print(f"health mesh.test.Echo: {status}")
        if status != "SERVING":
            fail(f"health status {status}, want SERVING")

        # (b) bidi
        texts = ["one", "two", "three", "ünïcödé", "x" * 300]
        bidi = channel.stream_stream(
            "/mesh.test.Echo/Bidi", request_serializer=encode, response_deserializer=decode
        )
        echoes = list(bidi(iter(texts), timeout=TIMEOUT_S))
        print(f"bidi echoes: {len(echoes)}")
        if echoes != texts:
            fail(f"bidi echoes {echoes!r}, want {texts!r}")

        # (c) unary failure
        unary = channel.unary_unary(
            "/mesh.test.Echo/Unary", request_serializer=encode, response_deserializer=decode
        )
        echoed = unary("hello", timeout=TIMEOUT_S)
        if echoed != "hello":
            fail(f"unary echoed {echoed!r}, want 'hello'")
        try:
            unary("fail", timeout=TIMEOUT_S)
            fail("unary 'fail' succeeded, want INVALID_ARGUMENT")
        except grpc.RpcError as e:
            print(f"unary fail: {e.code().name} {e.details()!r}")
            if e.code() != grpc.StatusCode.INVALID_ARGUMENT:
                fail(f"unary 'fail' got {e.code().name}, want INVALID_ARGUMENT")
            if e.details() != "fail requested":
                fail(f"unary 'fail' details {e.details()!r}, want 'fail requested'")
    print("OK")


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        fail(f"rpc error: {e.code().name} {e.details()!r}")
    except grpc.FutureTimeoutError:
        fail(f"channel to {sys.argv[1]} not ready within {TIMEOUT_S}s")
