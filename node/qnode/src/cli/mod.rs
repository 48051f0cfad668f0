//! The `qnode` command line: geth / GoQuorum flags and their mapping to a [`NodeConfig`].
//!
//! Flags are grouped by subsystem; each group is a clap `Args` struct flattened into
//! [`RunArgs`]: [`NetFlags`] (p2p), [`QbftFlags`] (QBFT/IBFT), [`RaftFlags`] (Raft). A group
//! turns itself into the options its subsystem takes.

mod metrics;
mod net;
mod ptm;
mod qbft;
mod raft;
mod txpool;

use std::{net::SocketAddr, path::Path, path::PathBuf, time::Duration};

use alloy_primitives::Address;
use clap::{Args, Parser, Subcommand};
use eyre::{WrapErr, eyre};
use qrs_chainspec::{ChainSpec, ConsensusConfig};

pub use metrics::MetricsFlags;
pub use net::NetFlags;
pub use ptm::PtmFlags;
pub use qbft::QbftFlags;
pub use raft::RaftFlags;
pub use txpool::TxPoolFlags;

use crate::config::{ConsensusChoice, NodeConfig, RpcEndpoint};

/// `qnode [init ...] [flags]`.
#[derive(Debug, Parser)]
#[command(
    name = "qnode",
    version,
    about = "A GoQuorum-compatible EVM node",
    args_override_self = true
)]
pub struct Cli {
    /// Subcommand (none = run the node).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of a node run.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Writes the genesis block of a genesis.json into the data directory (like `geth init`).
    Init {
        /// Data directory.
        #[arg(long)]
        datadir: PathBuf,
        /// GoQuorum genesis.json.
        genesis: PathBuf,
    },
}

/// Flags of a node run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Data directory (a temporary one with --dev when omitted).
    #[arg(long)]
    pub datadir: Option<PathBuf>,
    /// Throwaway single-node chain with a funded, unlocked dev account.
    #[arg(long)]
    pub dev: bool,
    /// With --dev: seconds between blocks; 0 makes a block as soon as transactions are pending.
    #[arg(long = "dev.period", default_value_t = 0)]
    pub dev_period: u64,
    /// Make blocks: a QBFT/IBFT validator on an istanbul genesis, the dev engine otherwise.
    #[arg(long)]
    pub mine: bool,
    /// Network id for net_version (defaults to the chain id).
    #[arg(long)]
    pub networkid: Option<u64>,
    /// Enable the HTTP JSON-RPC server.
    #[arg(long)]
    pub http: bool,
    /// HTTP listen address.
    #[arg(long = "http.addr", default_value = "127.0.0.1")]
    pub http_addr: String,
    /// HTTP port.
    #[arg(long = "http.port", default_value_t = 8545)]
    pub http_port: u16,
    /// Namespaces served over HTTP.
    #[arg(long = "http.api", default_value = "eth,net,web3")]
    pub http_api: String,
    /// Allowed CORS origins (comma separated, `*` for any).
    #[arg(long = "http.corsdomain", default_value = "")]
    pub http_cors: String,
    /// Enable the WebSocket JSON-RPC server.
    #[arg(long)]
    pub ws: bool,
    /// WebSocket listen address.
    #[arg(long = "ws.addr", default_value = "127.0.0.1")]
    pub ws_addr: String,
    /// WebSocket port.
    #[arg(long = "ws.port", default_value_t = 8546)]
    pub ws_port: u16,
    /// Namespaces served over WebSocket.
    #[arg(long = "ws.api", default_value = "eth,net,web3")]
    pub ws_api: String,
    /// Allowed WebSocket origins.
    #[arg(long = "ws.origins", default_value = "")]
    pub ws_origins: String,
    /// Accounts to unlock (comma separated).
    #[arg(long, default_value = "")]
    pub unlock: String,
    /// File with one password per line, for --unlock.
    #[arg(long)]
    pub password: Option<PathBuf>,
    /// Accept legacy transactions without EIP-155 protection over RPC.
    #[arg(long = "rpc.allow-unprotected-txs")]
    pub allow_unprotected_txs: bool,
    /// Log JSON lines instead of text.
    #[arg(long = "log.json")]
    pub log_json: bool,
    /// Log level 0-5 (geth's scale).
    #[arg(long, default_value_t = 3)]
    pub verbosity: u8,
    /// Peer-to-peer networking flags.
    #[command(flatten)]
    pub net: NetFlags,
    /// QBFT / IBFT flags.
    #[command(flatten)]
    pub qbft: QbftFlags,
    /// Raft flags.
    #[command(flatten)]
    pub raft: RaftFlags,
    /// Private transaction manager flags (`--ptm.*`; `PRIVATE_CONFIG` as the fallback).
    #[command(flatten)]
    pub ptm: PtmFlags,
    /// Metrics, pprof and `--emitcheckpoints` flags.
    #[command(flatten)]
    pub metrics: MetricsFlags,
    /// Transaction pool limits (`--txpool.*`).
    #[command(flatten)]
    pub txpool: TxPoolFlags,
    /// geth flags accepted for compatibility and ignored here.
    #[arg(long = "syncmode", hide = true)]
    pub syncmode: Option<String>,
    /// Blockchain garbage collection mode ("full", "archive"). `archive` (our default) keeps
    /// the state of every block on disk; `full` (GoQuorum's default) persists the state only at
    /// flush points (every 32 blocks and at shutdown) and keeps the newer blocks' states in
    /// memory. GoQuorum's full mode re-executes blocks to trace old transactions; qnode does
    /// not, hence archive by default.
    #[arg(long = "gcmode", value_parser = parse_gcmode, default_value = "archive")]
    pub gcmode: GcMode,
    #[arg(long = "miner.threads", hide = true)]
    #[doc(hidden)]
    pub miner_threads: Option<u32>,
    #[arg(long = "miner.gasprice", hide = true)]
    #[doc(hidden)]
    pub miner_gasprice: Option<String>,
    #[arg(long = "allow-insecure-unlock", hide = true)]
    #[doc(hidden)]
    pub allow_insecure_unlock: bool,
    #[arg(long = "http.vhosts", hide = true)]
    #[doc(hidden)]
    pub http_vhosts: Option<String>,
    #[arg(long = "revertreason", hide = true)]
    #[doc(hidden)]
    pub revertreason: bool,
}

fn endpoint(addr: &str, port: u16, apis: &str, cors: &str) -> eyre::Result<RpcEndpoint> {
    let addr: SocketAddr = format!("{addr}:{port}")
        .parse()
        .wrap_err_with(|| format!("bad listen address {addr}:{port}"))?;
    Ok(RpcEndpoint { addr, apis: split_list(apis), cors: split_list(cors) })
}

/// Splits a comma-separated flag value, dropping empty items.
pub(crate) fn split_list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect()
}

/// Installs the tracing subscriber (stderr) at geth's `--verbosity` level.
pub fn init_logging(json: bool, verbosity: u8) {
    let level = match verbosity {
        0 | 1 => "error",
        2 => "warn",
        3 => "info",
        4 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},jsonrpsee=warn,libp2p=warn"))
    });
    // colours only on a terminal: log files keep geth's plain `key=value` (what users grep for
    // QUORUM-CHECKPOINT lines)
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// The consensus section of the genesis `qnode init` stored in `datadir`, if any.
fn genesis_consensus(datadir: &Path) -> Option<ConsensusConfig> {
    let spec = ChainSpec::from_file(&crate::launch::genesis_path(datadir)).ok()?;
    Some(spec.consensus().clone())
}

impl RunArgs {
    /// Which engine makes blocks. This is the one place flags select an engine:
    /// `--raft` → Raft; `--dev` → dev; `--mine` → QBFT on an istanbul (QBFT/IBFT) genesis, the
    /// dev engine on any other; nothing → follow the chain (block sync only).
    pub fn consensus(&self, datadir: &Path) -> eyre::Result<ConsensusChoice> {
        let dev = ConsensusChoice::Dev { period: Duration::from_secs(self.dev_period) };
        if self.raft.raft {
            return Ok(ConsensusChoice::Raft(self.raft.options()?));
        }
        if self.dev {
            return Ok(dev);
        }
        if !self.mine {
            return Ok(ConsensusChoice::None);
        }
        Ok(match genesis_consensus(datadir) {
            Some(
                ConsensusConfig::Qbft(_) | ConsensusConfig::Ibft(_) | ConsensusConfig::Istanbul(_),
            ) => ConsensusChoice::Qbft(self.qbft.options()?),
            _ => dev,
        })
    }

    /// The node configuration these flags describe.
    pub fn node_config(&self, datadir: PathBuf) -> eyre::Result<NodeConfig> {
        let passwords: Vec<String> = match &self.password {
            Some(p) => std::fs::read_to_string(p)
                .wrap_err_with(|| format!("reading password file {}", p.display()))?
                .lines()
                .map(str::to_string)
                .collect(),
            None => Vec::new(),
        };
        let mut unlock = Vec::new();
        for (i, s) in split_list(&self.unlock).iter().enumerate() {
            let address: Address =
                s.parse().wrap_err_with(|| format!("--unlock: bad address {s}"))?;
            let password = passwords
                .get(i)
                .or(passwords.last())
                .cloned()
                .ok_or_else(|| eyre!("--unlock needs --password"))?;
            unlock.push((address, password));
        }
        let a = self;
        Ok(NodeConfig {
            consensus: self.consensus(&datadir)?,
            network: self.net.options(self.dev)?,
            datadir,
            network_id: a.networkid,
            http: a
                .http
                .then(|| endpoint(&a.http_addr, a.http_port, &a.http_api, &a.http_cors))
                .transpose()?,
            ws: a
                .ws
                .then(|| endpoint(&a.ws_addr, a.ws_port, &a.ws_api, &a.ws_origins))
                .transpose()?,
            dev: a.dev,
            unlock,
            txpool: a.txpool.config(a.allow_unprotected_txs),
            ptm: a.ptm.config()?,
            privacy_marker: a.ptm.privacy_marker,
            metrics: a.metrics.listen_addrs()?,
            emit_checkpoints: a.metrics.emitcheckpoints,
            archive: a.gcmode == GcMode::Archive,
        })
    }
}

/// `--gcmode`: which states stay readable on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcMode {
    /// Only the states at flush points (GoQuorum's default).
    Full,
    /// Every block's state.
    Archive,
}

/// GoQuorum's check and wording (`cmd/utils/flags.go`).
fn parse_gcmode(value: &str) -> Result<GcMode, String> {
    match value {
        "full" => Ok(GcMode::Full),
        "archive" => Ok(GcMode::Archive),
        _ => Err("--gcmode must be either 'full' or 'archive'".into()),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn gcmode(args: &[&str]) -> Result<GcMode, clap::Error> {
        Cli::try_parse_from(std::iter::once("qnode").chain(args.iter().copied()))
            .map(|c| c.run.gcmode)
    }

    #[test]
    fn gcmode_is_archive_by_default_and_takes_full_or_archive_only() {
        assert_eq!(gcmode(&[]).unwrap(), GcMode::Archive);
        assert_eq!(gcmode(&["--gcmode", "full"]).unwrap(), GcMode::Full);
        assert_eq!(gcmode(&["--gcmode=archive"]).unwrap(), GcMode::Archive);
        let err = gcmode(&["--gcmode", "light"]).unwrap_err().to_string();
        assert!(err.contains("--gcmode must be either 'full' or 'archive'"), "{err}");
    }
}
