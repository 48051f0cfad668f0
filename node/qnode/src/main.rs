//! `qnode`: the node binary, with geth/GoQuorum-style flags.
// The `qnode listening ...` lines on stdout are this binary's interface to supervisors and tests.
#![allow(clippy::print_stdout)]

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use alloy_primitives::Address;
use clap::{Args, Parser, Subcommand};
use eyre::{WrapErr, eyre};
use qrs_node::{ConsensusChoice, NodeConfig, RpcEndpoint, init_datadir, launch};

#[derive(Debug, Parser)]
#[command(name = "qnode", version, about = "A GoQuorum-compatible EVM node")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Writes the genesis block of a genesis.json into the data directory (like `geth init`).
    Init {
        /// Data directory.
        #[arg(long)]
        datadir: PathBuf,
        /// GoQuorum genesis.json.
        genesis: PathBuf,
    },
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Data directory (a temporary one with --dev when omitted).
    #[arg(long)]
    datadir: Option<PathBuf>,
    /// Throwaway single-node chain with a funded, unlocked dev account.
    #[arg(long)]
    dev: bool,
    /// With --dev: seconds between blocks; 0 makes a block as soon as transactions are pending.
    #[arg(long = "dev.period", default_value_t = 0)]
    dev_period: u64,
    /// Make blocks locally on a non-dev chain (single node until networking lands).
    #[arg(long)]
    mine: bool,
    /// Network id for net_version (defaults to the chain id).
    #[arg(long)]
    networkid: Option<u64>,
    /// Enable the HTTP JSON-RPC server.
    #[arg(long)]
    http: bool,
    #[arg(long = "http.addr", default_value = "127.0.0.1")]
    http_addr: String,
    #[arg(long = "http.port", default_value_t = 8545)]
    http_port: u16,
    /// Namespaces served over HTTP.
    #[arg(long = "http.api", default_value = "eth,net,web3")]
    http_api: String,
    /// Allowed CORS origins (comma separated, `*` for any).
    #[arg(long = "http.corsdomain", default_value = "")]
    http_cors: String,
    /// Enable the WebSocket JSON-RPC server.
    #[arg(long)]
    ws: bool,
    #[arg(long = "ws.addr", default_value = "127.0.0.1")]
    ws_addr: String,
    #[arg(long = "ws.port", default_value_t = 8546)]
    ws_port: u16,
    #[arg(long = "ws.api", default_value = "eth,net,web3")]
    ws_api: String,
    #[arg(long = "ws.origins", default_value = "")]
    ws_origins: String,
    /// Accounts to unlock (comma separated).
    #[arg(long, default_value = "")]
    unlock: String,
    /// File with one password per line, for --unlock.
    #[arg(long)]
    password: Option<PathBuf>,
    /// Accept legacy transactions without EIP-155 protection over RPC.
    #[arg(long = "rpc.allow-unprotected-txs")]
    allow_unprotected_txs: bool,
    /// Log JSON lines instead of text.
    #[arg(long = "log.json")]
    log_json: bool,
    /// Log level 0-5 (geth's scale).
    #[arg(long, default_value_t = 3)]
    verbosity: u8,
    /// geth flags accepted for compatibility and ignored here.
    #[arg(long, hide = true)]
    nodiscover: bool,
    #[arg(long = "syncmode", hide = true)]
    syncmode: Option<String>,
    #[arg(long = "gcmode", hide = true)]
    gcmode: Option<String>,
    #[arg(long = "miner.threads", hide = true)]
    miner_threads: Option<u32>,
    #[arg(long = "miner.gasprice", hide = true)]
    miner_gasprice: Option<String>,
    #[arg(long = "allow-insecure-unlock", hide = true)]
    allow_insecure_unlock: bool,
    #[arg(long = "http.vhosts", hide = true)]
    http_vhosts: Option<String>,
    #[arg(long = "revertreason", hide = true)]
    revertreason: bool,
}

fn endpoint(addr: &str, port: u16, apis: &str, cors: &str) -> eyre::Result<RpcEndpoint> {
    let addr: SocketAddr = format!("{addr}:{port}")
        .parse()
        .wrap_err_with(|| format!("bad listen address {addr}:{port}"))?;
    let split = |s: &str| {
        s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect::<Vec<_>>()
    };
    Ok(RpcEndpoint { addr, apis: split(apis), cors: split(cors) })
}

fn init_logging(json: bool, verbosity: u8) {
    let level = match verbosity {
        0 | 1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{level},jsonrpsee=warn")));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn node_config(a: &RunArgs, datadir: PathBuf) -> eyre::Result<NodeConfig> {
    let passwords: Vec<String> = match &a.password {
        Some(p) => std::fs::read_to_string(p)
            .wrap_err_with(|| format!("reading password file {}", p.display()))?
            .lines()
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    let mut unlock = Vec::new();
    for (i, s) in a.unlock.split(',').map(str::trim).filter(|s| !s.is_empty()).enumerate() {
        let address: Address = s.parse().wrap_err_with(|| format!("--unlock: bad address {s}"))?;
        let password = passwords
            .get(i)
            .or(passwords.last())
            .cloned()
            .ok_or_else(|| eyre!("--unlock needs --password"))?;
        unlock.push((address, password));
    }
    let consensus = if a.dev || a.mine {
        ConsensusChoice::Dev { period: Duration::from_secs(a.dev_period) }
    } else {
        ConsensusChoice::None
    };
    Ok(NodeConfig {
        datadir,
        network_id: a.networkid,
        http: a
            .http
            .then(|| endpoint(&a.http_addr, a.http_port, &a.http_api, &a.http_cors))
            .transpose()?,
        ws: a.ws.then(|| endpoint(&a.ws_addr, a.ws_port, &a.ws_api, &a.ws_origins)).transpose()?,
        consensus,
        dev: a.dev,
        unlock,
        allow_unprotected_txs: a.allow_unprotected_txs,
    })
}

#[tokio::main]
async fn main() -> eyre::Result<()> {
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
    let node = launch(node_config(a, datadir)?).await?;
    if let Some(url) = node.http_url() {
        println!("qnode listening http={url}");
    }
    if let Some(url) = node.ws_url() {
        println!("qnode listening ws={url}");
    }
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    tracing::info!(target: "node", "shutting down");
    node.stop().await
}
