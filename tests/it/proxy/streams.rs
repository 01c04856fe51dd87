//! Long-lived and large streams through the proxy: WebSocket upgrades, TCP proxying with half-close,
//! cancellation of upstream streams whose client went away, and 1 GiB bodies in both directions
//! with bounded memory.

mod big_bodies;
mod cancel;
mod rss;
mod tcp;
mod websocket;
