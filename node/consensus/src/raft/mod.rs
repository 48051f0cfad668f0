//! The Raft engine (`--raft`): runs the sans-IO `qrs_raft::RaftNode` against the chain and the
//! libp2p network.
//!
//! - **Membership**: the initial cluster is `<datadir>/static-nodes.json` in order (raft id =
//!   index + 1, every enode with `?raftport=`); this node's raft id is the position of its own
//!   enode there, or `--raftjoinexisting N` after an existing member ran `raft_addPeer` /
//!   `raft_addLearner` for it. After the first start the membership comes from the Raft log.
//! - **Transport**: Raft messages travel on the node's libp2p connections (`Topic::Raft`), not on
//!   a separate `rafthttp` listener. `--raftport` therefore only *identifies* a member: it is
//!   written into enodes (`?raftport=`), checked for clashes by `raft_addPeer` and reported by
//!   `raft_cluster`, but nothing listens on it. A message is accepted only if its Raft `from`
//!   is the member whose node key authenticated the libp2p connection.
//! - **Storage**: log, hard state, `ConfState` and snapshots in MDBX under `<datadir>/raft/`
//!   (`qrs_raft::MdbxStorage`, durable before any message of the same step is sent).
//! - **Blocks**: the leader ("minter") builds only while transactions are pending, at most one
//!   block per `--raftblocktime` and one block in flight (see [`adapter`]), seals it with
//!   GoQuorum's Raft `extraData` and proposes its RLP; every node applies committed blocks in log
//!   order (the leader commits its executed block, followers re-execute and check the seal).
//! - **Timestamps**: seconds by default. GoQuorum writes nanoseconds, which ethers.js and
//!   web3.js cannot read (the value overflows their 53-bit numbers); [`RaftOptions::timestamp_unit`]
//!   selects nanoseconds for a chain that must stay byte-compatible with GoQuorum's.
//! - **Transactions** reach the leader's pool by the node's transaction gossip; the engine does
//!   not forward them itself.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects, clippy::indexing_slicing))]

pub mod adapter;
pub mod block;
mod driver;
pub mod fetch;
mod handle;
mod members;

use std::{
    collections::BTreeSet,
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::Duration,
};

use alloy_consensus::Header;
use futures::{FutureExt, future::BoxFuture};
use parking_lot::Mutex;
use qrs_chain::Chain;
use qrs_network::{NetworkEvent, NetworkHandle, Topic};
use qrs_raft::{MdbxStorage, RaftConfig, RaftNode};
use tokio::sync::{broadcast::error::RecvError, watch};

pub use handle::{RaftApiError, RaftHandle};
pub use members::{MintStats, RaftStatus};
pub use qrs_raft::{ClusterInfo, PeerAddress, TimestampUnit};

use crate::{BlockVerifier, ConsensusEngine, EngineDeps, EngineError};

use self::{
    adapter::{LogChain, Minter},
    block::check_raft_header,
    driver::Driver,
    fetch::Fetcher,
    handle::Input,
    members::Members,
};

/// Raft engine options (`--raft*` flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftOptions {
    /// `--raftport` (50400): this node's raft port as written in enodes. Only an identifier:
    /// Raft traffic uses the libp2p connections (see the module docs).
    pub raft_port: u16,
    /// `--raftblocktime` (50 ms): minimum time between two minted blocks.
    pub block_time: Duration,
    /// `--raftjoinexisting N`: join a running cluster as raft id `N`.
    pub join_existing: Option<u16>,
    /// Block timestamp unit (seconds by default; see the module docs).
    pub timestamp_unit: TimestampUnit,
    /// Raft tick (100 ms; election after 10 ticks without a leader, heartbeat every tick).
    pub tick_interval: Duration,
    /// `--raftdnsenable`: host names allowed in enodes.
    pub dns_enable: bool,
    /// `--raftlogdir`: where the Raft MDBX environment lives (default `<datadir>/raft`).
    pub log_dir: Option<PathBuf>,
    /// Snapshot and compact the log every this many applied entries (GoQuorum: 250). A member
    /// that falls further behind gets a snapshot and downloads the blocks it lacks.
    pub snapshot_period: u64,
}

impl Default for RaftOptions {
    fn default() -> Self {
        Self {
            raft_port: 50400,
            block_time: Duration::from_millis(50),
            join_existing: None,
            timestamp_unit: TimestampUnit::Seconds,
            tick_interval: Duration::from_millis(100),
            dns_enable: false,
            log_dir: None,
            snapshot_period: 250,
        }
    }
}

fn fatal(reason: impl std::fmt::Display) -> EngineError {
    EngineError::Fatal { engine: "raft", reason: reason.to_string() }
}

/// Checks the Raft seal of blocks that arrive by block sync: the sealer must be a current or
/// former cluster member, signing with its node key.
#[derive(Debug, Clone)]
pub struct RaftVerifier {
    members: Arc<Members>,
}

impl BlockVerifier for RaftVerifier {
    fn verify_header(&self, _chain: &Chain, header: &Header) -> Result<(), String> {
        check_raft_header(header, |id| self.members.known_key(id))
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// The Raft consensus engine, ready to run.
pub struct RaftEngine {
    node: RaftNode<LogChain, Minter>,
    options: RaftOptions,
    network: NetworkHandle,
    chain: Chain,
    members: Arc<Members>,
    inputs_tx: mpsc::Sender<Input>,
    inputs_rx: mpsc::Receiver<Input>,
}

impl std::fmt::Debug for RaftEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftEngine").field("node", &self.node).finish_non_exhaustive()
    }
}

impl RaftEngine {
    /// Opens the Raft log and sets up the node, with the initial members from
    /// `<datadir>/static-nodes.json` (or `<datadir>/geth/static-nodes.json`, as geth resolves
    /// it); needed unless the log exists or `join_existing` is set.
    pub fn new(options: RaftOptions, deps: EngineDeps) -> Result<Self, EngineError> {
        let mut path = deps.datadir.join("static-nodes.json");
        if !path.exists() {
            path = deps.datadir.join("geth").join("static-nodes.json");
        }
        let peers = match std::fs::read_to_string(&path) {
            Ok(json) => PeerAddress::from_static_nodes(&json).map_err(fatal)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(fatal(format!("{}: {e}", path.display()))),
        };
        Self::with_static_nodes(options, deps, peers)
    }

    /// [`RaftEngine::new`] with the initial members given.
    pub fn with_static_nodes(
        options: RaftOptions,
        deps: EngineDeps,
        static_nodes: Vec<PeerAddress>,
    ) -> Result<Self, EngineError> {
        let own_id = deps.node_key.enode_id();
        let raft_id = match options.join_existing {
            Some(id) => id,
            None => static_nodes
                .iter()
                .find(|p| p.node_id.as_slice() == own_id.as_slice())
                .map(|p| p.raft_id)
                .ok_or_else(|| {
                    fatal("this node's enode is not in static-nodes.json; start it with --raftjoinexisting <raft id> after raft_addPeer")
                })?,
        };
        let mut config = RaftConfig::new(raft_id);
        config.join_existing = options.join_existing.is_some();
        config.tick_interval = options.tick_interval;
        config.block_time = options.block_time;
        config.timestamp_unit = options.timestamp_unit;
        config.dns_enable = options.dns_enable;
        config.snapshot_period = options.snapshot_period.max(1);
        let log_dir = options.log_dir.clone().unwrap_or_else(|| deps.datadir.join("raft"));
        let storage = MdbxStorage::open(&log_dir).map_err(fatal)?;
        let members = Arc::new(Members::default());
        members.remember(static_nodes.iter());
        let key = secp256k1::SecretKey::from_byte_array(*deps.node_key.secret_bytes())
            .map_err(|e| fatal(format!("node key: {e}")))?;
        let minted = Arc::new(Mutex::new(Default::default()));
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| fatal("the raft engine must be created inside a tokio runtime"))?;
        let log_chain = LogChain {
            chain: deps.chain.clone(),
            members: members.clone(),
            minted: minted.clone(),
            fetcher: Fetcher { network: deps.network.clone(), runtime, raft_id },
        };
        let minter = Minter { chain: deps.chain.clone(), raft_id, key, minted };
        let node =
            RaftNode::start(config, storage, log_chain, minter, &static_nodes).map_err(fatal)?;
        members.set_current(node.peers());
        let (inputs_tx, inputs_rx) = mpsc::channel();
        tracing::info!(target: "consensus::raft", raft_id, dir = %log_dir.display(), "raft engine ready");
        Ok(Self {
            node,
            options,
            network: deps.network,
            chain: deps.chain,
            members,
            inputs_tx,
            inputs_rx,
        })
    }

    /// The RPC handle (valid before and while the engine runs).
    pub fn handle(&self) -> RaftHandle {
        RaftHandle { members: self.members.clone(), inputs: self.inputs_tx.clone() }
    }

    /// The block-sync verifier of this engine.
    pub fn verifier(&self) -> RaftVerifier {
        RaftVerifier { members: self.members.clone() }
    }
}

/// Forwards Raft messages to the driver and answers block requests (when the node has no
/// request handler of its own).
async fn forward_network(network: NetworkHandle, chain: Chain, inputs: mpsc::Sender<Input>) {
    let mut events = network.events();
    while let Some(event) = events.recv().await {
        let input = match event {
            NetworkEvent::Message { from, topic: Topic::Raft, bytes } => {
                Input::Raft { from, bytes }
            }
            NetworkEvent::Request { req, responder, .. } => {
                let chain = chain.clone();
                tokio::task::spawn_blocking(move || {
                    responder.respond(fetch::answer(&chain, &req, 1024));
                });
                continue;
            }
            _ => continue,
        };
        if inputs.send(input).is_err() {
            return;
        }
    }
}

/// Wakes the driver when transactions become pending (coalesced: one wake-up until handled).
async fn forward_pool(chain: Chain, inputs: mpsc::Sender<Input>, signal: Arc<AtomicBool>) {
    let mut pending = chain.pool().subscribe();
    loop {
        match pending.recv().await {
            Ok(_) | Err(RecvError::Lagged(_)) => {
                if !signal.swap(true, Ordering::AcqRel) && inputs.send(Input::PoolReady).is_err() {
                    return;
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

impl ConsensusEngine for RaftEngine {
    fn name(&self) -> &'static str {
        "raft"
    }

    fn run(
        self: Box<Self>,
        _chain: Chain,
        mut shutdown: watch::Receiver<bool>,
    ) -> BoxFuture<'static, Result<(), EngineError>> {
        async move {
            let engine = *self;
            let signal = Arc::new(AtomicBool::new(false));
            let tasks = [
                tokio::spawn(forward_network(
                    engine.network.clone(),
                    engine.chain.clone(),
                    engine.inputs_tx.clone(),
                )),
                tokio::spawn(forward_pool(engine.chain.clone(), engine.inputs_tx.clone(), signal.clone())),
            ];
            // Transactions already pending when the engine starts.
            let _ = engine.inputs_tx.send(Input::PoolReady);
            let stop = engine.inputs_tx.clone();
            let driver = Driver {
                node: engine.node,
                network: engine.network,
                members: engine.members,
                chain: engine.chain,
                inputs: engine.inputs_rx,
                pool_signal: signal,
                tick_interval: engine.options.tick_interval,
                block_time: engine.options.block_time,
                dialled: BTreeSet::new(),
                pool_dirty: true,
                last_mint: None,
                in_flight: None,
                stats: Default::default(),
                clock: driver::MintClock::new(),
            };
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            std::thread::Builder::new()
                .name("raft-driver".into())
                .spawn(move || {
                    let result = driver.run();
                    if let Err(e) = &result {
                        tracing::error!(target: "consensus::raft", error = %e, "raft engine stopped");
                    }
                    let _ = done_tx.send(result);
                })
                .map_err(|e| fatal(format!("spawning the raft driver: {e}")))?;
            let mut done_rx = done_rx;
            let result = loop {
                tokio::select! {
                    r = &mut done_rx => break r.map_err(|_| EngineError::Task("raft driver thread panicked".into()))?,
                    changed = shutdown.changed() => {
                        if changed.is_err() || *shutdown.borrow() {
                            let _ = stop.send(Input::Shutdown);
                            break (&mut done_rx).await.map_err(|_| EngineError::Task("raft driver thread panicked".into()))?;
                        }
                    }
                }
            };
            for t in tasks {
                t.abort();
                let _ = t.await;
            }
            result
        }
        .boxed()
    }
}
