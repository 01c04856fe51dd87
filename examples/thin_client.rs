//! Calling another service through the local proxy with the thin client (`mesh-client`).
//!
//! ```text
//! cargo run -p mesh-examples --example thin_client
//! ```
//!
//! It starts a small `inventory` backend on `127.0.0.1:0` (it answers with the request ID and
//! trace it received, and `/slow` takes 5 s), and an in-process proxy whose egress listener
//! trusts loopback callers (`trusted_cidrs: [127.0.0.0/8]`, as a sidecar's egress trusts its
//! app) and routes `Host: inventory` to the backend. Then, as a handler would while serving a
//! request with ID `demo-42`, it calls `inventory` by name three times: a plain GET (the ID and
//! trace arrive without being passed), a GET on `/slow` with a 300 ms timeout for that call
//! (a typed `Timeout` from the proxy), and a call to a service with no route (`NoRoute`).
//! It exits 0 when done, and gives up (exit 1) after 10 seconds.

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::{Request, Response, body::Incoming};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_client::context::{REQUEST_ID, TRACEPARENT};
use mesh_client::{CallOptions, MeshClient, MeshContext};
use std::convert::Infallible;
use std::error::Error;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;

const PROXY: &str = r#"
admin: { address: 127.0.0.1:0 }
listeners:
  - name: egress
    address: 127.0.0.1:0
    trusted_cidrs: ["127.0.0.0/8"]
    virtual_hosts:
      - { name: inventory, domains: ["inventory"], routes: [ { match: { prefix: "/" }, route: { cluster: inventory } } ] }
clusters:
  - { name: inventory, endpoints: [ { address: "$INVENTORY" } ] }
"#;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tokio::time::timeout(Duration::from_secs(10), run())
        .await
        .map_err(|_| "gave up after 10 s")?
}

async fn run() -> Result<(), Box<dyn Error>> {
    let inventory = serve_inventory().await?;
    let yaml = PROXY.replace("$INVENTORY", &inventory.to_string());
    let proxy = mesh_proxy::start(mesh_core::load::from_yaml(&yaml, "thin_client.yaml")?).await?;
    let egress = proxy
        .listener_addr("egress")
        .ok_or("the proxy has no egress listener")?;
    // In a deployment: `MeshClient::from_env()`, with MESH_EGRESS naming the sidecar's listener.
    let client = MeshClient::builder().egress(egress.to_string()).build()?;

    // What `MeshContextLayer` sets for each request a server handles.
    let ctx = MeshContext::new().with(&REQUEST_ID, "demo-42".parse()?).with(
        &TRACEPARENT,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?,
    );
    ctx.scope(async {
        let reply = client.get("inventory", "/items/7").await?;
        let status = reply.status();
        let body = reply.into_body().collect().await?.to_bytes();
        println!(
            "GET inventory/items/7 -> {status}: {}",
            String::from_utf8_lossy(&body).trim()
        );

        let slow = Request::get("/slow").body(Empty::<Bytes>::new())?;
        let opts = CallOptions::new().timeout(Duration::from_millis(300));
        match client.request_with("inventory", slow, &opts).await {
            Err(e) => println!("GET inventory/slow with a 300 ms timeout -> {:?}: {e}", e.kind()),
            Ok(r) => println!("GET inventory/slow unexpectedly answered {}", r.status()),
        }

        match client.get("billing", "/").await {
            Err(e) => println!("GET billing/ -> {:?}: {e}", e.kind()),
            Ok(r) => println!("GET billing/ unexpectedly answered {}", r.status()),
        }
        Ok::<_, Box<dyn Error>>(())
    })
    .await?;
    proxy.shutdown().await;
    Ok(())
}

/// The `inventory` backend: answers with the request ID and traceparent it received.
async fn serve_inventory() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let service = hyper::service::service_fn(|req: Request<Incoming>| async move {
                if req.uri().path() == "/slow" {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                let header = |name: &str| {
                    req.headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned()
                };
                let body = format!(
                    "inventory got x-request-id {} and traceparent {}",
                    header("x-request-id"),
                    header("traceparent")
                );
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
            });
            tokio::spawn(async move {
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tcp), service)
                    .await;
            });
        }
    });
    Ok(addr)
}
