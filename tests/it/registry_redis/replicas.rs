//! Acceptance: two registry replicas (HTTP servers on 127.0.0.1:0) on one real Redis.
