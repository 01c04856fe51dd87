//! 1 GiB bodies through the proxy, up and down, while the process's memory stays flat.
//!
//! Client, proxy and backend all run in this process and none of them may buffer a body (the
//! client sends zeros from one static chunk, the backend counts what it receives, the client counts
//! what it downloads), so the peak RSS growth bounds the proxy's buffering: a proxy that collected
//! the body would grow by 1 GiB. Expect a few MiB; the bound leaves room for allocator noise and
//! whatever one other test running beside this one allocates.

use super::rss::PeakRss;
use http::header::CONTENT_LENGTH;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use mesh_tests::backend::Http;
use mesh_tests::client::{self, Connection, body};
use mesh_tests::{proxy, within};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const GIB: u64 = 1 << 30;
const MAX_GROWTH: u64 = 200 << 20;
const T: Duration = Duration::from_secs(300);
/// What `/bytes/{n}` sends: `x` repeated.
static XS: [u8; 64 * 1024] = [b'x'; 64 * 1024];

/// The two transfers run one at a time: they would compete for the two cores and each would count
/// the other's memory.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Listener `web` to cluster `big` with the route timeout off (a transfer may take long).
async fn start_proxy(backend: SocketAddr) -> (mesh_proxy::Running, SocketAddr) {
    proxy::Config::new("big", &[backend])
        .route_timeout("0s")
        .start()
        .await
}

/// A proxied HTTP/1.1 connection that has already carried one request, so the connections on both
/// hops and their buffers exist before memory is measured.
async fn warm_connection(addr: SocketAddr) -> Connection {
    let mut conn = Connection::http1(addr).await.unwrap();
    let reply = conn.get("big.example", "/warm-up").await.unwrap();
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    conn
}

fn report(what: &str, took: Duration, rss: &PeakRss, growth: u64) {
    let mib_s = GIB as f64 / (1 << 20) as f64 / took.as_secs_f64();
    eprintln!(
        "{what}: 1 GiB in {took:.2?} ({mib_s:.0} MiB/s); RSS {} MiB at start, peak growth {:.1} MiB ({})",
        rss.baseline() >> 20,
        growth as f64 / (1 << 20) as f64,
        rss.method()
    );
}

/// How an upload frames its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upload {
    /// HTTP/1.1 with `Content-Length`.
    ContentLength,
    /// HTTP/1.1 without a length: hyper sends it chunked.
    Chunked,
    /// h2c DATA frames, under the listener's flow-control windows.
    H2c,
}

/// PUTs 1 GiB of zeros on `conn`, checks the backend counted all of it and memory stayed flat.
async fn upload(conn: &mut Connection, how: Upload) {
    let rss = PeakRss::start();
    let started = Instant::now();
    let mut req = client::request(Method::PUT, "big.example", "/upload", body::zeros(GIB));
    if how == Upload::ContentLength {
        req.headers_mut().insert(CONTENT_LENGTH, GIB.into());
    }
    let reply = conn.send(req).await.unwrap();
    let took = started.elapsed();
    let growth = rss.growth();
    report(&format!("upload ({how:?})"), took, &rss, growth);

    assert_eq!(reply.status, StatusCode::OK, "{how:?}: {}", reply.text());
    let received = reply.received();
    assert_eq!(received.body_len, GIB, "{how:?}: the backend got every byte");
    let framing = match how {
        Upload::ContentLength => received.header("content-length"),
        Upload::Chunked | Upload::H2c => received.header("transfer-encoding"),
    };
    let want = if how == Upload::ContentLength {
        "1073741824"
    } else {
        "chunked"
    };
    assert_eq!(framing, Some(want), "{how:?}: framing upstream");
    assert!(
        growth < MAX_GROWTH,
        "{how:?}: peak RSS grew by {} MiB during a 1 GiB upload: the body was buffered",
        growth >> 20
    );
}

/// Three framings, three code paths in the proxy, each on a warm connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_of_1_gib_streams_with_bounded_memory() {
    within(T, async {
        let _one = ONE_AT_A_TIME.lock().await;
        let b1 = Http::start("b1").await;
        let (_proxy, addr) = start_proxy(b1.addr()).await;
        let mut h1 = warm_connection(addr).await;
        upload(&mut h1, Upload::ContentLength).await;
        upload(&mut h1, Upload::Chunked).await;
        let mut h2 = Connection::h2c(addr).await.unwrap();
        upload(&mut h2, Upload::H2c).await;
        assert_eq!(b1.requests(), 4);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn download_of_1_gib_streams_with_bounded_memory() {
    within(T, async {
        let _one = ONE_AT_A_TIME.lock().await;
        let b1 = Http::start("b1").await;
        let (_proxy, addr) = start_proxy(b1.addr()).await;
        let mut conn = warm_connection(addr).await;

        let rss = PeakRss::start();
        let started = Instant::now();
        let req = client::request(
            Method::GET,
            "big.example",
            &format!("/bytes/{GIB}"),
            body::empty(),
        );
        let response = conn.send_streaming(req).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers().get(CONTENT_LENGTH).unwrap(),
            "1073741824",
            "the length is forwarded, not re-chunked"
        );
        // Count chunk by chunk, never keeping one.
        let mut body = response.into_body();
        let mut len = 0u64;
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame.unwrap().into_data() {
                // Slice equality is a memcmp, fast even in this unoptimised test crate.
                for piece in data.chunks(XS.len()) {
                    assert!(piece == &XS[..piece.len()], "corrupt chunk at offset {len}");
                }
                len += data.len() as u64;
            }
        }
        let took = started.elapsed();
        let growth = rss.growth();
        report("download", took, &rss, growth);

        assert_eq!(len, GIB, "the client got every byte");
        assert!(
            growth < MAX_GROWTH,
            "peak RSS grew by {} MiB during a 1 GiB download: the body was buffered",
            growth >> 20
        );
    })
    .await;
}
