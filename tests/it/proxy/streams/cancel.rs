//! A client that goes away mid-stream must not leave its upstream stream running: the proxy resets
//! the upstream HTTP/2 stream (or closes the HTTP/1.1 connection), as Envoy does. Without that,
//! every cancelled gRPC stream or abandoned download would pin an upstream stream until it ends.

use bytes::Bytes;
use futures_util::StreamExt;
use http::{Method, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use mesh_tests::client::{self, Connection, body};
use mesh_tests::{AbortOnDrop, BoxError, proxy, within};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

const T: Duration = Duration::from_secs(30);

/// Sends an event when dropped: hyper drops a response body when its stream or connection is gone.
struct DropSignal(mpsc::UnboundedSender<&'static str>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        let _ = self.0.send("response body dropped");
    }
}

/// A backend (h1 + h2c) whose responses send `hello` and then a tick forever; it reports when a
/// response body is dropped, which happens only when the proxy cancels the stream.
struct Endless {
    addr: SocketAddr,
    events: mpsc::UnboundedReceiver<&'static str>,
    _task: AbortOnDrop,
}

impl Endless {
    async fn start() -> Endless {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let tx = tx.clone();
                let svc = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    // Read the request body, as a real backend would.
                    tokio::spawn(async move {
                        let mut body = req.into_body();
                        while let Some(Ok(_)) = body.frame().await {}
                    });
                    let signal = DropSignal(tx.clone());
                    let hello = futures_util::stream::once(async {
                        Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"hello")))
                    });
                    // A tick every 50 ms: an HTTP/1.1 server only learns that its client is gone
                    // when a write fails, as it stops reading once the request body has ended.
                    let ticks = futures_util::stream::unfold((), |()| async {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Some((Ok::<_, BoxError>(Frame::data(Bytes::from_static(b"."))), ()))
                    });
                    let frames = hello.chain(ticks).map(move |frame| {
                        let _keep = &signal;
                        frame
                    });
                    let response = Response::new(BodyExt::boxed(StreamBody::new(frames)));
                    async move { Ok::<_, Infallible>(response) }
                });
                conns.spawn(async move {
                    let builder = auto::Builder::new(TokioExecutor::new());
                    let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Endless {
            addr,
            events,
            _task: AbortOnDrop(task),
        }
    }
}

/// Opens a stream through the proxy, reads `hello`, then vanishes. With `upload_open` the request
/// body is still streaming (a bidi call), else the request is complete (an abandoned download).
async fn open_and_vanish(mut conn: Connection, upload_open: bool) {
    let (tx, req_body) = body::channel(1);
    tx.send(Frame::data(Bytes::from_static(b"ping"))).await.unwrap();
    let tx = if upload_open {
        Some(tx)
    } else {
        drop(tx);
        None
    };
    let req = client::request(Method::POST, "endless.example", "/stream", req_body);
    let response = conn.send_streaming(req).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut response_body = response.into_body();
    let first = response_body.frame().await.unwrap().unwrap();
    assert_eq!(first.into_data().unwrap(), "hello");
    // Dropping the connection closes the socket: a crashed client, a cancelled call.
    drop((conn, response_body, tx));
}

#[tokio::test]
async fn client_disconnect_cancels_the_upstream_stream() {
    within(T, async {
        let mut failures = Vec::new();
        let cases = ["http2", "http1"]
            .into_iter()
            .flat_map(|protocol| [(protocol, true), (protocol, false)])
            .flat_map(|(protocol, h2)| [(protocol, h2, true), (protocol, h2, false)]);
        for (protocol, downstream_h2, upload_open) in cases {
            let mut backend = Endless::start().await;
            let (_proxy, addr) = proxy::Config::new("endless", &[backend.addr])
                .protocol(protocol)
                .route_timeout("0s")
                .start()
                .await;
            let conn = if downstream_h2 {
                Connection::h2c(addr).await.unwrap()
            } else {
                Connection::http1(addr).await.unwrap()
            };
            open_and_vanish(conn, upload_open).await;
            let event = tokio::time::timeout(Duration::from_secs(5), backend.events.recv()).await;
            let client = if downstream_h2 { "h2c" } else { "http1" };
            let case = format!("{client} client, {protocol} cluster, upload open: {upload_open}");
            if event.ok().flatten() != Some("response body dropped") {
                failures.push(case);
            }
        }
        assert!(
            failures.is_empty(),
            "the upstream stream outlived its client: {failures:?}"
        );
    })
    .await;
}
