//! Health checks against real servers on 127.0.0.1:0: the three checkers one probe at a time,
//! then the whole `HealthChecker` loop with short intervals.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod checker;
mod grpc;
mod http;
mod support;
mod tcp;
