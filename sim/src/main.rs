//! The `okta-sim` binary: loads one org from a seed file and serves it until SIGINT/SIGTERM.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use okta_sim::{OrgSeed, Simulator};

/// A stateful simulator of the Okta Management API endpoints okta-role-sync uses.
#[derive(Parser)]
#[command(name = "okta-sim", version)]
struct Args {
    /// JSON seed of the org to serve (see sim/seeds/demo.json).
    #[arg(long)]
    seed: PathBuf,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8089")]
    listen: SocketAddr,
    /// How many times as fast as the real clock the org's time runs (overrides the seed's
    /// clockScale): with 60, one Okta minute passes in one real second.
    #[arg(long, value_name = "N")]
    clock_scale: Option<f64>,
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn run(args: Args) -> Result<(), String> {
    let text = std::fs::read_to_string(&args.seed)
        .map_err(|e| format!("cannot read {}: {e}", args.seed.display()))?;
    let mut seed: OrgSeed = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid seed: {e}", args.seed.display()))?;
    if let Some(scale) = args.clock_scale {
        seed.clock_scale = scale;
    }
    let sim = Simulator::new();
    sim.add_org(seed)
        .map_err(|e| format!("{} is not a valid seed: {e}", args.seed.display()))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the listening address: {e}"))?;
    eprintln!("okta-sim listening on http://{addr}");
    tokio::select! {
        served = sim.serve(listener) => served.map_err(|e| format!("server failed: {e}")),
        () = shutdown_signal() => Ok(()),
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("okta-sim: {message}");
            ExitCode::FAILURE
        }
    }
}
