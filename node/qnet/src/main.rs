//! `qnet`: generate (and later run) a whole quorum-rs network.
//!
//! ```text
//! qnet init --dir D [--consensus qbft|raft] [--validators 4] [--members 3] [--chain-id 1337]
//!           [--block-period S] [--base-port P] [--lightkdf] [--force]
//! ```
// The summary printed after `init` is this binary's output.
#![allow(clippy::print_stdout)]

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use eyre::WrapErr as _;
use qrs_keystore::ScryptCost;
use qrs_qnet::{Consensus, InitOptions, Layout, NetworkSpec, PortScheme};

#[derive(Debug, Parser)]
#[command(name = "qnet", version, about = "A whole quorum-rs network (qnode + qtm) in one command")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConsensusArg {
    Qbft,
    Raft,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a network: keys, genesis, peer lists, TM configs, flags, docker-compose.yml
    /// and network.json, with every node's data directory initialised.
    Init {
        /// The network directory (created if missing; must be empty unless --force).
        #[arg(long)]
        dir: PathBuf,
        /// Consensus algorithm.
        #[arg(long, value_enum, default_value = "qbft")]
        consensus: ConsensusArg,
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Number of members (each with its own transaction manager).
        #[arg(long, default_value_t = 3)]
        members: usize,
        /// Chain id (and network id).
        #[arg(long = "chain-id", default_value_t = 1337)]
        chain_id: u64,
        /// QBFT: seconds between blocks (default 5). Raft: sets --raftblocktime to this many
        /// seconds (default 300 ms).
        #[arg(long = "block-period")]
        block_period: Option<u64>,
        /// Allocate every port in sequence from this one instead of the quickstart's ports.
        #[arg(long = "base-port")]
        base_port: Option<u16>,
        /// Cheap scrypt for the account key files (geth's --lightkdf); for throwaway networks.
        #[arg(long)]
        lightkdf: bool,
        /// Replace an earlier qnet network in --dir.
        #[arg(long)]
        force: bool,
        /// The quorum-rs checkout docker-compose builds images from (default: the one qnet
        /// was built from).
        #[arg(long)]
        repo: Option<PathBuf>,
    },
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn main() -> eyre::Result<()> {
    init_logging();
    let Command::Init {
        dir,
        consensus,
        validators,
        members,
        chain_id,
        block_period,
        base_port,
        lightkdf,
        force,
        repo,
    } = Cli::parse().command;
    let spec = NetworkSpec {
        consensus: match consensus {
            ConsensusArg::Qbft => Consensus::Qbft,
            ConsensusArg::Raft => Consensus::Raft,
        },
        validators,
        members,
        chain_id,
        block_period,
        ports: base_port.map_or(PortScheme::Quickstart, PortScheme::Compact),
    };
    let layout = Layout::new(spec).wrap_err("invalid network options")?;
    let repo = match repo {
        Some(repo) => std::fs::canonicalize(&repo)
            .wrap_err_with(|| format!("--repo {} (the quorum-rs checkout)", repo.display()))?,
        None => {
            let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            std::fs::canonicalize(&built_from).unwrap_or(built_from)
        }
    };
    let options = InitOptions {
        force,
        scrypt: if lightkdf { ScryptCost::Light } else { ScryptCost::Standard },
        repo,
    };
    let network = qrs_qnet::init(&dir, &layout, &options)
        .wrap_err_with(|| format!("qnet init --dir {}", dir.display()))?;
    println!(
        "{} network (chain id {}) written to {}",
        network.consensus,
        network.chain_id,
        dir.display()
    );
    println!("{:<12} {:<10} {:<24} {:<24} tm (ThirdParty)", "node", "role", "rpc", "ws");
    for n in &network.nodes {
        let tm = n.tm.as_ref().map_or("-", |t| t.third_party.as_str());
        println!("{:<12} {:<10} {:<24} {:<24} {tm}", n.name, n.role.to_string(), n.rpc, n.ws);
    }
    println!(
        "start a node: {}/<node>/start.sh (qtm: <member>/tm/start.sh), or docker compose up",
        dir.display()
    );
    Ok(())
}
