//! One HTTP/1 request to the registry, for [`RegistrySource`](super::RegistrySource) and
//! [`Heartbeat`](super::Heartbeat): hyper-util's pooled client, a deadline, the whole body.
//!
//! Failure: every way a call can fail is one [`CallError`], and a status other than 2xx (or
//! 404 where the caller allows it) is one too, carrying the start of the body for the log.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use std::time::Duration;

/// Replies larger than this are refused: a service with thousands of instances is ~1 MB of JSON.
const MAX_REPLY: usize = 16 << 20;

pub(crate) type HttpClient = Client<HttpConnector, Full<Bytes>>;

pub(crate) fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(5)));
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .build(connector)
}

/// Why a call to the registry failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("invalid registry URL {0:?}")]
    Url(String),
    #[error("cannot reach the registry: {0}")]
    Connect(#[from] hyper_util::client::legacy::Error),
    #[error("the registry's reply broke off: {0}")]
    Body(String),
    #[error("the registry did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the registry answered {status}: {body}")]
    Status { status: StatusCode, body: String },
    #[error("the registry's reply is not valid: {0}")]
    Invalid(String),
}

/// Sends one request and reads the whole reply within `timeout`. Returns the status and body
/// for 2xx replies; others are [`CallError::Status`].
pub(crate) async fn call(
    client: &HttpClient,
    method: Method,
    url: &str,
    body: Option<Vec<u8>>,
    timeout: Duration,
) -> Result<(StatusCode, Bytes), CallError> {
    let mut request = Request::builder().method(method).uri(url);
    if body.is_some() {
        request = request.header(http::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|_| CallError::Url(url.to_owned()))?;
    let exchange = async {
        let reply = client.request(request).await?;
        let status = reply.status();
        let bytes = Limited::new(reply.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| CallError::Body(e.to_string()))?
            .to_bytes();
        Ok::<_, CallError>((status, bytes))
    };
    let (status, bytes) = tokio::time::timeout(timeout, exchange)
        .await
        .map_err(|_| CallError::Timeout(timeout))??;
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(512)]).into_owned();
        return Err(CallError::Status { status, body: text });
    }
    Ok((status, bytes))
}
