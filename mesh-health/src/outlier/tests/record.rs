//! The request path's counting, without the loop: runs, resets, windows, the split.

use crate::outlier::record::{Counts, HostStats, RequestResult, Run, Thresholds};

const PLAIN: Thresholds = Thresholds {
    consecutive_5xx: 3,
    consecutive_gateway_failure: 2,
    consecutive_local_origin_failure: 2,
    split: false,
};

fn feed(stats: &HostStats, t: &Thresholds, results: &[RequestResult]) -> Vec<u8> {
    results
        .iter()
        .map(|r| {
            stats.record(*r, t);
            stats.take_pending()
        })
        .collect()
}

#[test]
fn runs_fire_once_at_their_threshold() {
    use RequestResult::*;
    let stats = HostStats::default();
    let fired = feed(
        &stats,
        &PLAIN,
        &[Status(503), Status(502), Status(500), Status(503)],
    );
    // 503, 502: gateway run of 2 fires; 500 ends it and makes the 5xx run 3; 503 is the 4th.
    assert_eq!(fired, vec![0, Run::Gateway as u8, Run::Http5xx as u8, 0]);
    let fired = feed(&stats, &PLAIN, &[Status(404), Timeout, ConnectFailed, Reset]);
    assert_eq!(fired, vec![0, 0, Run::Gateway as u8, Run::Http5xx as u8]);
    let (external, local) = stats.take_windows();
    assert_eq!((external.total, external.successes, local.total), (8, 1, 0));
    assert_eq!(
        stats.take_windows().0,
        Counts::default(),
        "taking clears the window"
    );
}

#[test]
fn split_mode_keeps_local_origin_apart() {
    use RequestResult::*;
    let t = Thresholds { split: true, ..PLAIN };
    let stats = HostStats::default();
    let fired = feed(
        &stats,
        &t,
        &[ConnectFailed, Status(503), Timeout, Connected, Reset],
    );
    // A response means the connection worked: it ends the local-origin run.
    assert_eq!(fired, vec![0, 0, 0, 0, 0]);
    let fired = feed(&stats, &t, &[Reset, Status(200), Status(502)]);
    assert_eq!(fired, vec![Run::LocalOrigin as u8, 0, 0]);
    let (external, local) = stats.take_windows();
    assert_eq!((external.total, external.successes), (3, 1));
    assert_eq!((local.total, local.successes), (8, 4));
    assert_eq!(
        Counts {
            total: 8,
            successes: 2
        }
        .success_rate(),
        Some(25.0)
    );
    assert_eq!(Counts::default().success_rate(), None);
}
