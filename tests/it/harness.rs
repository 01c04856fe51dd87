//! Self-tests of the harness: each backend and client directly (no proxy), plus one smoke test of
//! the proxy helper.

mod grpc;
mod http;
mod proxy;
mod streams;
