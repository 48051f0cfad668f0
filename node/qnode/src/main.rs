//! `qnode`: the node binary, with geth/GoQuorum-style flags (see [`qrs_node::cli`]).
// The `qnode listening ...` lines on stdout are this binary's interface to supervisors and tests.
#![allow(clippy::print_stdout)]

use clap::Parser;
use eyre::eyre;
use qrs_node::{
    cli::{Cli, Command, init_logging},
    init_datadir, launch,
};

mod allocator;

#[tokio::main]
async fn main() -> eyre::Result<()> {
    allocator::tune();
    let cli = Cli::parse();
    init_logging(cli.run.log_json, cli.run.verbosity);
    if let Some(Command::Init { datadir, genesis }) = &cli.command {
        let hash = init_datadir(datadir, genesis)?;
        tracing::info!(target: "node", %hash, datadir = %datadir.display(), "successfully wrote genesis state");
        return Ok(());
    }
    let a = &cli.run;
    let (datadir, _temp) = match &a.datadir {
        Some(d) => (d.clone(), None),
        None if a.dev => {
            let t = tempfile::tempdir()?;
            (t.path().to_path_buf(), Some(t))
        }
        None => return Err(eyre!("--datadir is required (or use --dev)")),
    };
    // install the handlers before announcing the endpoints: a supervisor may signal right away
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let node = launch(a.node_config(datadir)?).await?;
    if let Some(url) = node.http_url() {
        println!("qnode listening http={url}");
    }
    if let Some(url) = node.ws_url() {
        println!("qnode listening ws={url}");
    }
    for url in node.metrics_urls() {
        println!("qnode listening metrics={url}");
    }
    if let Some(enode) = node.enode() {
        println!("qnode listening p2p={enode}");
    }
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    tracing::info!(target: "node", "shutting down");
    node.stop().await
}
