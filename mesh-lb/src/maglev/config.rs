//! The validated table size of a [`Maglev`](super::Maglev) balancer.

/// Envoy's default `table_size`: a prime, 65,537 slots (256 KiB here).
pub const DEFAULT_TABLE_SIZE: u64 = 65_537;

/// The largest `table_size` Envoy accepts (a prime; about 19 MiB of table here).
pub const MAX_TABLE_SIZE: u64 = 5_000_011;

/// A Maglev `table_size` that is not a prime no larger than 5,000,011.
///
/// Prime, because each host walks the table with a step that must be coprime with its size to
/// reach every slot; bounded, as in Envoy, because the table is built on every host change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("maglev table_size must be a prime no larger than {MAX_TABLE_SIZE}, got {table_size}")]
pub struct InvalidTableSize {
    /// The size given.
    pub table_size: u64,
}

/// Envoy's `maglev_lb_config`: the lookup table's size.
///
/// More slots spread keys more evenly (Maglev's authors suggest at least 100 per host, for
/// shares within about 1% of even) and cost more memory and build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaglevConfig {
    table_size: u64,
}

impl MaglevConfig {
    /// Validates the table size: a prime no larger than 5,000,011.
    pub fn new(table_size: u64) -> Result<Self, InvalidTableSize> {
        if table_size <= MAX_TABLE_SIZE && is_prime(table_size) {
            Ok(Self { table_size })
        } else {
            Err(InvalidTableSize { table_size })
        }
    }

    /// The number of slots in the table.
    pub fn table_size(&self) -> u64 {
        self.table_size
    }
}

impl Default for MaglevConfig {
    /// Envoy's default: 65,537 slots.
    fn default() -> Self {
        Self {
            table_size: DEFAULT_TABLE_SIZE,
        }
    }
}

/// Trial division: at most √5,000,011 ≈ 2,236 steps, once per configuration.
fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n.is_multiple_of(2) {
        return false;
    }
    (3..)
        .step_by(2)
        .take_while(|d| d * d <= n)
        .all(|d| !n.is_multiple_of(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primes_are_found() {
        let primes: Vec<u64> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(DEFAULT_TABLE_SIZE));
        assert!(is_prime(MAX_TABLE_SIZE));
        assert!(!is_prime(65_535));
        // Two primes near √MAX: the trial division must run up to the square root.
        assert!(!is_prime(2_221 * 2_237));
        assert!(!is_prime(0) && !is_prime(1));
    }
}
