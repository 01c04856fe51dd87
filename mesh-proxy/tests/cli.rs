//! The `mesh-proxy` binary as an operator runs it: validate, refuse bad config, drain on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_mesh-proxy");

fn write_config(text: &str) -> tempfile_path::TempPath {
    tempfile_path::TempPath::new(text)
}

/// A tiny self-deleting temp file, so the test needs no extra crate.
mod tempfile_path {
    pub struct TempPath(pub std::path::PathBuf);
    impl TempPath {
        pub fn new(text: &str) -> Self {
            static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = std::env::temp_dir().join(format!("mesh-cli-{}-{n}.yaml", std::process::id()));
            std::fs::write(&path, text).unwrap();
            TempPath(path)
        }
    }
    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

const THREE_MISTAKES: &str = r#"
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes:
          - match: { prefix: "/" }
            route: { cluster: missing, timeout: 15 }
clusters:
  - name: web
    endpoints: [ { address: "10.0.0.1:99999" } ]
"#;

#[test]
fn validate_reports_every_mistake_with_its_key_path() {
    let file = write_config(THREE_MISTAKES);
    let out = Command::new(BIN).arg("validate").arg(&file.0).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    let name = file.0.display().to_string();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.trim_start().starts_with(&name))
        .collect();
    assert!(stderr.contains("3 errors"), "{stderr}");
    for path in [
        "listeners[0].virtual_hosts[0].routes[0].route.cluster:",
        "listeners[0].virtual_hosts[0].routes[0].route.timeout:",
        "clusters[0].endpoints[0].address:",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(path)),
            "no error for {path} in:\n{stderr}"
        );
    }
}

#[test]
fn validate_accepts_a_good_file_and_run_refuses_a_bad_one() {
    let good = write_config("listeners: []\nclusters: []\n");
    let out = Command::new(BIN).arg("validate").arg(&good.0).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let bad = write_config(THREE_MISTAKES);
    let out = Command::new(BIN).arg("--config").arg(&bad.0).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("clusters[0].endpoints[0].address"), "{stderr}");
    assert!(
        !stderr.contains("listening"),
        "a bad config must not start listeners:\n{stderr}"
    );
}

/// A backend that answers after `delay`, counting nothing: it only has to be slow.
fn slow_backend(delay: Duration) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 2 {
                    line.clear();
                }
                std::thread::sleep(delay);
                let _ = stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\nconnection: close\r\n\r\nslow");
            });
        }
    });
    addr
}

#[test]
fn sigterm_drains_in_flight_requests_and_exits_zero() {
    let backend = slow_backend(Duration::from_millis(1500));
    let config = write_config(&format!(
        r#"
admin: {{ address: 127.0.0.1:0 }}
drain_timeout: 20s
listeners:
  - name: web
    address: 127.0.0.1:0
    virtual_hosts:
      - name: all
        domains: ["*"]
        routes: [ {{ match: {{ prefix: "/" }}, route: {{ cluster: slow }} }} ]
clusters:
  - name: slow
    endpoints: [ {{ address: "{backend}" }} ]
"#
    ));
    let mut child = Command::new(BIN)
        .args(["--config", config.0.to_str().unwrap(), "--concurrency", "2"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr: SocketAddr = loop {
        assert!(Instant::now() < deadline, "proxy never reported its listener");
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "proxy exited early");
        if line.contains("listener=web") {
            let at = line.find("address=").unwrap() + "address=".len();
            break line[at..].trim().parse().unwrap();
        }
    };

    let request = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        let _ = std::io::Read::read_to_string(&mut s, &mut out);
        out
    });
    std::thread::sleep(Duration::from_millis(500)); // the request is now waiting on the slow backend
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );

    let response = request.join().unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "in-flight request must complete: {response:?}"
    );
    assert!(response.ends_with("slow"), "{response:?}");
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status after drain: {status:?}");
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "listener must be closed after the drain"
    );
}

#[test]
fn unenforced_settings_refuse_to_start() {
    let file = write_config(
        "admin: { address: 127.0.0.1:0 }\nclusters:\n  - name: web\n    endpoints: [ { address: \"127.0.0.1:1\" } ]\n    lb_policy: maglev\n    slow_start_config: { slow_start_window: 30s }\n",
    );
    let out = Command::new(BIN).arg("--config").arg(&file.0).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("\"web\": slow_start_config with this lb_policy is valid configuration but"),
        "{stderr}"
    );
    // `validate` checks the file itself, which is fine.
    let out = Command::new(BIN).arg("validate").arg(&file.0).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}
