//! The registry's HTTP/JSON server (HTTP/1.1, hyper 1): routes, long polls and the TTL sweep.
//!
//! See the [registry module doc](super) for the API. Every request is answered from the store;
//! the server holds no state of its own beyond its configuration, so a store shared by several
//! servers (Redis) gives several equivalent replicas.
//!
//! Failure: bad input is a 400 naming the field, an unknown route a 404, a wrong method a 405,
//! a body over 64 KiB a 413, a store that cannot answer a 503; all with `{"error": "..."}`.
//! Nothing a client sends can panic the server. Dropping the [`RegistryHandle`] stops the accept
//! loop, every open connection (long polls included) and the sweep.

use super::config::{DEFAULT_WAIT, InvalidRegistryConfig, MAX_WAIT, RegistryConfig};
use super::model::ServiceName;
use super::server::RegistryHandle;
use super::store::{MemoryStore, Snapshot, Store, StoreError};
use super::wire::{self, BadRequest};
use crate::xds::{AdsServer, SnapshotCache};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::time::{Instant, MissedTickBehavior};
use tracing::{debug, warn};

/// Request bodies are a few hundred bytes; anything this large is a mistake or an attack.
const MAX_BODY: usize = 64 << 10;

/// The discovery service over a [`Store`] (the embedded [`MemoryStore`] by default).
#[derive(Debug)]
pub struct Registry<S = MemoryStore> {
    store: Arc<S>,
    heartbeat_interval: Duration,
    ttl: Duration,
    sweep_interval: Duration,
    /// Where to serve the registry over ADS too, if anywhere.
    xds: Option<TcpListener>,
}

impl Registry<MemoryStore> {
    /// A registry with its own in-process store. Errors: a zero interval, or a TTL shorter than
    /// the heartbeat interval (every host would flap out between beats).
    pub fn new(config: RegistryConfig) -> Result<Self, InvalidRegistryConfig> {
        Registry::with_store(config, MemoryStore::new())
    }
}

impl<S: Store> Registry<S> {
    /// A registry over `store` (a [`RedisStore`](super::RedisStore) shared by several replicas);
    /// the same errors as [`Registry::new`].
    pub fn with_store(config: RegistryConfig, store: S) -> Result<Self, InvalidRegistryConfig> {
        let invalid = |field, message: &str| InvalidRegistryConfig {
            field,
            message: message.to_owned(),
        };
        let heartbeat_interval = config.heartbeat_interval;
        if heartbeat_interval.is_zero() {
            return Err(invalid("heartbeat_interval", "must be greater than 0s"));
        }
        let ttl = config.ttl.unwrap_or(heartbeat_interval.saturating_mul(3));
        if ttl < heartbeat_interval {
            return Err(invalid("ttl", "must be at least the heartbeat interval"));
        }
        let sweep_interval = config.sweep_interval.unwrap_or(ttl / 3);
        if sweep_interval.is_zero() {
            return Err(invalid("sweep_interval", "must be greater than 0s"));
        }
        Ok(Registry {
            store: Arc::new(store),
            heartbeat_interval,
            ttl,
            sweep_interval,
            xds: None,
        })
    }

    /// The store, shared with the server once it runs (for tests, admin and embedding).
    pub fn store(&self) -> Arc<S> {
        Arc::clone(&self.store)
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Also serves the registry's services over xDS (ADS: CDS, EDS and LDS, see
    /// [`crate::xds`]) on `listener`, once [`serve`](Self::serve) runs. Off unless called.
    pub fn with_xds(mut self, listener: TcpListener) -> Self {
        self.xds = Some(listener);
        self
    }

    /// Serves the API on `listener` and runs the sweep (and xDS, if set), from tasks on the
    /// current runtime. Errors: no tokio runtime, or a listener has no local address.
    pub fn serve(mut self, listener: TcpListener) -> std::io::Result<RegistryHandle> {
        let runtime = tokio::runtime::Handle::try_current().map_err(std::io::Error::other)?;
        let local_addr = listener.local_addr()?;
        let xds = match self.xds.take() {
            Some(xds_listener) => {
                let cache = Arc::new(SnapshotCache::new());
                let server = AdsServer::new(&cache);
                let subscriptions = server.subscriptions();
                let ads = server.serve(xds_listener)?;
                let publisher = runtime.spawn(super::xds::publish(self.store(), cache, subscriptions));
                Some((ads, publisher))
            }
            None => None,
        };
        let registry = Arc::new(self);
        let sweep = runtime.spawn(Arc::clone(&registry).sweep());
        let server = runtime.spawn(super::server::accept(registry, listener));
        let (ads, publisher) = xds.unzip();
        Ok(RegistryHandle {
            local_addr,
            tasks: [server, sweep].into_iter().chain(publisher).collect(),
            xds: ads,
        })
    }

    async fn sweep(self: Arc<Self>) {
        let every = self.sweep_interval;
        let mut ticks = tokio::time::interval_at(Instant::now() + every, every);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            match self.store.sweep().await {
                Ok(0) => {}
                Ok(n) => debug!(expired = n, "removed instances whose TTL ran out"),
                Err(e) => warn!("sweep failed: {e}"),
            }
        }
    }

    pub(super) async fn handle(&self, request: Request<Incoming>) -> Response<Full<Bytes>> {
        match self.route(request).await {
            Ok(response) => response,
            Err(Refusal::Bad(e)) => reply(
                StatusCode::BAD_REQUEST,
                &json!({ "error": e.to_string(), "field": e.field }),
            ),
            Err(Refusal::Status(status, message)) => reply(status, &json!({ "error": message })),
            Err(Refusal::Store(e)) => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                &json!({ "error": e.to_string() }),
            ),
        }
    }

    async fn route(&self, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Refusal> {
        let path = request.uri().path().to_owned();
        let query = request.uri().query().map(str::to_owned);
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let method = request.method().clone();
        match (segments.as_slice(), method) {
            (["v1", "services"], Method::GET) => {
                let q = wire::read_query(query.as_deref(), DEFAULT_WAIT, MAX_WAIT)?;
                if q.services.is_empty() {
                    return Err(
                        wire::bad("service", "name at least one service: ?service=a&service=b").into(),
                    );
                }
                let snap = self.read(&q.services, q.wait).await?;
                Ok(reply(StatusCode::OK, &snap))
            }
            (["v1", "services", service], Method::GET) => {
                let service = wire::service(service)?;
                let q = wire::read_query(query.as_deref(), DEFAULT_WAIT, MAX_WAIT)?;
                if !q.services.is_empty() {
                    return Err(wire::bad("service", "is named by the path here").into());
                }
                let mut snap = self.read(std::slice::from_ref(&service), q.wait).await?;
                let instances = snap.services.remove(&service).unwrap_or_default();
                let body = json!({ "version": snap.version, "instances": instances });
                Ok(reply(StatusCode::OK, &body))
            }
            (["v1", "services", service, "instances", address], Method::PUT) => {
                let (service, address) = (wire::service(service)?, wire::address(address)?);
                let body = read_body(request.into_body()).await?;
                let instance = wire::instance_from_body(address, &body)?;
                let done = self.store.register(&service, instance, self.ttl).await?;
                let status = if done.created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                let body = json!({
                    "version": done.version,
                    "ttl": mesh_core::duration::format(self.ttl),
                    "heartbeat_interval": mesh_core::duration::format(self.heartbeat_interval),
                });
                Ok(reply(status, &body))
            }
            (["v1", "services", service, "instances", address], Method::DELETE) => {
                let (service, address) = (wire::service(service)?, wire::address(address)?);
                match self.store.deregister(&service, address).await? {
                    Some(version) => Ok(reply(StatusCode::OK, &json!({ "version": version }))),
                    None => Err(Refusal::Status(
                        StatusCode::NOT_FOUND,
                        format!("{address} is not registered for {service}"),
                    )),
                }
            }
            (["v1", "services"] | ["v1", "services", _] | ["v1", "services", _, "instances", _], _) => Err(
                Refusal::Status(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here".into()),
            ),
            _ => Err(Refusal::Status(
                StatusCode::NOT_FOUND,
                format!("no route for {path}"),
            )),
        }
    }

    /// A snapshot now, or (with `wait`) the first one whose version is not `N`, or the same
    /// version after `wait`. "Not N" rather than "above N": a restarted registry starts again
    /// from 0, and a reader holding a version from before must hear about it at once.
    async fn read(
        &self,
        services: &[ServiceName],
        wait: Option<(u64, Duration)>,
    ) -> Result<Snapshot, StoreError> {
        let mut versions = self.store.versions();
        let Some((known, wait)) = wait else {
            return self.store.snapshot(services).await;
        };
        let deadline = Instant::now() + wait;
        loop {
            // Marked seen before the snapshot, so a change between the two still wakes us.
            versions.borrow_and_update();
            let snap = self.store.snapshot(services).await?;
            if snap.version != known {
                return Ok(snap);
            }
            tokio::select! {
                changed = versions.changed() => if changed.is_err() { return Ok(snap) },
                () = tokio::time::sleep_until(deadline) => return Ok(snap),
            }
        }
    }
}

async fn read_body(body: Incoming) -> Result<Bytes, Refusal> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(Refusal::Status(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("body: larger than {MAX_BODY} bytes"),
        )),
        Err(e) => Err(Refusal::Status(StatusCode::BAD_REQUEST, format!("body: {e}"))),
    }
}

fn reply(status: StatusCode, body: &impl serde::Serialize) -> Response<Full<Bytes>> {
    // Serializing plain maps, strings and numbers cannot fail; an empty body would be the fallback.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// Why a request was not served.
enum Refusal {
    Bad(BadRequest),
    Status(StatusCode, String),
    Store(StoreError),
}

impl From<BadRequest> for Refusal {
    fn from(e: BadRequest) -> Self {
        Refusal::Bad(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Store(e)
    }
}
