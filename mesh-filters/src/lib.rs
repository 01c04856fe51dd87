//! mesh-filters: the tower layers between a request and its upstream.
//!
//! This crate will own (issues: resilience layers, observability): circuit breakers
//! (Envoy's `max_connections`, `max_pending_requests`, `max_requests`, `max_retries`),
//! retries with `retry_on` conditions, budgets and jittered backoff, per-try and route
//! timeouts, local rate limits, fault injection, request mirroring, request IDs, header
//! rules, stats, access logs and trace-context propagation. Each is a `Foo` service plus
//! a `FooLayer`, usable in the proxy, in `mesh-client` and in any tower stack.
//!
//! It depends on `mesh-core` only. Nothing is implemented yet: the proxy's route
//! timeout and header rules currently live in `mesh-proxy`'s request path.
