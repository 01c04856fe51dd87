//! Steady, bounded traffic through the proxy while the browser reads the dashboard: one keep-alive
//! connection (so a listener shows an active connection), alternating `web` and `api`, one `web`
//! request in four answered 503 by its backend.

use mesh_tests::client::Connection;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// At most this many requests, for at most this long, whatever the browser does.
const MAX_REQUESTS: usize = 40_000;
const MAX_TIME: Duration = Duration::from_secs(180);
/// ~100 requests/s per cluster at most: enough to show, little for a shared machine.
const PAUSE: Duration = Duration::from_millis(5);

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Sent {
    pub(super) ok: usize,
    /// Requests that got an answer other than the one the backend was asked for, or none.
    pub(super) failed: usize,
}

pub(super) struct Traffic {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<Sent>>,
}

impl Traffic {
    pub(super) fn start(proxy: SocketAddr) -> Traffic {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut sent = Sent::default();
            let started = Instant::now();
            let Ok(mut conn) = Connection::http1(proxy).await else {
                sent.failed += 1;
                return sent;
            };
            for i in 0..MAX_REQUESTS {
                if flag.load(Ordering::Relaxed) || started.elapsed() > MAX_TIME {
                    break;
                }
                let (path, want) = match i % 8 {
                    1 | 3 | 5 | 7 => ("/api/items", 200),
                    6 => ("/status/503", 503),
                    _ => ("/web/page", 200),
                };
                match conn.get("mesh.test", path).await {
                    Ok(reply) if reply.status == want => sent.ok += 1,
                    _ => sent.failed += 1,
                }
                tokio::time::sleep(PAUSE).await;
            }
            sent
        });
        Traffic {
            stop,
            task: Some(task),
        }
    }

    pub(super) async fn stop(mut self) -> Sent {
        self.stop.store(true, Ordering::Relaxed);
        match self.task.take() {
            Some(task) => task.await.unwrap(),
            None => Sent::default(),
        }
    }
}

impl Drop for Traffic {
    /// A test that panics mid-way stops its traffic too.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
