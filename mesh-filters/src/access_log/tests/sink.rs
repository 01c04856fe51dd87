//! The sink: the file end to end, flushing on drop, dropping (not blocking) when full, errors counted.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};

fn temp_path() -> std::path::PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("mesh-access-log-{}-{n}.log", std::process::id()))
}

#[tokio::test]
async fn the_file_sink_creates_then_appends() {
    let path = temp_path();
    let _ = std::fs::remove_file(&path);

    let sink = Sink::file(&path, 16).unwrap();
    sink.write("first\n".into());
    sink.write("second\n".into());
    sink.flush().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\n");
    drop(sink);

    // A restart (or a second sink) appends rather than truncating.
    let again = Sink::file(&path, 16).unwrap();
    again.write("third\n".into());
    again.flush().await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "first\nsecond\nthird\n");
    assert_eq!((again.dropped(), again.errors()), (0, 0));
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn outside_a_runtime_a_sink_is_refused_not_a_panic() {
    assert!(Sink::writer(Captured::default(), 16).is_err());
}

#[tokio::test]
async fn a_file_that_cannot_be_opened_is_refused_at_once() {
    let dir = temp_path().with_extension("d");
    let missing_dir = dir.join("no/such/dir/access.log");
    assert!(Sink::file(missing_dir, 16).is_err());
}

#[tokio::test]
async fn dropping_the_last_handle_flushes_everything() {
    let out = Captured::default();
    let gone = out.on_drop();
    let sink = Sink::writer(out.clone(), 16).unwrap();
    let clone = sink.clone();
    sink.write("a\n".into());
    clone.write("b\n".into());
    drop(sink);
    drop(clone);
    gone.await.unwrap();
    assert_eq!(out.text(), "a\nb\n");
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_queue_drops_and_counts_instead_of_waiting() {
    let out = Captured::default();
    let sink = Sink::writer(out.clone(), 2).unwrap();
    // On one thread the writer task has not run yet: the queue holds two lines, the rest are dropped.
    for n in 0..5 {
        sink.write(format!("{n}\n"));
    }
    assert_eq!(sink.dropped(), 3);
    sink.flush().await;
    assert_eq!(out.text(), "0\n1\n");
    sink.write("5\n".into());
    sink.flush().await;
    assert_eq!(out.text(), "0\n1\n5\n");
    assert_eq!(sink.dropped(), 3);
}

/// A writer whose every write and flush fails, like a full disk.
#[derive(Debug)]
struct Broken;

impl AsyncWrite for Broken {
    fn poll_write(self: Pin<&mut Self>, _: &mut Context<'_>, _: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(io::Error::other("disk full")))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Err(io::Error::other("disk full")))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn write_errors_are_counted_and_the_sink_keeps_going() {
    let sink = Sink::writer(Broken, 16).unwrap();
    sink.write("lost\n".into());
    sink.flush().await;
    let after_one = sink.errors();
    assert!(after_one > 0);
    sink.write("lost too\n".into());
    sink.flush().await;
    assert!(sink.errors() > after_one, "a later failure is still counted");
    assert_eq!(sink.dropped(), 0);
}
