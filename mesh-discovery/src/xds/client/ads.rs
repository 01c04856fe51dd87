//! The ADS stream: subscriptions, ACK/NACK, reconnects. See the module doc of `client`.

use super::resources::{self, Resources};
use super::{EdsSets, XdsOptions, XdsStats};
use crate::xds::api::envoy::config::core::v3::{Locality, Node};
use crate::xds::api::envoy::service::discovery::v3::aggregated_discovery_service_client::AggregatedDiscoveryServiceClient;
use crate::xds::api::envoy::service::discovery::v3::{DiscoveryRequest, DiscoveryResponse};
use crate::xds::api::google::rpc::Status;
use crate::xds::api::type_url;
use mesh_core::config;
use mesh_core::policy::Bootstrap;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;

/// gRPC's INVALID_ARGUMENT, the code Envoy NACKs with.
const INVALID_ARGUMENT: i32 = 3;

/// What the client last accepted and was last sent, per type URL.
#[derive(Debug, Default, Clone)]
struct Subscription {
    version: String,
    nonce: String,
    names: Vec<String>,
}

pub(super) struct Client {
    options: XdsOptions,
    base: watch::Receiver<Arc<config::Bootstrap>>,
    configs: watch::Sender<Option<Arc<Bootstrap>>>,
    endpoints: EdsSets,
    stats: Arc<XdsStats>,
    resources: Resources,
    subscriptions: HashMap<&'static str, Subscription>,
    rng: SmallRng,
}

/// Why a stream ended; the client reconnects either way.
type StreamEnd = String;

impl Client {
    pub(super) fn new(
        options: XdsOptions,
        base: watch::Receiver<Arc<config::Bootstrap>>,
        configs: watch::Sender<Option<Arc<Bootstrap>>>,
        endpoints: EdsSets,
        stats: Arc<XdsStats>,
    ) -> Self {
        Client {
            options,
            base,
            configs,
            endpoints,
            stats,
            resources: Resources::default(),
            subscriptions: HashMap::new(),
            rng: SmallRng::from_os_rng(),
        }
    }

    pub(super) async fn run(mut self) {
        let mut failures = 0u32;
        loop {
            let opened = self.stats.connects.load(Ordering::Relaxed);
            let end = self.stream().await;
            // A stream that got going resets the backoff; one that never opened grows it.
            failures = if self.stats.connects.load(Ordering::Relaxed) > opened {
                1
            } else {
                failures + 1
            };
            let ceiling = self
                .options
                .backoff_base
                .saturating_mul(1 << failures.min(16))
                .min(self.options.backoff_max);
            let pause = self.rng.random_range(Duration::ZERO..=ceiling);
            tracing::warn!(server = %self.options.server, reason = %end, ?pause, "xDS stream ended; reconnecting");
            tokio::time::sleep(pause).await;
        }
    }

    /// One ADS stream, from connecting to its end.
    async fn stream(&mut self) -> StreamEnd {
        let uri = format!("http://{}", self.options.server);
        let mut client = match AggregatedDiscoveryServiceClient::connect(uri).await {
            Ok(c) => c,
            Err(e) => return format!("cannot connect: {e}"),
        };
        let (tx, rx) = mpsc::channel(16);
        // Ask for everything again, with the versions accepted, so the server can skip what is current.
        for kind in [
            type_url::CLUSTER,
            type_url::LISTENER,
            type_url::CLUSTER_LOAD_ASSIGNMENT,
            type_url::ROUTE_CONFIGURATION,
        ] {
            let wildcard = kind == type_url::CLUSTER || kind == type_url::LISTENER;
            let sub = self.subscriptions.entry(kind).or_default();
            sub.nonce.clear();
            if wildcard || !sub.names.is_empty() {
                let request = self.request(kind, None);
                if tx.send(request).await.is_err() {
                    return "request queue closed".into();
                }
            }
        }
        let mut responses = match client.stream_aggregated_resources(ReceiverStream::new(rx)).await {
            Ok(r) => r.into_inner(),
            Err(status) => return format!("stream refused: {status}"),
        };
        self.stats.connects.fetch_add(1, Ordering::Relaxed);
        tracing::info!(server = %self.options.server, "xDS stream open");
        loop {
            tokio::select! {
                message = responses.message() => match message {
                    Ok(Some(response)) => {
                        for request in self.handle(response) {
                            if tx.send(request).await.is_err() {
                                return "request queue closed".into();
                            }
                        }
                    }
                    Ok(None) => return "the server closed the stream".into(),
                    Err(status) => return format!("stream failed: {status}"),
                },
                changed = self.base.changed() => {
                    if changed.is_err() {
                        return "the proxy stopped".into();
                    }
                    self.republish();
                }
            }
        }
    }

    /// Takes one response: the ACK or NACK to send, then any new EDS/RDS subscription.
    fn handle(&mut self, response: DiscoveryResponse) -> Vec<DiscoveryRequest> {
        let Some(kind) = known(&response.type_url) else {
            tracing::debug!(type_url = %response.type_url, "ignoring a response of a type not asked for");
            return Vec::new();
        };
        let outcome = match kind {
            type_url::CLUSTER_LOAD_ASSIGNMENT => self.take_assignments(&response),
            _ => self.take_resources(kind, &response),
        };
        let sub = self.subscriptions.entry(kind).or_default();
        sub.nonce.clone_from(&response.nonce);
        if outcome.is_ok() {
            sub.version.clone_from(&response.version_info);
        }
        let mut requests = Vec::new();
        match outcome {
            Ok(()) => {
                self.stats.accepted.fetch_add(1, Ordering::Relaxed);
                requests.push(self.request(kind, None));
            }
            Err(refusal) => {
                self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(type_url = kind, version = %response.version_info, %refusal, "xDS update rejected (NACK)");
                requests.push(self.request(kind, Some(refusal)));
            }
        }
        // New names to follow: EDS for the clusters, RDS for the listeners.
        let config = self.configs.borrow().clone();
        let eds = config.as_deref().map(Resources::eds_names).unwrap_or_default();
        for (kind, names) in [
            (type_url::CLUSTER_LOAD_ASSIGNMENT, eds),
            (type_url::ROUTE_CONFIGURATION, self.resources.rds_names()),
        ] {
            let sub = self.subscriptions.entry(kind).or_default();
            if sub.names != names {
                sub.names = names;
                requests.push(self.request(kind, None));
            }
        }
        requests
    }

    fn take_resources(&mut self, kind: &str, response: &DiscoveryResponse) -> Result<(), String> {
        let base = self.base.borrow().clone();
        let config = self.resources.apply(&base, kind, &response.resources)?;
        self.publish(config);
        Ok(())
    }

    fn take_assignments(&mut self, response: &DiscoveryResponse) -> Result<(), String> {
        for (name, set) in resources::assignments(&response.resources, &response.version_info)? {
            self.endpoints.publish(&name, set);
        }
        Ok(())
    }

    /// The static part changed (a reloaded file): merge again and publish, or keep the last.
    fn republish(&mut self) {
        let base = self.base.borrow_and_update().clone();
        match self.resources.validate(&base) {
            Ok(config) => self.publish(config),
            Err(e) => {
                tracing::warn!(error = %e, "the reloaded file does not fit the dynamic resources; keeping the last configuration")
            }
        }
    }

    fn publish(&self, config: Arc<Bootstrap>) {
        self.configs.send_replace(Some(config));
    }

    fn request(&self, kind: &'static str, refusal: Option<String>) -> DiscoveryRequest {
        let sub = self.subscriptions.get(kind).cloned().unwrap_or_default();
        DiscoveryRequest {
            version_info: sub.version,
            node: Some(self.node()),
            resource_names: sub.names,
            type_url: kind.to_owned(),
            response_nonce: sub.nonce,
            error_detail: refusal.map(|message| Status {
                code: INVALID_ARGUMENT,
                message,
                ..Status::default()
            }),
        }
    }

    fn node(&self) -> Node {
        Node {
            id: self.options.node_id.clone(),
            cluster: self.options.node_cluster.clone(),
            locality: self.options.zone.clone().map(|zone| Locality {
                zone,
                ..Locality::default()
            }),
            user_agent_name: "mesh".to_owned(),
            ..Node::default()
        }
    }
}

fn known(type_url: &str) -> Option<&'static str> {
    [
        type_url::CLUSTER,
        type_url::LISTENER,
        type_url::CLUSTER_LOAD_ASSIGNMENT,
        type_url::ROUTE_CONFIGURATION,
    ]
    .into_iter()
    .find(|k| *k == type_url)
}
