//! `qnet`: generate and run a whole quorum-rs network.
//!
//! ```text
//! qnet init   --dir D [--consensus qbft|raft] [--validators 4] [--members 3] [--chain-id 1337]
//!             [--block-period S] [--base-port P] [--lightkdf] [--force] [--repo PATH]
//! qnet up     --dir D [the init options, used when D is empty] [--detach] [--bin-dir B] [--timeout S]
//! qnet status --dir D
//! qnet down   --dir D
//! qnet add-node --dir D [--role member|validator|rpcnode] [--name N] [--with-tm|--no-tm]
//! qnet bench  --dir D [--tps N] [--duration S] [--workload erc20|storage] [--private --parties K]
//! ```
// The tables printed are this binary's output.
#![allow(clippy::print_stdout)]

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Parser, Subcommand, ValueEnum};
use eyre::WrapErr as _;
use qrs_keystore::ScryptCost;
use qrs_qnet::{
    Consensus, Forks, InitOptions, Layout, NetworkJson, NetworkSpec, PortScheme,
    run::{NetworkStatus, UpOptions, down, probe::Probe, status::summary_table, up},
};

#[derive(Debug, Parser)]
#[command(name = "qnet", version, about = "A whole quorum-rs network (qnode + qtm) in one command")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ForksArg {
    Latest,
    Quickstart,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum WorkloadArg {
    Erc20,
    Storage,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ConsensusArg {
    Qbft,
    Raft,
}

/// The network to generate.
#[derive(Debug, Args)]
struct InitArgs {
    /// The network directory (created if missing).
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
    /// EVM forks of the genesis: `latest` (through Prague, for today's solc) or `quickstart`
    /// (the quickstart's genesis exactly: GoQuorum's EVM, Berlin at block 10,000,000).
    #[arg(long, value_enum, default_value = "latest")]
    forks: ForksArg,
    /// Cheap scrypt for the account key files (geth's --lightkdf); for throwaway networks.
    #[arg(long)]
    lightkdf: bool,
    /// The quorum-rs checkout docker-compose builds images from (default: the one qnet
    /// was built from).
    #[arg(long)]
    repo: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a network: keys, genesis, peer lists, TM configs, flags, docker-compose.yml
    /// and network.json, with every node's data directory initialised.
    Init {
        #[command(flatten)]
        network: InitArgs,
        /// Replace an earlier qnet network in --dir (never deletes any other directory).
        #[arg(long)]
        force: bool,
    },
    /// Start the network in --dir (generating it first when the directory is empty or
    /// missing): every TM, then every node that is not running; wait until all are healthy,
    /// print a summary; stay in the foreground until Ctrl-C (which stops everything), or
    /// return with --detach.
    Up {
        #[command(flatten)]
        network: InitArgs,
        /// Return once healthy and leave the processes running (`qnet down` stops them).
        #[arg(long)]
        detach: bool,
        /// Where qnode and qtm are (default: next to qnet, then $PATH).
        #[arg(long = "bin-dir")]
        bin_dir: Option<PathBuf>,
        /// Seconds the network may take to become healthy.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
    /// Add a node to the running network in --dir: keys, TM, peer lists of every node,
    /// admin_addPeer, istanbul_propose (QBFT validator) or raft_addPeer (Raft); starts it
    /// detached and waits until it is synced and the network healthy.
    AddNode(AddNodeArgs),
    /// Show every node (head, peers, validator or raft role, TM and known TM keys); exits
    /// non-zero when something is unhealthy.
    Status {
        /// The network directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Stop every process `qnet up` started in --dir (nodes first, then TMs).
    Down {
        /// The network directory.
        #[arg(long)]
        dir: PathBuf,
    },
    /// Load a running network with pre-signed transactions and write D/bench/<time>.json
    /// (offered and achieved TPS, latency percentiles, per-node CPU and memory) and .svg.
    Bench(BenchArgs),
}

/// `qnet bench` options.
#[derive(Debug, Args)]
struct BenchArgs {
    /// The network directory (started with `qnet up`).
    #[arg(long)]
    dir: PathBuf,
    /// Offered rate in transactions per second over all nodes (default: as fast as the
    /// network accepts).
    #[arg(long)]
    tps: Option<u64>,
    /// Seconds of submission.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Public load: ERC-20 transfers or SimpleStorage sets.
    #[arg(long, value_enum, default_value = "erc20")]
    workload: WorkloadArg,
    /// Private SimpleStorage sets between members (node-signed, privateFor).
    #[arg(long)]
    private: bool,
    /// With --private: recipient members per transaction.
    #[arg(long, default_value_t = 1)]
    parties: usize,
    /// Transactions to prepare (default: tps x duration, or 1000 x duration without --tps).
    #[arg(long)]
    txs: Option<usize>,
    /// Seconds to wait for inclusion after the last submission.
    #[arg(long, default_value_t = 60)]
    wait: u64,
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn layout_and_options(args: &InitArgs, force: bool) -> eyre::Result<(Layout, InitOptions)> {
    let spec = NetworkSpec {
        consensus: match args.consensus {
            ConsensusArg::Qbft => Consensus::Qbft,
            ConsensusArg::Raft => Consensus::Raft,
        },
        validators: args.validators,
        members: args.members,
        chain_id: args.chain_id,
        block_period: args.block_period,
        ports: args.base_port.map_or(PortScheme::Quickstart, PortScheme::Compact),
        forks: match args.forks {
            ForksArg::Latest => Forks::Latest,
            ForksArg::Quickstart => Forks::Quickstart,
        },
    };
    let layout = Layout::new(spec).wrap_err("invalid network options")?;
    let repo = match &args.repo {
        Some(repo) => std::fs::canonicalize(repo)
            .wrap_err_with(|| format!("--repo {} (the quorum-rs checkout)", repo.display()))?,
        None => {
            let built_from = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            std::fs::canonicalize(&built_from).unwrap_or(built_from)
        }
    };
    let scrypt = if args.lightkdf { ScryptCost::Light } else { ScryptCost::Standard };
    Ok((layout, InitOptions { force, scrypt, repo }))
}

fn report(line: &str) {
    eprintln!("qnet: {line}");
}

/// Prints an error and its causes (each once), without eyre's location and backtrace: these
/// are user errors, not bugs.
fn print_error(err: &eyre::Report) {
    let mut shown = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !shown.contains(&text) {
            eprintln!("{}{text}", if shown.is_empty() { "error: " } else { "  caused by: " });
            shown.push_str(&text);
        }
    }
}

fn main() -> ExitCode {
    init_logging();
    match run(Cli::parse().command) {
        Ok(code) => code,
        Err(err) => {
            print_error(&err);
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> eyre::Result<ExitCode> {
    match command {
        Command::Init { network, force } => {
            let (layout, options) = layout_and_options(&network, force)?;
            let dir = &network.dir;
            let net = qrs_qnet::init(dir, &layout, &options)
                .wrap_err_with(|| format!("qnet init --dir {}", dir.display()))?;
            println!(
                "{} network (chain id {}) written to {}",
                net.consensus,
                net.chain_id,
                dir.display()
            );
            println!("{:<12} {:<10} {:<24} {:<24} tm (ThirdParty)", "node", "role", "rpc", "ws");
            for n in &net.nodes {
                let tm = n.tm.as_ref().map_or("-", |t| t.third_party.as_str());
                println!(
                    "{:<12} {:<10} {:<24} {:<24} {tm}",
                    n.name,
                    n.role.to_string(),
                    n.rpc,
                    n.ws
                );
            }
            println!("run it: qnet up --dir {}", dir.display());
        }
        Command::Up { network, detach, bin_dir, timeout } => {
            let (layout, init_options) = layout_and_options(&network, false)?;
            let dir = &network.dir;
            let options = UpOptions { bin_dir, timeout: Duration::from_secs(timeout) };
            let started = up(dir, (&layout, &init_options), &options, &mut |l| report(l))
                .wrap_err_with(|| format!("qnet up --dir {}", dir.display()))?;
            println!(
                "{} network (chain id {}) in {} is up",
                started.net.consensus,
                started.net.chain_id,
                dir.display()
            );
            print!("{}", summary_table(&started.net, &started.status));
            if detach {
                println!(
                    "running in the background: qnet status --dir {0}; qnet down --dir {0}",
                    dir.display()
                );
                started.detach();
            } else {
                println!("logs in {}/logs; Ctrl-C stops the network", dir.display());
                started.run_until_signal(&mut |l| report(l));
            }
        }
        Command::AddNode(args) => add_node(args)?,
        Command::Status { dir } => {
            let net = NetworkJson::load(&dir)?;
            let probe = Probe::new().map_err(|e| eyre::eyre!(e))?;
            let status = NetworkStatus::collect(&dir, &net, &probe);
            print!("{}", status.table());
            if !status.healthy() {
                for problem in status.problems() {
                    eprintln!("unhealthy: {problem}");
                }
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Bench(args) => {
            let opts = qrs_qnet::bench::BenchOptions {
                tps: args.tps,
                duration: Duration::from_secs(args.duration),
                private: args.private,
                parties: args.parties,
                workload: match args.workload {
                    WorkloadArg::Erc20 => qrs_qnet::bench::WorkloadKind::Erc20,
                    WorkloadArg::Storage => qrs_qnet::bench::WorkloadKind::Storage,
                },
                txs: args.txs,
                wait: Duration::from_secs(args.wait),
            };
            let out = qrs_qnet::bench::run(&args.dir, &opts, &mut |l| report(l))
                .wrap_err_with(|| format!("qnet bench --dir {}", args.dir.display()))?;
            let r = &out.report;
            println!(
                "{}: offered {} tx/s, achieved {} tx/s; {} submitted, {} included, {} rejected, {} pending; \
                 latency p50 {} ms, p90 {} ms, p99 {} ms",
                r.config.workload,
                r.offered_tps,
                r.achieved_tps,
                r.submitted,
                r.included,
                r.rejected,
                r.pending,
                r.latency_ms.p50,
                r.latency_ms.p90,
                r.latency_ms.p99
            );
            if let Some(e) = &r.first_error {
                println!("first rejection: {e}");
            }
            println!("report: {}\nchart:  {}", out.json.display(), out.svg.display());
        }
        Command::Down { dir } => {
            let stopped = down(&dir, &mut |l| report(l))
                .wrap_err_with(|| format!("qnet down --dir {}", dir.display()))?;
            if stopped.is_empty() {
                println!("nothing was running in {}", dir.display());
            } else {
                println!("stopped {}", stopped.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    Member,
    Validator,
    Rpcnode,
}

/// `qnet add-node` options.
#[derive(Debug, Args)]
struct AddNodeArgs {
    /// The network directory (running, started with `qnet up --detach`).
    #[arg(long)]
    dir: PathBuf,
    /// The new node's role.
    #[arg(long, value_enum, default_value = "member")]
    role: RoleArg,
    /// Its name (default: the role and the next free number, e.g. member4).
    #[arg(long)]
    name: Option<String>,
    /// Give it a transaction manager (members always get one unless --no-tm).
    #[arg(long = "with-tm", conflicts_with = "no_tm")]
    with_tm: bool,
    /// A member without a transaction manager.
    #[arg(long = "no-tm")]
    no_tm: bool,
    /// Where qnode and qtm are (default: next to qnet, then $PATH).
    #[arg(long = "bin-dir")]
    bin_dir: Option<PathBuf>,
    /// Seconds joining may take.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// Cheap scrypt for the account key file (geth's --lightkdf).
    #[arg(long)]
    lightkdf: bool,
}

fn add_node(args: AddNodeArgs) -> eyre::Result<()> {
    use qrs_qnet::{Role, add_node::AddNodeOptions};
    let options = AddNodeOptions {
        role: match args.role {
            RoleArg::Member => Role::Member,
            RoleArg::Validator => Role::Validator,
            RoleArg::Rpcnode => Role::Rpcnode,
        },
        name: args.name,
        with_tm: if args.with_tm { Some(true) } else { args.no_tm.then_some(false) },
        bin_dir: args.bin_dir,
        timeout: Duration::from_secs(args.timeout),
        scrypt: if args.lightkdf { ScryptCost::Light } else { ScryptCost::Standard },
    };
    let dir = &args.dir;
    let added = qrs_qnet::add_node::add_node(dir, &options, &mut |l| report(l))
        .wrap_err_with(|| format!("qnet add-node --dir {}", dir.display()))?;
    let n = &added.node;
    println!(
        "added {} ({}) to the {} network in {}",
        n.name,
        n.role,
        added.net.consensus,
        dir.display()
    );
    println!("enode: {}", n.enode);
    if let Some(tm) = &n.tm {
        println!("tm public key: {}", tm.public_key);
    }
    if let Some(id) = n.raft_id {
        println!("raft id: {id}");
    }
    print!("{}", summary_table(&added.net, &added.status));
    println!("qnet status --dir {0} and qnet down --dir {0} include it", dir.display());
    Ok(())
}
