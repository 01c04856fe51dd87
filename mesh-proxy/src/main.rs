//! The `mesh-proxy` binary: parse flags, load the config, run until a signal, drain.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// mesh-proxy: a sidecar and edge proxy. Precedence: flag > MESH_* env > file > defaults.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Configuration file (YAML).
    #[arg(long, short, env = "MESH_CONFIG")]
    config: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(long, env = "MESH_CONCURRENCY")]
    concurrency: Option<usize>,
    /// Log filter, e.g. `info` or `mesh_proxy=debug`.
    #[arg(long, env = "MESH_LOG", default_value = "info")]
    log: String,
    /// How often the config file is checked for changes (SIGHUP reloads at once).
    #[arg(long, env = "MESH_CONFIG_WATCH_INTERVAL", default_value = "1s", value_parser = mesh_core::duration::parse)]
    config_watch_interval: std::time::Duration,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a configuration file; print every error and exit non-zero if any.
    Validate { file: PathBuf },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = match mesh_proxy::logging::init(&cli.log) {
        Ok(control) => control,
        Err(e) => {
            eprintln!("mesh-proxy: {e}");
            return ExitCode::from(2);
        }
    };

    let path = match (&cli.command, &cli.config) {
        (Some(Command::Validate { file }), _) => {
            return match mesh_core::load::load_file(file) {
                Ok(_) => {
                    println!("{}: ok", file.display());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            };
        }
        (None, Some(path)) => path,
        (None, None) => {
            eprintln!("mesh-proxy: --config FILE is required (or `mesh-proxy validate FILE`)");
            return ExitCode::from(2);
        }
    };
    let config = match mesh_core::load::load_file(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };

    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = cli.concurrency {
        runtime.worker_threads(n.max(1));
    }
    let runtime = match runtime.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mesh-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let options = mesh_proxy::StartOptions { log: Some(log) };
        let proxy = match mesh_proxy::start_with(config, options).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("mesh-proxy: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Edits to the file, and SIGHUP, reload it without dropping a request.
        let _watch = proxy.watch_config(path, cli.config_watch_interval);
        mesh_proxy::shutdown_signal().await;
        tracing::info!("signal received; draining");
        let outcome = proxy.shutdown().await;
        tracing::info!(?outcome, "drained; exiting");
        ExitCode::SUCCESS
    })
}
