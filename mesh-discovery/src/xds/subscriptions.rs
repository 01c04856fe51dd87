//! The resource names ADS clients subscribe to by name, across all streams and types, so the
//! owner of the data can serve names it would not list on its own (the registry serves a
//! service someone asks for even before, or after, it has instances).
//!
//! Policy: a name counts while at least one stream subscribes to it by name (wildcards do not
//! count); a stream's names are released when it ends. Owners follow [`Subscriptions::changes`]
//! and read [`Subscriptions::names`]; intermediate sets may be skipped.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};
use tokio::sync::watch;

/// Every name subscribed to by some stream, with how many subscriptions hold it.
#[derive(Debug)]
pub struct Subscriptions {
    counts: Mutex<BTreeMap<String, usize>>,
    changes: watch::Sender<u64>,
}

impl Default for Subscriptions {
    fn default() -> Self {
        Subscriptions {
            counts: Mutex::default(),
            changes: watch::Sender::new(0),
        }
    }
}

impl Subscriptions {
    /// The names subscribed to now, sorted.
    pub fn names(&self) -> BTreeSet<String> {
        self.lock().keys().cloned().collect()
    }

    /// Ticks whenever the set of names changes.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// One subscription moved from `old` names to `new` ones (`*` is not a name).
    pub(crate) fn replace(&self, old: &BTreeSet<String>, new: &BTreeSet<String>) {
        let mut counts = self.lock();
        let mut changed = false;
        for name in old.difference(new).filter(|n| *n != "*") {
            if let Some(count) = counts.get_mut(name) {
                *count -= 1;
                if *count == 0 {
                    counts.remove(name);
                    changed = true;
                }
            }
        }
        for name in new.difference(old).filter(|n| *n != "*") {
            let count = counts.entry(name.clone()).or_insert(0);
            changed |= *count == 0;
            *count += 1;
        }
        drop(counts);
        if changed {
            self.changes.send_modify(|n| *n += 1);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, usize>> {
        self.counts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn a_name_counts_while_any_subscription_holds_it() {
        let subs = Subscriptions::default();
        let changes = subs.changes();
        subs.replace(&set(&[]), &set(&["a", "b", "*"]));
        subs.replace(&set(&[]), &set(&["b"]));
        assert_eq!(subs.names(), set(&["a", "b"]), "* is not a name");
        assert!(changes.has_changed().unwrap());

        subs.replace(&set(&["a", "b", "*"]), &set(&[]));
        assert_eq!(subs.names(), set(&["b"]), "another subscription still holds b");
        subs.replace(&set(&["b"]), &set(&[]));
        assert!(subs.names().is_empty());
    }
}
