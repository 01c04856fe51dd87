//! Errors building a [`Maglev`](super::Maglev) table.

use crate::hash::DuplicateHostKey;

/// More hosts than table slots: some hosts would get no slot, hence no traffic.
///
/// Envoy silently leaves the extra hosts out. Raise `table_size` (to at least 100 slots per
/// host for an even spread) or split the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{hosts} hosts do not fit a maglev table of {table_size} slots")]
pub struct TableTooSmall {
    /// The number of hosts given.
    pub hosts: usize,
    /// The configured table size.
    pub table_size: u64,
}

/// Why [`Maglev::new`](super::Maglev::new) refused a host set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MaglevBuildError {
    /// Two hosts share a hash key.
    #[error(transparent)]
    DuplicateHostKey(#[from] DuplicateHostKey),
    /// More hosts than slots.
    #[error(transparent)]
    TableTooSmall(#[from] TableTooSmall),
}
