//! The mesh without a proxy: a service balancing its own requests with mesh's crates.
//!
//! ```text
//! cargo run -p mesh-examples --example embedded_client
//! ```
//!
//! It starts three small HTTP backends on `127.0.0.1:0`, describes them as a cluster in the same
//! YAML the proxy reads (an HTTP health check every 100 ms, outlier detection), builds a
//! [`BalancedClient`] over that cluster, waits until every backend has passed its first check,
//! sends a few dozen requests and prints which backend answered each. It exits 0 when done, and
//! gives up (exit 1) if that takes more than 10 seconds.

use http_body_util::{BodyExt, Full};
use hyper::Request;
use mesh_examples::balanced::{BalancedClient, Upstream};
use mesh_examples::serve_http_backend;
use std::collections::BTreeMap;
use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;

const REQUESTS: usize = 36;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(Duration::from_secs(10), run())
        .await
        .map_err(|_| "gave up after 10 s")?
}

async fn run() -> Result<(), Box<dyn Error>> {
    let mut endpoints = String::new();
    for n in 1..=3 {
        let addr = serve_http_backend(format!("backend-{n}"), SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        endpoints.push_str(&format!("      - address: \"{addr}\"\n"));
    }
    let yaml = format!(
        r#"
clusters:
  - name: backends
    connect_timeout: 1s
    endpoints:
{endpoints}    health_checks:
      - interval: 100ms
        timeout: 1s
        healthy_threshold: 1
        unhealthy_threshold: 2
        http_health_check: {{ path: /healthz }}
    outlier_detection: {{ interval: 1s, consecutive_5xx: 5, max_ejection_percent: 50 }}
"#
    );
    let config = mesh_core::load::from_yaml(&yaml, "embedded_client.yaml")?;
    let cluster = config.clusters.first().ok_or("the YAML has a cluster")?;
    let client = BalancedClient::new(cluster, Duration::from_secs(2))?;

    client.wait_for_eligible(cluster.endpoints.len()).await;
    println!("eligible: {:?}", client.eligible());

    let mut answers = BTreeMap::<SocketAddr, usize>::new();
    for i in 1..=REQUESTS {
        let request = Request::get(format!("/hello/{i}")).body(Full::default())?;
        let response = client.send(request).await?;
        let Upstream(upstream) = *response.extensions().get::<Upstream>().ok_or("no Upstream")?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        let body = String::from_utf8_lossy(&body);
        println!("#{i:2} {status} from {upstream}: {}", body.trim_end());
        *answers.entry(upstream).or_default() += 1;
    }
    println!("answers per backend: {answers:?}");
    Ok(())
}
