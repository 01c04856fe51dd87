//! `backend::Http` answered directly through every client kind.

use http::{HeaderMap, HeaderValue, Method, StatusCode, Version};
use mesh_tests::backend::{Http, HttpMode};
use mesh_tests::client::{self, Connection, body, raw};
use mesh_tests::{eventually, tls, within};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(20);

#[tokio::test]
async fn http1_request_is_described() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let reply = client::get(b1.addr(), "example.com", "/hello?x=1").await.unwrap();
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.header("x-backend"), Some("b1"));
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let r = reply.received();
        assert_eq!(r.backend, "b1");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/hello?x=1");
        assert_eq!(r.version, "HTTP/1.1");
        assert_eq!(r.header("host"), Some("example.com"));
        assert_eq!(r.body_len, 0);
        assert!(!r.trailers_received);
        assert!(!r.tls);
        assert_eq!(b1.requests(), 1);
    })
    .await;
}

#[tokio::test]
async fn h2c_request_is_described_and_connection_is_reused() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let mut conn = Connection::h2c(b1.addr()).await.unwrap();
        assert_eq!(conn.version(), Version::HTTP_2);
        for i in 0..3 {
            let r = conn
                .get("example.com", &format!("/n/{i}"))
                .await
                .unwrap()
                .received();
            assert_eq!(r.version, "HTTP/2.0");
            assert_eq!(r.authority.as_deref(), Some("example.com"));
            assert_eq!(r.path, format!("/n/{i}"));
        }
        assert_eq!(b1.request_counter().load(std::sync::atomic::Ordering::SeqCst), 3);
    })
    .await;
}

#[tokio::test]
async fn tls_alpn_selects_h2_or_http11() {
    within(T, async {
        let b1 = Http::builder("b1").tls(true).start().await;
        let mut h2 = Connection::tls(b1.addr(), "localhost", &[tls::H2, tls::HTTP11])
            .await
            .unwrap();
        assert_eq!(h2.version(), Version::HTTP_2);
        let r = h2.get("localhost", "/").await.unwrap().received();
        assert_eq!((r.version.as_str(), r.tls), ("HTTP/2.0", true));

        let r = client::tls_get(b1.addr(), &[tls::HTTP11], "localhost", "/")
            .await
            .unwrap();
        assert_eq!(r.received().version, "HTTP/1.1");

        // The test CA signs 127.0.0.1 too, but not other names.
        Connection::tls(b1.addr(), "127.0.0.1", &[tls::H2]).await.unwrap();
        let wrong = Connection::tls(b1.addr(), "example.com", &[tls::H2]).await;
        assert!(wrong.is_err(), "certificate must not be valid for example.com");
    })
    .await;
}

#[tokio::test]
async fn single_protocol_modes() {
    within(T, async {
        let h1 = Http::builder("h1").http1_only().start().await;
        assert_eq!(
            client::get(h1.addr(), "a", "/").await.unwrap().received().version,
            "HTTP/1.1"
        );
        assert!(client::h2c_get(h1.addr(), "a", "/").await.is_err());

        let h2 = Http::builder("h2").mode(HttpMode::Http2Only).start().await;
        assert_eq!(
            client::h2c_get(h2.addr(), "a", "/")
                .await
                .unwrap()
                .received()
                .version,
            "HTTP/2.0"
        );
        assert!(client::get(h2.addr(), "a", "/").await.is_err());

        // Under TLS the mode limits ALPN: an h1-only backend never picks h2.
        let t1 = Http::builder("t1").http1_only().tls(true).start().await;
        let conn = Connection::tls(t1.addr(), "localhost", &[tls::H2, tls::HTTP11])
            .await
            .unwrap();
        assert_eq!(conn.version(), Version::HTTP_11);
    })
    .await;
}

#[tokio::test]
async fn body_length_and_trailers_are_reported() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let mut trailers = HeaderMap::new();
        trailers.insert("x-checksum", HeaderValue::from_static("abc"));
        let mut conn = Connection::h2c(b1.addr()).await.unwrap();
        let req = client::request(
            Method::POST,
            "a",
            "/up",
            body::with_trailers(vec![7u8; 1000], trailers),
        );
        let r = conn.send(req).await.unwrap().received();
        assert_eq!((r.method.as_str(), r.body_len), ("POST", 1000));
        assert!(r.trailers_received);
        assert_eq!(r.trailers.get("x-checksum"), Some(&vec!["abc".to_owned()]));

        let big = 5 * 1024 * 1024 + 3;
        let req = client::request(Method::PUT, "a", "/big", body::zeros(big));
        let r = client::Connection::http1(b1.addr())
            .await
            .unwrap()
            .send(req)
            .await
            .unwrap();
        assert_eq!(r.received().body_len, big);
    })
    .await;
}

#[tokio::test]
async fn status_delay_echo_and_bytes_paths() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let mut conn = Connection::http1(b1.addr()).await.unwrap();
        let r = conn.get("a", "/status/503").await.unwrap();
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.received().path, "/status/503");
        let r = conn.get("a", "/status/204").await.unwrap();
        assert_eq!((r.status, r.body.len()), (StatusCode::NO_CONTENT, 0));
        assert_eq!(
            conn.get("a", "/status/abc").await.unwrap().status,
            StatusCode::BAD_REQUEST
        );

        let start = Instant::now();
        assert_eq!(conn.get("a", "/delay/200").await.unwrap().status, StatusCode::OK);
        assert!(start.elapsed() >= Duration::from_millis(200));

        let payload: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let req = client::request(Method::POST, "a", "/echo", body::full(payload.clone()));
        let r = conn.send(req).await.unwrap();
        assert_eq!(r.header("x-backend"), Some("b1"));
        assert!(r.body == payload, "echo changed the body");

        let mut trailers = HeaderMap::new();
        trailers.insert("x-t", HeaderValue::from_static("1"));
        let mut h2 = Connection::h2c(b1.addr()).await.unwrap();
        let req = client::request(Method::POST, "a", "/echo", body::with_trailers("hi", trailers));
        let r = h2.send(req).await.unwrap();
        assert_eq!(&r.body[..], b"hi");
        assert_eq!(r.trailers.unwrap().get("x-t").unwrap(), "1");

        let n = 1_000_003;
        let r = conn.get("a", &format!("/bytes/{n}")).await.unwrap();
        assert_eq!(r.header("content-length"), Some("1000003"));
        assert_eq!(r.body.len(), n);
        assert!(r.body.iter().all(|&b| b == b'x'));
        assert_eq!(b1.requests(), 7);
    })
    .await;
}

#[tokio::test]
async fn reset_path_resets_the_connection() {
    within(T, async {
        let b1 = Http::start("b1").await;
        assert!(client::get(b1.addr(), "a", "/reset").await.is_err());
        assert!(client::h2c_get(b1.addr(), "a", "/reset").await.is_err());

        let mut conn = raw::RawConn::connect(b1.addr()).await.unwrap();
        conn.send(b"GET /reset HTTP/1.1\r\nHost: a\r\n\r\n")
            .await
            .unwrap();
        let out = conn.read_for(Duration::from_secs(5)).await;
        assert!(out.data.is_empty(), "nothing may be answered: {}", out.text());
        assert!(out.closed && out.reset, "want a TCP reset, got {out:?}");
        assert_eq!(b1.requests(), 3);
    })
    .await;
}

#[tokio::test]
async fn raw_client_sees_answers_and_closes() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let req = b"GET /raw HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
        let out = raw::exchange(b1.addr(), req, Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(out.status(), Some(200));
        assert!(out.closed && !out.reset, "{out:?}");
        assert!(out.text().contains("\"path\":\"/raw\""));

        let out = raw::exchange(b1.addr(), b"NOT HTTP AT ALL\r\n\r\n", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(out.status(), Some(400), "{out:?}");
        assert!(out.closed);

        // Keep-alive: the head arrives, the connection stays open.
        let mut conn = raw::RawConn::connect(b1.addr()).await.unwrap();
        conn.send(b"GET /a HTTP/1.1\r\nHost: a\r\n\r\n").await.unwrap();
        let out = conn.read_until(b"\r\n\r\n", Duration::from_secs(5)).await;
        assert_eq!(out.status(), Some(200));
        assert!(!conn.read_for(Duration::from_millis(200)).await.closed);
    })
    .await;
}

#[tokio::test]
async fn dropping_the_backend_stops_it() {
    within(T, async {
        let b1 = Http::start("b1").await;
        let addr = b1.addr();
        let mut conn = Connection::http1(addr).await.unwrap();
        conn.get("a", "/").await.unwrap();
        drop(b1);
        // Abort is asynchronous: poll (bounded) until the listener is gone.
        eventually(
            Duration::from_secs(2),
            "the listener stops accepting after drop",
            || async { tokio::net::TcpStream::connect(addr).await.is_err() },
        )
        .await;
        assert!(conn.get("a", "/").await.is_err(), "open connections close too");
    })
    .await;
}
