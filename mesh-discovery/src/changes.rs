//! A watched endpoint set as a `tower::discover::Discover` stream, for tower balancers.
//!
//! Policy: the first poll yields `Insert` for every endpoint of the current set; after that,
//! each new set is compared with the previous one by address, and yields `Insert` for every
//! added endpoint and for every endpoint whose weight, priority, zone or metadata changed (a
//! re-insert replaces the balancer's service under the same key), then `Remove` for every
//! address that is gone. Inserts come first so that replacing a cluster's whole membership
//! never shows the balancer an empty set in between. Sets published faster than the stream is
//! polled are coalesced by the watch: only the latest is diffed.
//!
//! Failure: none of its own (the error type is `Infallible`); sources keep their last good
//! set rather than publishing errors. The stream ends when the sender is dropped, after the
//! changes already due; a balancer keeps serving the last set (see mesh-lb).
//!
//! Placement: between a source's watch (`FileSource`, `fixed`) and a balancer. Nothing here
//! blocks or locks beyond the watch's own read of the latest set.

#[cfg(test)]
mod tests;

use futures_util::Stream;
use mesh_core::policy::{Endpoint, EndpointSet};
use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::watch;
use tower::discover::Change;

type Sets = watch::Receiver<Arc<EndpointSet>>;
/// Waits for the next set, handing the receiver back; `None` once the sender is gone. Boxed
/// because `Receiver::changed` borrows the receiver, which the stream must own; one allocation
/// per change is nothing on the control plane.
type NextSet = Pin<Box<dyn Future<Output = Option<Sets>> + Send + Sync>>;

/// The changes between successive endpoint sets of a watch, with a service made per endpoint
/// by `make`. Implements `Discover` (through `TryStream`) with `SocketAddr` keys.
pub struct EndpointChanges<F> {
    make: F,
    /// The set the changes yielded so far lead to; `Insert`s due name indices into it.
    current: Arc<EndpointSet>,
    due: VecDeque<Due>,
    next: Option<NextSet>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    Insert(usize),
    Remove(SocketAddr),
}

impl<F> EndpointChanges<F> {
    /// Follows `sets` from its current value, which the first poll yields in full.
    pub fn new(mut sets: Sets, make: F) -> Self {
        let first = Arc::clone(&sets.borrow_and_update());
        let mut changes = EndpointChanges {
            make,
            current: Arc::new(EndpointSet::default()),
            due: VecDeque::new(),
            next: Some(next_set(sets)),
        };
        changes.diff(first);
        changes
    }

    /// Queues the changes from `current` to `next`, and makes `next` current.
    fn diff(&mut self, next: Arc<EndpointSet>) {
        if Arc::ptr_eq(&self.current, &next) {
            return;
        }
        let before: HashMap<SocketAddr, &Endpoint> =
            self.current.endpoints.iter().map(|e| (e.address, e)).collect();
        let after: HashSet<SocketAddr> = next.endpoints.iter().map(|e| e.address).collect();
        let inserts = next.endpoints.iter().enumerate();
        let inserts = inserts.filter(|(_, e)| before.get(&e.address) != Some(e));
        self.due.extend(inserts.map(|(i, _)| Due::Insert(i)));
        let removes = self.current.endpoints.iter().map(|e| e.address);
        self.due
            .extend(removes.filter(|a| !after.contains(a)).map(Due::Remove));
        self.current = next;
    }
}

fn next_set(mut sets: Sets) -> NextSet {
    Box::pin(async move { sets.changed().await.ok().map(|()| sets) })
}

impl<F, S> Stream for EndpointChanges<F>
where
    F: FnMut(&Endpoint) -> S + Unpin,
{
    type Item = Result<Change<SocketAddr, S>, Infallible>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            while let Some(due) = this.due.pop_front() {
                match due {
                    Due::Remove(addr) => return Poll::Ready(Some(Ok(Change::Remove(addr)))),
                    Due::Insert(i) => {
                        if let Some(e) = this.current.endpoints.get(i) {
                            return Poll::Ready(Some(Ok(Change::Insert(e.address, (this.make)(e)))));
                        }
                    }
                }
            }
            let Some(next) = this.next.as_mut() else {
                return Poll::Ready(None);
            };
            match next.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => this.next = None,
                Poll::Ready(Some(mut sets)) => {
                    let set = Arc::clone(&sets.borrow_and_update());
                    this.next = Some(next_set(sets));
                    this.diff(set);
                }
            }
        }
    }
}

impl<F> fmt::Debug for EndpointChanges<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointChanges")
            .field("current", &self.current)
            .field("due", &self.due)
            .field("ended", &self.next.is_none())
            .finish_non_exhaustive()
    }
}
