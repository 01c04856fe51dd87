//! A real `redis-server` on a free loopback port, killed when dropped.
//!
//! `redis-server` must be installed (Debian's package; `scripts/test.sh` installs it): a test that
//! needs Redis fails with a message saying so rather than skipping, so CI cannot pass without it.
//! The port is found by binding `127.0.0.1:0` and closing it again; if another process takes it
//! in between, Redis fails to start and another port is tried (at most 5 times).

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a started server has to answer PING.
const READY: Duration = Duration::from_secs(10);

/// A running `redis-server` without persistence (`--save "" --appendonly no`).
#[derive(Debug)]
pub struct Redis {
    addr: SocketAddr,
    child: Option<Child>,
}

impl Redis {
    /// Starts one on a free port and waits until it answers PING.
    pub fn start() -> Redis {
        let mut last = String::new();
        for _ in 0..5 {
            let addr = crate::closed_port();
            match spawn(addr) {
                Ok(child) => {
                    return Redis {
                        addr,
                        child: Some(child),
                    };
                }
                Err(e) => last = e,
            }
        }
        panic!("could not start redis-server: {last}");
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// Kills the server (its data is gone: it keeps nothing on disk).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port, empty; panics if the port was taken meanwhile.
    pub fn restart(&mut self) {
        self.kill();
        let deadline = Instant::now() + READY;
        // The port can stay busy for a moment after the kill; retry until the bound.
        loop {
            match spawn(self.addr) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(e) if Instant::now() > deadline => panic!("could not restart redis-server: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Spawns `redis-server` on `addr` and waits for PING; the child is killed on failure.
fn spawn(addr: SocketAddr) -> Result<Child, String> {
    let mut child = Command::new("redis-server")
        .args(["--port", &addr.port().to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("redis-server is needed (apt-get install -y redis-server; scripts/test.sh does it): {e}")
        });
    let deadline = Instant::now() + READY;
    loop {
        // Its own pid, so that a server someone else started on the same port is not taken for it.
        if pid_at(addr) == Some(child.id()) {
            return Ok(child);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("redis-server on {addr} exited: {status}"));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "redis-server on {addr} did not answer PING within {READY:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The pid of the Redis answering at `addr` (`INFO server`), if one answers.
fn pid_at(addr: SocketAddr) -> Option<u32> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).ok()?;
    stream.set_read_timeout(Some(Duration::from_millis(500))).ok()?;
    stream.write_all(b"INFO server\r\n").ok()?;
    let mut reply = Vec::new();
    let mut chunk = [0u8; 4096];
    // The reply is a few KiB; stop at the pid line, at the end, or after 16 reads.
    for _ in 0..16 {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        reply.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&reply);
        // Only a whole line: a read can end in the middle of the number.
        if let Some(line) = text.lines().find_map(|l| l.strip_prefix("process_id:"))
            && text.contains(&format!("process_id:{line}\r\n"))
        {
            return line.trim().parse().ok();
        }
    }
    None
}
