//! The `mesh-proxy` binary reloads its file on SIGHUP without waiting for the file poll
//! (set to an hour here), keeps its listener's port, changes its log filter live through the
//! admin's `/logging`, and stops cleanly on SIGTERM.

#![allow(clippy::panic, clippy::unwrap_used, reason = "test code fails by panicking")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn config(body: &str) -> String {
    format!(
        "admin: {{ address: 127.0.0.1:0 }}\nlisteners:\n  - name: web\n    address: 127.0.0.1:0\n    \
         virtual_hosts: [ {{ name: all, domains: [\"*\"], routes: [ {{ match: {{ prefix: / }}, \
         direct_response: {{ status: 200, body: \"{body}\" }} }} ] }} ]\n"
    )
}

fn get(addr: SocketAddr) -> String {
    let mut tcp = TcpStream::connect(addr).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: site.test\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut reply = String::new();
    tcp.read_to_string(&mut reply).unwrap();
    reply.rsplit("\r\n\r\n").next().unwrap_or_default().to_owned()
}

fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

#[test]
fn sighup_reloads_at_once_logging_changes_live_and_sigterm_drains() {
    let dir = std::env::temp_dir().join(format!("mesh-sighup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("mesh.yaml");
    std::fs::write(&path, config("one")).unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_mesh-proxy"))
        .args([
            "--config",
            path.to_str().unwrap(),
            "--config-watch-interval",
            "1h",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The log names each listener's bound address; the rest of the log is kept for failures.
    let (lines_tx, lines) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = lines_tx.send(line);
        }
    });
    let start = Instant::now();
    let web: SocketAddr = loop {
        let line = lines.recv_timeout(Duration::from_secs(30)).unwrap();
        if line.contains("listening") && line.contains("listener=web") {
            let at = line.split("address=").nth(1).unwrap();
            break at.split_whitespace().next().unwrap().parse().unwrap();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no listener in the log"
        );
    };
    assert_eq!(get(web), "one");

    std::fs::write(&path, config("two")).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(web), "one", "the file poll is an hour away");
    signal(&child, "HUP");
    let start = Instant::now();
    while get(web) != "two" {
        assert!(start.elapsed() < Duration::from_secs(10), "SIGHUP did not reload");
        std::thread::sleep(Duration::from_millis(50));
    }

    signal(&child, "TERM");
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "SIGTERM did not stop the proxy"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "exit status {status}");
    let _ = std::fs::remove_dir_all(&dir);
}
