//! The layer: one line per request, written when the body ends, early drops and failures, sampling.

use super::*;
use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use mesh_core::BoxError;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::sleep;
use tower::ServiceExt;
use tower_test::mock::{self, Handle, Mock};

type TestBody = UnsyncBoxBody<Bytes, Infallible>;
type Inner = Mock<Request<RequestBody<TestBody>>, Response<TestBody>>;
type Svc = AccessLog<Inner>;
type MockHandle = Handle<Request<RequestBody<TestBody>>, Response<TestBody>>;

const FORMAT: &str = "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% \
%RESPONSE_DURATION% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %REQ(:METHOD)% %REQ(:AUTHORITY)% %PROTOCOL% \
%DOWNSTREAM_REMOTE_ADDRESS% %TRAILER(GRPC-STATUS)%";

fn layered(sampling: AccessLogSampling) -> (Svc, MockHandle, Sink, Captured) {
    let (sink, out) = captured();
    let (mock, handle) = mock::pair();
    let layer = AccessLogLayer::new(Format::parse(FORMAT).unwrap(), sink.clone()).sampling(sampling);
    (tower::Layer::layer(&layer, mock), handle, sink, out)
}

fn full(text: &'static str) -> TestBody {
    Full::new(Bytes::from(text)).boxed_unsync()
}

/// A body fed frame by frame from the test.
fn streamed() -> (mpsc::UnboundedSender<http_body::Frame<Bytes>>, TestBody) {
    let (tx, rx) = mpsc::unbounded_channel();
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|frame| (Ok::<_, Infallible>(frame), rx))
    });
    (tx, StreamBody::new(frames).boxed_unsync())
}

fn request(path: &str) -> Request<TestBody> {
    Request::get(path)
        .header("host", "svc.local")
        .body(full(""))
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn one_line_per_request_with_status_flags_bytes_and_duration() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let mut req = Request::post("/upload")
        .header("host", "svc.local")
        .body(full("hello world"))
        .unwrap();
    req.extensions_mut()
        .insert(DownstreamAddress("192.168.0.7:51000".parse().unwrap()));
    let call = tokio::spawn(svc.oneshot(req));

    let (req, send) = handle.next_request().await.unwrap();
    assert_eq!(req.into_body().collect().await.unwrap().to_bytes(), "hello world");
    sleep(Duration::from_millis(30)).await;
    let (frames, body) = streamed();
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::CREATED;
    response.extensions_mut().insert(ResponseFlags("URX".into()));
    response
        .extensions_mut()
        .insert(UpstreamHost("10.1.2.3:8080".parse().unwrap()));
    response
        .extensions_mut()
        .insert(UpstreamCluster("backend".into()));
    send.send_response(response);
    let response = call.await.unwrap().unwrap();

    frames.send(http_body::Frame::data(Bytes::from("abc"))).unwrap();
    let mut body = response.into_body();
    assert!(body.frame().await.is_some());
    sleep(Duration::from_millis(20)).await;
    sink.flush().await;
    assert_eq!(out.text(), "", "no line before the body ends");

    frames.send(http_body::Frame::data(Bytes::from("defg"))).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    frames.send(http_body::Frame::trailers(trailers)).unwrap();
    drop(frames);
    while body.frame().await.is_some() {}
    drop(body);
    sink.flush().await;
    assert_eq!(
        out.lines(),
        ["201 URX 11 7 50 30 10.1.2.3:8080 backend POST svc.local HTTP/1.1 192.168.0.7:51000 0"]
    );
}

#[tokio::test(start_paused = true)]
async fn flags_fall_back_to_the_response_header_and_the_extension_wins() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    for with_extension in [false, true] {
        let call = tokio::spawn(svc.clone().oneshot(request("/")));
        let (_, send) = handle.next_request().await.unwrap();
        let mut response = Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .header("x-mesh-response-flags", "UH")
            .body(full("no healthy upstream"))
            .unwrap();
        if with_extension {
            response.extensions_mut().insert(ResponseFlags("UF,URX".into()));
        }
        send.send_response(response);
        let response = call.await.unwrap().unwrap();
        response.into_body().collect().await.unwrap();
    }
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("503 UH 0 19 "), "{}", lines[0]);
    assert!(lines[1].starts_with("503 UF,URX 0 19 "), "{}", lines[1]);
}

#[tokio::test(start_paused = true)]
async fn a_body_dropped_early_is_logged_as_downstream_disconnect() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let call = tokio::spawn(svc.oneshot(request("/stream")));
    let (_, send) = handle.next_request().await.unwrap();
    let (frames, body) = streamed();
    let mut response = Response::new(body);
    response.extensions_mut().insert(ResponseFlags("UT".into()));
    send.send_response(response);
    let mut body = call.await.unwrap().unwrap().into_body();
    frames.send(http_body::Frame::data(Bytes::from("part"))).unwrap();
    assert!(body.frame().await.is_some());
    sleep(Duration::from_millis(5)).await;
    drop(body); // the client went away mid-body

    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("200 UT,DC 0 4 5 0 "), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn a_request_abandoned_before_its_response_is_logged_with_dc_and_code_0() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let call = tokio::spawn(svc.oneshot(request("/slow")));
    let (_, _send) = handle.next_request().await.unwrap();
    sleep(Duration::from_millis(7)).await;
    call.abort();
    let _ = call.await;
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("0 DC 0 0 7 - "), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn an_empty_body_is_logged_even_if_never_polled() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let call = tokio::spawn(svc.oneshot(request("/")));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::builder().status(204).body(full("")).unwrap());
    drop(call.await.unwrap().unwrap()); // a server may drop an ended body unpolled
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("204 - 0 0 "), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn a_body_that_reports_its_end_is_complete_without_a_last_poll() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let call = tokio::spawn(svc.oneshot(request("/")));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(Response::new(full("whole")));
    let mut body = call.await.unwrap().unwrap().into_body();
    assert!(body.frame().await.is_some());
    // hyper stops at `is_end_stream()` and drops the body without polling for `None`.
    assert!(body.is_end_stream());
    drop(body);
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("200 - 0 5 "), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn a_failed_inner_service_is_logged_with_code_0() {
    let (svc, mut handle, sink, out) = layered(AccessLogSampling::All);
    let call = tokio::spawn(svc.oneshot(request("/")));
    let (_, send) = handle.next_request().await.unwrap();
    sleep(Duration::from_millis(3)).await;
    send.send_error(BoxError::from("connect refused"));
    assert!(call.await.unwrap().is_err());
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("0 - 0 0 3 - - - GET svc.local "),
        "{}",
        lines[0]
    );
}

#[tokio::test(start_paused = true)]
async fn unsampled_requests_write_no_line() {
    let sampling = AccessLogSampling::custom(|parts| parts.uri.path() != "/quiet");
    let (svc, mut handle, sink, out) = layered(sampling);
    for path in ["/quiet", "/loud", "/quiet"] {
        let call = tokio::spawn(svc.clone().oneshot(request(path)));
        let (_, send) = handle.next_request().await.unwrap();
        send.send_response(Response::new(full("ok")));
        call.await.unwrap().unwrap().into_body().collect().await.unwrap();
    }
    sink.flush().await;
    let lines = out.lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("200 - 0 2 "), "{}", lines[0]);
}

#[tokio::test(start_paused = true)]
async fn the_default_format_shows_the_request_and_response_headers_it_names() {
    let (sink, out) = captured();
    let (mock, mut handle) = mock::pair::<Request<RequestBody<TestBody>>, Response<TestBody>>();
    let svc = tower::Layer::layer(&AccessLogLayer::new(Format::default(), sink.clone()), mock);
    let req = Request::get("/a?b=c")
        .header("host", "svc.local")
        .header("user-agent", "curl/8")
        .header("x-request-id", "rid-1")
        .body(full(""))
        .unwrap();
    let call = tokio::spawn(svc.oneshot(req));
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(
        Response::builder()
            .header("x-mesh-upstream-service-time", "9")
            .body(full("hi"))
            .unwrap(),
    );
    call.await.unwrap().unwrap().into_body().collect().await.unwrap();
    sink.flush().await;
    let text = out.text();
    let (_, rest) = text.split_once("] ").unwrap();
    assert_eq!(
        rest,
        "\"GET /a?b=c HTTP/1.1\" 200 - 0 2 0 9 \"-\" \"curl/8\" \"rid-1\" \"svc.local\" \"-\"\n"
    );
}
