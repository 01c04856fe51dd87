//! A WebSocket echo server, and a client that connects through any address with a chosen Host.
//!
//! The server answers the handshake with `x-backend: {name}` and echoes every text and binary message
//! until the client closes.

use super::bind_loopback;
use crate::{AbortOnDrop, BoxError};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::Message;

/// A running WebSocket echo server; dropping it closes the listener and every connection.
#[derive(Debug)]
pub struct WebSocket {
    name: String,
    addr: SocketAddr,
    connections: Arc<AtomicUsize>,
    _task: AbortOnDrop,
}

impl WebSocket {
    pub async fn start(name: &str) -> WebSocket {
        let (listener, addr) = bind_loopback().await;
        let connections = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn(accept_loop(listener, name.to_owned(), connections.clone()));
        WebSocket {
            name: name.to_owned(),
            addr,
            connections,
            _task: AbortOnDrop(task),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Completed handshakes so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

async fn accept_loop(listener: TcpListener, name: String, connections: Arc<AtomicUsize>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    conns.spawn(serve(stream, name.clone(), connections.clone()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

// The handshake callback's error type is tungstenite's, large or not.
#[allow(clippy::result_large_err)]
async fn serve(stream: TcpStream, name: String, connections: Arc<AtomicUsize>) {
    let add_name = |_req: &Request, mut resp: Response| {
        if let Ok(value) = HeaderValue::from_str(&name) {
            resp.headers_mut().insert("x-backend", value);
        }
        Ok(resp)
    };
    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(stream, add_name).await else {
        return;
    };
    connections.fetch_add(1, Ordering::SeqCst);
    // Ends when the client closes or the connection fails.
    while let Some(Ok(msg)) = ws.next().await {
        if msg.is_close() {
            break;
        }
        if (msg.is_text() || msg.is_binary()) && ws.send(msg).await.is_err() {
            return;
        }
    }
    let _ = ws.close(None).await;
}

/// A WebSocket client connection.
#[derive(Debug)]
pub struct WsClient {
    ws: WebSocketStream<TcpStream>,
    /// The handshake response's `x-backend` header, when present.
    pub backend: Option<String>,
}

impl WsClient {
    /// Connects to `addr` (a proxy or the server) and handshakes for `ws://{host}{path}`.
    pub async fn connect(addr: SocketAddr, host: &str, path: &str) -> Result<WsClient, BoxError> {
        let request = format!("ws://{host}{path}").into_client_request()?;
        let stream = TcpStream::connect(addr).await?;
        let (ws, response) = tokio_tungstenite::client_async(request, stream).await?;
        let backend = response
            .headers()
            .get("x-backend")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(WsClient { ws, backend })
    }

    pub async fn send_text(&mut self, text: &str) -> Result<(), BoxError> {
        self.ws.send(Message::text(text)).await?;
        Ok(())
    }

    /// The next text message (pings and pongs skipped, at most 100 of them).
    pub async fn recv_text(&mut self) -> Result<String, BoxError> {
        for _ in 0..100 {
            match self.ws.next().await {
                Some(Ok(Message::Text(text))) => return Ok(text.to_string()),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Ok(other)) => return Err(format!("expected text, got {other:?}").into()),
                Some(Err(e)) => return Err(e.into()),
                None => return Err("connection closed".into()),
            }
        }
        Err("no text message among 100 control frames".into())
    }

    /// Sends each text and reads its echo, in order.
    pub async fn echo_all(&mut self, texts: &[&str]) -> Result<Vec<String>, BoxError> {
        let mut echoes = Vec::with_capacity(texts.len());
        for text in texts {
            self.send_text(text).await?;
            echoes.push(self.recv_text().await?);
        }
        Ok(echoes)
    }

    /// Sends a close frame and waits for the server's close (bounded by the stream ending).
    pub async fn close(mut self) -> Result<(), BoxError> {
        self.ws.close(None).await?;
        while let Some(msg) = self.ws.next().await {
            if matches!(msg, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
        }
        Ok(())
    }
}
