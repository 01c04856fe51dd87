//! A real DNS server for tests: UDP on `127.0.0.1:0`, whose A/AAAA records and TTLs the test
//! changes while it runs, and which can be told to SERVFAIL or go silent. It lives in
//! mesh-discovery (behind its `test-support` feature) because that crate's own unit tests use it
//! too; it is re-exported here beside the other servers.

pub use mesh_discovery::dns::test_server::{Failure, TestDnsServer};
