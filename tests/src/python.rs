//! Runs the grpcio interop clients (`tests/python/grpc_client.py`, and `xds_client.py`, grpcio's own
//! xDS client against an xDS server), and the headless-Chromium reader of the admin dashboard
//! (`tests/python/dashboard.py`).
//!
//! Needs `python3` with `pip install grpcio grpcio-health-checking` (and, for the dashboard,
//! `pip install playwright` with Debian's `chromium`); when they are missing the helpers return an
//! `Err` saying so, and the calling test must fail (never skip) on it. `scripts/test.sh` installs them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// The whole run (interpreter start-up included) must finish within this.
const TIMEOUT: Duration = Duration::from_secs(60);

const INSTALL: &str = "pip install grpcio grpcio-health-checking";

/// The interpreter: `$MESH_PYTHON`, else `python3`.
pub fn python() -> String {
    std::env::var("MESH_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// `tests/python/grpc_client.py`.
pub fn grpc_client_script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/python/grpc_client.py"))
}

async fn run(args: &[&str]) -> Result<String, String> {
    run_for(args, TIMEOUT).await
}

async fn run_for(args: &[&str], timeout: Duration) -> Result<String, String> {
    let mut cmd = Command::new(python());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {} ({e}); install Python 3 and `{INSTALL}`", python()))?;
    let output = tokio::time::timeout(timeout, child.wait_with_output())
        .await
        .map_err(|_| format!("{} {args:?} did not finish within {timeout:?}", python()))?
        .map_err(|e| format!("{} {args:?}: {e}", python()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(format!(
            "{} {args:?} exited with {}:\n{text}",
            python(),
            output.status
        ))
    }
}

/// Parses the Prometheus text in `file` with `prometheus_client` (`tests/python/prom_parse.py`):
/// one `name type samples` line per metric family, or an `Err` with the parser's complaint.
pub async fn parse_prometheus(file: &std::path::Path) -> Result<String, String> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/prom_parse.py");
    let file = file.to_str().ok_or("a non-UTF-8 temp path")?;
    run(&[script, file]).await
}

/// Checks that `grpc` and `grpc_health` import.
pub async fn check_grpcio() -> Result<(), String> {
    run(&["-c", "import grpc, grpc_health.v1.health_pb2_grpc"])
        .await
        .map(drop)
        .map_err(|e| format!("python grpcio is not usable; run `{INSTALL}`\n{e}"))
}

/// Runs the client against `addr` (`:authority` = `addr`); `Ok` holds its output.
pub async fn run_grpc_client(addr: SocketAddr) -> Result<String, String> {
    run_grpc_client_with_authority(addr, None).await
}

/// Runs the client against `addr`, sending `:authority: {authority}` if given.
pub async fn run_grpc_client_with_authority(
    addr: SocketAddr,
    authority: Option<&str>,
) -> Result<String, String> {
    check_grpcio().await?;
    let script = grpc_client_script();
    let script = script.to_string_lossy();
    let target = addr.to_string();
    let mut args = vec![script.as_ref(), target.as_str()];
    args.extend(authority);
    run(&args).await
}

/// `tests/python/xds_client.py`.
pub fn xds_client_script() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/python/xds_client.py"))
}

/// Runs grpcio's xDS client: `Health/Check` on `xds:///{service}`, resolved through the xDS
/// server at `xds_server` only. `Ok` holds its output.
pub async fn run_xds_client(xds_server: SocketAddr, service: &str) -> Result<String, String> {
    check_grpcio().await?;
    let script = xds_client_script();
    let server = xds_server.to_string();
    run(&[script.to_string_lossy().as_ref(), server.as_str(), service]).await
}

/// Where Debian's `chromium` package puts the browser the dashboard test drives.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// Checks that Chromium is installed and Python's `playwright` imports (no browser download:
/// the script drives [`CHROMIUM`]).
pub async fn check_chromium() -> Result<(), String> {
    const HOW: &str = "run scripts/test.sh, or `apt-get install -y chromium && pip install playwright`";
    if !std::path::Path::new(CHROMIUM).exists() {
        return Err(format!("{CHROMIUM} is missing; {HOW}"));
    }
    run(&["-c", "import playwright.sync_api"])
        .await
        .map(drop)
        .map_err(|e| format!("python playwright is not usable; {HOW}\n{e}"))
}

/// Loads `http://{admin}/dashboard` in headless Chromium with `tests/python/dashboard.py`, which
/// reads the figures twice (each between two `/stats?format=json` fetches) and takes screenshots
/// into `out_dir`; returns what it wrote to `out_dir/dashboard.json`.
pub async fn read_dashboard(
    admin: SocketAddr,
    out_dir: &std::path::Path,
) -> Result<serde_json::Value, String> {
    check_chromium().await?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/dashboard.py");
    let dir = out_dir.to_str().ok_or("a non-UTF-8 temp path")?;
    // A cold browser start on a busy machine takes a while; the reads themselves take ~10 s.
    run_for(&[script, &admin.to_string(), dir], Duration::from_secs(150)).await?;
    let file = out_dir.join("dashboard.json");
    let text = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))
}

/// Runs `tests/python/dashboard_fixture.py`: the dashboard page (`mesh-proxy/src/admin/dashboard.html`)
/// in headless Chromium against scripted `/stats?format=json` answers (missing latencies, traffic with
/// a known 5xx share, a failed poll, a restart); `Err` names the first figure that is wrong.
pub async fn check_dashboard_page(out_dir: &std::path::Path) -> Result<String, String> {
    check_chromium().await?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/dashboard_fixture.py");
    let page = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../mesh-proxy/src/admin/dashboard.html"
    );
    let dir = out_dir.to_str().ok_or("a non-UTF-8 temp path")?;
    run_for(&[script, page, dir], Duration::from_secs(150)).await
}
