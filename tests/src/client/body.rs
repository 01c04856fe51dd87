//! Request bodies for [`super::Connection::send`].

use crate::BoxError;
use bytes::Bytes;
use http::HeaderMap;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use tokio::sync::mpsc;

/// The request body type every client here sends.
pub type ReqBody = BoxBody<Bytes, BoxError>;

const CHUNK_LEN: usize = 64 * 1024;
static ZEROS: [u8; CHUNK_LEN] = [0; CHUNK_LEN];

pub fn empty() -> ReqBody {
    Empty::new().map_err(|e| match e {}).boxed()
}

pub fn full(data: impl Into<Bytes>) -> ReqBody {
    Full::new(data.into()).map_err(|e| match e {}).boxed()
}

/// `data` then `trailers` (HTTP/1.1 sends it chunked; h2 as a trailing HEADERS frame).
pub fn with_trailers(data: impl Into<Bytes>, trailers: HeaderMap) -> ReqBody {
    let frames = [Frame::data(data.into()), Frame::trailers(trailers)];
    let stream = futures_util::stream::iter(frames.map(Ok::<_, BoxError>));
    StreamBody::new(stream).boxed()
}

/// `n` zero bytes, streamed in 64 KiB chunks without allocating them.
pub fn zeros(n: u64) -> ReqBody {
    let chunks = futures_util::stream::unfold(n, |left| async move {
        if left == 0 {
            return None;
        }
        let len = usize::try_from(left).map_or(CHUNK_LEN, |l| l.min(CHUNK_LEN));
        let frame = Frame::data(Bytes::from_static(&ZEROS[..len]));
        Some((Ok::<_, BoxError>(frame), left - len as u64))
    });
    StreamBody::new(chunks).boxed()
}

/// A body fed frame by frame from the returned sender; it ends when the sender is dropped.
pub fn channel(capacity: usize) -> (mpsc::Sender<Frame<Bytes>>, ReqBody) {
    let (tx, rx) = mpsc::channel(capacity.max(1));
    let frames = futures_util::stream::unfold(rx, |mut rx| async move {
        let frame = rx.recv().await?;
        Some((Ok::<_, BoxError>(frame), rx))
    });
    (tx, StreamBody::new(frames).boxed())
}
