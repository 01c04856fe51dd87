use super::*;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::time::{sleep, timeout};

const EVERY: Duration = Duration::from_secs(1);

/// A private directory holding one endpoints file, removed when dropped.
struct Scratch {
    dir: PathBuf,
    file: PathBuf,
}

impl Scratch {
    fn new(text: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("mesh-discovery-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let scratch = Scratch {
            file: dir.join("api-endpoints.yaml"),
            dir,
        };
        scratch.write(text);
        scratch
    }

    /// Replaces the file as a deployment tool should: write aside, rename over.
    fn write(&self, text: &str) {
        let aside = self.dir.join("api-endpoints.yaml.tmp");
        std::fs::write(&aside, text).unwrap();
        std::fs::rename(&aside, &self.file).unwrap();
    }

    fn start(&self) -> (watch::Receiver<Arc<EndpointSet>>, SourceHandle) {
        FileSource::new(&self.file, EVERY).start().unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn addrs(set: &EndpointSet) -> Vec<String> {
    set.endpoints.iter().map(|e| e.address.to_string()).collect()
}

const V1: &str = "version: \"1\"\nendpoints:\n  - { address: 127.0.0.1:8081 }\n  - { address: 127.0.0.1:8082, weight: 2 }\n";
const V2: &str = "version: \"2\"\nendpoints:\n  - { address: 127.0.0.1:8082, weight: 2 }\n  - { address: 127.0.0.1:8083 }\n";

#[tokio::test(start_paused = true)]
async fn the_file_is_loaded_at_start() {
    let file = Scratch::new(V1);
    let (rx, handle) = file.start();
    let set = rx.borrow().clone();
    assert_eq!(set.version.as_deref(), Some("1"));
    assert_eq!(addrs(&set), ["127.0.0.1:8081", "127.0.0.1:8082"]);
    assert_eq!(set.endpoints[1].weight.get(), 2);
    let stats = handle.stats();
    assert_eq!(
        (stats.updates(), stats.rejected(), stats.last_error()),
        (0, 0, None)
    );
    assert!(stats.last_update().is_some());
}

#[tokio::test(start_paused = true)]
async fn a_rewritten_file_is_published_within_two_intervals() {
    let file = Scratch::new(V1);
    let (mut rx, handle) = file.start();
    sleep(EVERY / 2).await;
    file.write(V2);
    timeout(2 * EVERY, rx.changed()).await.unwrap().unwrap();
    let set = rx.borrow_and_update().clone();
    assert_eq!(set.version.as_deref(), Some("2"));
    assert_eq!(addrs(&set), ["127.0.0.1:8082", "127.0.0.1:8083"]);
    assert_eq!(handle.stats().updates(), 1);

    // Other bytes, same set: nothing to publish.
    file.write(&V2.replace(
        "{ address: 127.0.0.1:8083 }",
        "{ address: \"127.0.0.1:8083\", weight: 1 }",
    ));
    sleep(3 * EVERY).await;
    assert!(!rx.has_changed().unwrap());
    assert_eq!(handle.stats().updates(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_broken_rewrite_keeps_the_last_set_and_is_counted_once() {
    let file = Scratch::new(V1);
    let (mut rx, handle) = file.start();
    let stats = handle.stats();
    file.write("endpoints:\n  - { address: 127.0.0.1:8081 }\n  - { address: \"127.0.0.1:99999\" }\n");
    sleep(5 * EVERY).await;
    assert!(!rx.has_changed().unwrap(), "the last good set stays");
    assert_eq!(rx.borrow().version.as_deref(), Some("1"));
    assert_eq!(
        stats.rejected(),
        1,
        "a broken file left in place is one rejection"
    );
    let error = stats.last_error().unwrap();
    let origin = file.file.display().to_string();
    assert!(
        error.contains(&format!("{origin}: endpoints[1].address: ")),
        "{error}"
    );

    std::fs::remove_file(&file.file).unwrap();
    sleep(3 * EVERY).await;
    assert_eq!(stats.rejected(), 2);
    assert!(stats.last_error().unwrap().contains("cannot read file"));
    assert_eq!(rx.borrow().version.as_deref(), Some("1"));

    file.write(V2);
    timeout(2 * EVERY, rx.changed()).await.unwrap().unwrap();
    assert_eq!(rx.borrow_and_update().version.as_deref(), Some("2"));
    assert_eq!((stats.updates(), stats.rejected()), (1, 2));
    assert!(stats.last_error().is_some(), "the last error is kept for admin");
}

#[tokio::test(start_paused = true)]
async fn a_missing_or_invalid_file_at_start_is_an_error() {
    let missing = std::env::temp_dir().join(format!("mesh-discovery-{}-missing.yaml", std::process::id()));
    let err = FileSource::new(&missing, EVERY).start().unwrap_err();
    assert_eq!(err.origin, missing.display().to_string());
    assert!(err.to_string().contains("cannot read file"), "{err}");

    let file = Scratch::new("endpoints: [ { address: nowhere }, { adress: 127.0.0.1:1 } ]\n");
    let err = FileSource::new(&file.file, EVERY).start().unwrap_err();
    assert!(err.to_string().contains("unknown field `adress`"), "{err}");
    file.write("endpoints: [ { address: nowhere }, { address: 127.0.0.1:1, weight: 0 } ]\n");
    let err = FileSource::new(&file.file, EVERY).start().unwrap_err();
    let paths: Vec<_> = err.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["endpoints[0].address", "endpoints[1].weight"]);
}

#[test]
fn starting_outside_a_runtime_is_an_error_not_a_panic() {
    let file = Scratch::new(V1);
    let err = FileSource::new(&file.file, EVERY).start().unwrap_err();
    assert!(err.to_string().contains("cannot watch the file"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn the_task_stops_when_every_receiver_is_dropped() {
    let file = Scratch::new(V1);
    let (rx, handle) = file.start();
    let other = rx.clone();
    drop(rx);
    sleep(2 * EVERY).await;
    assert!(!handle.is_finished(), "one receiver is left");
    drop(other);
    sleep(EVERY).await;
    assert!(handle.is_finished());
}

#[tokio::test(start_paused = true)]
async fn dropping_the_handle_stops_the_task_and_leaves_the_last_set() {
    let file = Scratch::new(V1);
    let (mut rx, handle) = file.start();
    drop(handle);
    assert!(
        timeout(EVERY, rx.changed()).await.unwrap().is_err(),
        "the sender went with the task"
    );
    file.write(V2);
    sleep(3 * EVERY).await;
    assert_eq!(rx.borrow().version.as_deref(), Some("1"));
}
