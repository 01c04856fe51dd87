//! The integration suite: real servers, real clients and real proxies, all on `127.0.0.1:0`.
//!
//! One test binary (`cargo test -p mesh-tests --test integration`), one module per area.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod embedded;
mod harness;
mod proxy;
mod registry_redis;
mod xds;
