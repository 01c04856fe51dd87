//! Routing through a real in-process proxy: virtual-host selection, every route match kind, every
//! action, header rules and endpoint balancing (docs/config.md, "How a request is routed").
//!
//! [`T`] is shared with the sibling error, limit and admin suites.

mod actions;
mod balancing;
mod header_rules;
mod matches;
mod vhosts;

use std::time::Duration;

/// The bound on every test here: generous, because the machine is small and shared.
pub(super) const T: Duration = Duration::from_secs(60);
