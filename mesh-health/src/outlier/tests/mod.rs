//! The detector under paused time and fixed seeds: exact ejection and return times, no IO.

mod consecutive;
mod members;
mod props;
mod record;
mod sweep;

use super::*;
use std::time::Duration;

pub(super) const S: Duration = Duration::from_secs(1);

/// Envoy's defaults with `overrides` (a YAML flow mapping), validated by mesh-core.
pub(super) fn policy(overrides: &str) -> OutlierDetection {
    let yaml = format!(
        "clusters:\n  - name: web\n    endpoints: [ {{ address: \"127.0.0.1:1\" }} ]\n    outlier_detection: {overrides}\n"
    );
    let mut bootstrap = mesh_core::load::from_yaml(&yaml, "test.yaml").unwrap_or_else(|e| panic!("{e}"));
    bootstrap.clusters.remove(0).outlier_detection.unwrap()
}

type Started = (
    OutlierRecorder,
    watch::Receiver<Arc<EjectionSnapshot>>,
    OutlierDetectorHandle,
);

/// Host number `n`'s address: tests name hosts by number.
pub(super) fn addr(n: usize) -> SocketAddr {
    let n = u16::try_from(n).unwrap();
    SocketAddr::from(([10, 0, (n >> 8) as u8, n as u8], 80))
}

/// The addresses of hosts `numbers`, in that order.
pub(super) fn addrs(numbers: impl IntoIterator<Item = usize>) -> Vec<SocketAddr> {
    numbers.into_iter().map(addr).collect()
}

/// A running detector over hosts `0..hosts` whose list never changes (its sender is dropped),
/// its draws seeded.
fn start(policy: OutlierDetection, hosts: usize) -> Started {
    start_watching(policy, addrs(0..hosts)).1
}

/// A running detector over `hosts`, its draws seeded, and the sender that changes its members.
fn start_watching(
    policy: OutlierDetection,
    hosts: Vec<SocketAddr>,
) -> (watch::Sender<Vec<SocketAddr>>, Started) {
    let (tx, hosts) = watch::channel(hosts);
    let detector = OutlierDetector::new("web", policy, hosts).with_seed(7);
    let recorder = detector.recorder();
    let (rx, handle) = detector.start();
    (tx, (recorder, rx, handle))
}

fn record(recorder: &OutlierRecorder, host: usize, result: RequestResult, times: usize) {
    for _ in 0..times {
        recorder.record(addr(host), result).unwrap();
    }
}

/// `ok` 200s and `failed` 500s for `host`, spread out so no run of failures forms unless
/// failures outnumber successes.
fn traffic(recorder: &OutlierRecorder, host: usize, ok: usize, failed: usize) {
    let (success, failure) = (RequestResult::Status(200), RequestResult::Status(500));
    traffic_of(recorder, host, (ok, success), (failed, failure));
}

/// `ok.0` times `ok.1` and `failed.0` times `failed.1`, spread out evenly.
fn traffic_of(
    recorder: &OutlierRecorder,
    host: usize,
    ok: (usize, RequestResult),
    failed: (usize, RequestResult),
) {
    let total = ok.0 + failed.0;
    for i in 0..total {
        let fail = (i * failed.0) / total != ((i + 1) * failed.0) / total;
        recorder
            .record(addr(host), if fail { failed.1 } else { ok.1 })
            .unwrap();
    }
}

/// Lets the loop handle what was just recorded, without moving the paused clock.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

fn now_snapshot(rx: &watch::Receiver<Arc<EjectionSnapshot>>) -> Arc<EjectionSnapshot> {
    rx.borrow().clone()
}

#[tokio::test(start_paused = true)]
async fn the_loop_stops_with_its_readers_and_recording_still_counts() {
    let (recorder, rx, handle) = start(policy("{}"), 3);
    assert_eq!(recorder.hosts(), 3);
    drop(rx);
    settle().await;
    assert!(handle.is_finished());
    // Recording after the loop stopped still works for the last members; nothing is ejected.
    recorder.record(addr(0), RequestResult::Status(500)).unwrap();
    assert!(recorder.record(addr(3), RequestResult::Status(500)).is_err());
}
