//! The validated size bounds of a [`RingHash`](super::RingHash) ring.

/// Envoy's default `minimum_ring_size`.
pub const DEFAULT_MINIMUM_RING_SIZE: u64 = 1024;

/// Envoy's default `maximum_ring_size`, which is also the largest either bound may be (8M
/// entries, 96 MiB of ring).
pub const MAX_RING_SIZE: u64 = 8 * 1024 * 1024;

/// Ring size bounds outside `1 ≤ minimum ≤ maximum ≤ 8M` (8,388,608, Envoy's limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "ring hash sizes need 1 <= minimum_ring_size <= maximum_ring_size <= {MAX_RING_SIZE}, \
     got minimum_ring_size {minimum}, maximum_ring_size {maximum}"
)]
pub struct InvalidRingSize {
    /// The `minimum_ring_size` given.
    pub minimum: u64,
    /// The `maximum_ring_size` given.
    pub maximum: u64,
}

/// Envoy's `ring_hash_lb_config`: bounds on the number of ring entries.
///
/// The ring is scaled so that the lightest host gets `ceil(its share × minimum_ring_size)`
/// entries and the others proportionally more, unless that exceeds `maximum_ring_size`, in
/// which case the ring is scaled down to it (each host still keeps at least one entry). See the
/// [module docs](super) for the exact rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingHashConfig {
    minimum_ring_size: u64,
    maximum_ring_size: u64,
}

impl RingHashConfig {
    /// Validates the bounds: `1 ≤ minimum_ring_size ≤ maximum_ring_size ≤ 8,388,608`.
    ///
    /// Envoy accepts a minimum of 0 and then builds an empty ring that routes nothing; here it
    /// is an error, since it can only be a mistake.
    pub fn new(minimum_ring_size: u64, maximum_ring_size: u64) -> Result<Self, InvalidRingSize> {
        if minimum_ring_size == 0
            || minimum_ring_size > maximum_ring_size
            || maximum_ring_size > MAX_RING_SIZE
        {
            return Err(InvalidRingSize {
                minimum: minimum_ring_size,
                maximum: maximum_ring_size,
            });
        }
        Ok(Self {
            minimum_ring_size,
            maximum_ring_size,
        })
    }

    /// The smallest ring to build (before each host's count is rounded).
    pub fn minimum_ring_size(&self) -> u64 {
        self.minimum_ring_size
    }

    /// The largest ring to build (before each host's count is rounded).
    pub fn maximum_ring_size(&self) -> u64 {
        self.maximum_ring_size
    }
}

impl Default for RingHashConfig {
    /// Envoy's defaults: 1024 to 8,388,608 entries.
    fn default() -> Self {
        Self {
            minimum_ring_size: DEFAULT_MINIMUM_RING_SIZE,
            maximum_ring_size: MAX_RING_SIZE,
        }
    }
}
