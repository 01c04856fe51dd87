//! HTTP client connections: HTTP/1.1, h2c (prior knowledge) and TLS with ALPN, one connection each,
//! so a test decides exactly which requests share a connection.

use super::body::{self, ReqBody};
use crate::backend::Received;
use crate::{AbortOnDrop, BoxError, tls};
use bytes::Bytes;
use http::header::HOST;
use http::uri::{PathAndQuery, Uri};
use http::{HeaderMap, Method, Request, Response, StatusCode, Version};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// A whole response: status, headers, the full body, and trailers if any.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub version: Version,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub trailers: Option<HeaderMap>,
}

impl Reply {
    /// Collects `response`'s body and trailers.
    pub async fn read(response: Response<Incoming>) -> Result<Reply, BoxError> {
        let (parts, body) = response.into_parts();
        let collected = body.collect().await?;
        let trailers = collected.trailers().cloned();
        Ok(Reply {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body: collected.to_bytes(),
            trailers,
        })
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's first value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The HTTP backend's description of the request; panics (showing the body) if it is not one.
    pub fn received(&self) -> Received {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not a backend description ({e}): {} {}", self.status, self.text()))
    }
}

#[derive(Debug)]
enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
}

/// One client connection; dropping it closes the connection.
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    scheme: &'static str,
    _task: AbortOnDrop,
}

impl Connection {
    /// HTTP/1.1 over plaintext TCP.
    pub async fn http1(addr: SocketAddr) -> Result<Connection, BoxError> {
        Self::handshake(connect(addr).await?, false, "http").await
    }

    /// HTTP/2 over plaintext TCP with prior knowledge (h2c).
    pub async fn h2c(addr: SocketAddr) -> Result<Connection, BoxError> {
        Self::handshake(connect(addr).await?, true, "http").await
    }

    /// TLS to `addr`, verifying `server_name` against the test CA and offering `alpn` (see
    /// [`tls::H2`], [`tls::HTTP11`]); speaks h2 if the server chose `h2`, else HTTP/1.1.
    pub async fn tls(addr: SocketAddr, server_name: &str, alpn: &[&str]) -> Result<Connection, BoxError> {
        let connector = TlsConnector::from(tls::client_config(alpn));
        let stream = connector
            .connect(tls::server_name(server_name), connect(addr).await?)
            .await?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(tls::H2.as_bytes());
        Self::handshake(stream, h2, "https").await
    }

    async fn handshake<I>(io: I, h2: bool, scheme: &'static str) -> Result<Connection, BoxError>
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let io = TokioIo::new(io);
        let (sender, task) = if h2 {
            let (sender, conn) = http2::handshake(TokioExecutor::new(), io).await?;
            (Sender::H2(sender), tokio::spawn(async move { drop(conn.await) }))
        } else {
            let (sender, conn) = http1::handshake(io).await?;
            let task = tokio::spawn(async move { drop(conn.with_upgrades().await) });
            (Sender::H1(sender), task)
        };
        Ok(Connection {
            sender,
            scheme,
            _task: AbortOnDrop(task),
        })
    }

    /// `HTTP_11` or `HTTP_2`.
    pub fn version(&self) -> Version {
        match self.sender {
            Sender::H1(_) => Version::HTTP_11,
            Sender::H2(_) => Version::HTTP_2,
        }
    }

    /// Whether the connection is closed (for HTTP/1.1: closed or busy with another request).
    pub fn is_closed(&self) -> bool {
        match &self.sender {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
        }
    }

    /// Sends `req` and returns the response head with its body still streaming.
    ///
    /// HTTP/1.1 gets a `Host` from the URI's authority if it has none; h2 gets an absolute URI
    /// (`:scheme` + `:authority`, taken from the `Host` header) if the URI is origin-form.
    pub async fn send_streaming(
        &mut self,
        mut req: Request<ReqBody>,
    ) -> Result<Response<Incoming>, BoxError> {
        match &mut self.sender {
            Sender::H1(sender) => {
                if !req.headers().contains_key(HOST)
                    && let Some(authority) = req.uri().authority()
                {
                    let host = authority.as_str().parse()?;
                    req.headers_mut().insert(HOST, host);
                }
                sender.ready().await?;
                Ok(sender.send_request(req).await?)
            }
            Sender::H2(sender) => {
                if req.uri().scheme().is_none() {
                    let host = req.headers_mut().remove(HOST);
                    let authority = host.as_ref().and_then(|h| h.to_str().ok()).unwrap_or("localhost");
                    let path = req.uri().path_and_query().map_or("/", PathAndQuery::as_str);
                    *req.uri_mut() = format!("{}://{authority}{path}", self.scheme).parse()?;
                }
                *req.version_mut() = Version::HTTP_2;
                sender.ready().await?;
                Ok(sender.send_request(req).await?)
            }
        }
    }

    /// Sends `req` and reads the whole response.
    pub async fn send(&mut self, req: Request<ReqBody>) -> Result<Reply, BoxError> {
        let response = self.send_streaming(req).await?;
        Reply::read(response).await
    }

    /// `GET {path}` with `Host: {host}`.
    pub async fn get(&mut self, host: &str, path: &str) -> Result<Reply, BoxError> {
        self.send(request(Method::GET, host, path, body::empty())).await
    }
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, BoxError> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A request with an origin-form target and a `Host` header (send adapts it for h2).
pub fn request(method: Method, host: &str, path: &str, body: ReqBody) -> Request<ReqBody> {
    let uri: Uri = path
        .parse()
        .unwrap_or_else(|e| panic!("bad request path {path:?}: {e}"));
    Request::builder()
        .method(method)
        .uri(uri)
        .header(HOST, host)
        .body(body)
        .unwrap_or_else(|e| panic!("bad request for host {host:?}: {e}"))
}

/// One `GET` over a fresh HTTP/1.1 connection.
pub async fn get(addr: SocketAddr, host: &str, path: &str) -> Result<Reply, BoxError> {
    Connection::http1(addr).await?.get(host, path).await
}

/// One `GET` over a fresh h2c connection.
pub async fn h2c_get(addr: SocketAddr, host: &str, path: &str) -> Result<Reply, BoxError> {
    Connection::h2c(addr).await?.get(host, path).await
}

/// One `GET` over a fresh TLS connection to `localhost`, offering `alpn`.
pub async fn tls_get(addr: SocketAddr, alpn: &[&str], host: &str, path: &str) -> Result<Reply, BoxError> {
    Connection::tls(addr, "localhost", alpn)
        .await?
        .get(host, path)
        .await
}
