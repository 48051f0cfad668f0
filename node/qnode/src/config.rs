//! Node configuration (built from the CLI or by tests).

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use alloy_primitives::Address;
use qrs_network::{Enode, NodeKey};

/// One JSON-RPC server (HTTP and WebSocket are both served on each port).
#[derive(Debug, Clone)]
pub struct RpcEndpoint {
    /// Listen address; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Namespaces (`eth`, `net`, ...).
    pub apis: Vec<String>,
    /// CORS origins.
    pub cors: Vec<String>,
}

/// Which engine makes blocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsensusChoice {
    /// `--dev`: instantly, or every period.
    Dev {
        /// `--dev.period` (0 = when transactions are pending).
        period: Duration,
    },
    /// QBFT / IBFT validator (`--mine` on a genesis with `config.qbft` or `config.istanbul`).
    Qbft(qrs_consensus::qbft::QbftOptions),
    /// Raft (`--raft`).
    Raft(qrs_consensus::raft::RaftOptions),
    /// No local block production: the node follows the chain through block sync.
    None,
}

/// Peer-to-peer networking (GoQuorum's p2p flags and files).
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// TCP listen address (`--port`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// The node key; `None` = `<datadir>/geth/nodekey` (or a legacy `<datadir>/nodekey`),
    /// generated on first start as geth does.
    pub node_key: Option<NodeKey>,
    /// Peers dialled in addition to `<datadir>/static-nodes.json` (`--bootnodes`).
    pub extra_static_nodes: Vec<Enode>,
    /// `--permissioned`: enforce `<datadir>/permissioned-nodes.json` (and
    /// `disallowed-nodes.json`) on inbound and outbound connections.
    pub permissioned: bool,
    /// `--maxpeers`.
    pub max_peers: usize,
    /// Host written into our enode URL (default: the listen IP, or 127.0.0.1 when unspecified).
    pub advertised_host: Option<String>,
}

impl NetworkOptions {
    /// Loopback, port 0, a fresh key: what in-process tests use.
    pub fn local_test() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            node_key: Some(NodeKey::generate()),
            extra_static_nodes: Vec::new(),
            permissioned: false,
            max_peers: 50,
            advertised_host: None,
        }
    }
}

/// Everything needed to start a node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Data directory (`chaindata/`, `keystore/`, `qnode/genesis.json`).
    pub datadir: PathBuf,
    /// `net_version` (defaults to the chain id).
    pub network_id: Option<u64>,
    /// HTTP JSON-RPC server.
    pub http: Option<RpcEndpoint>,
    /// WebSocket JSON-RPC server (may share the HTTP port).
    pub ws: Option<RpcEndpoint>,
    /// The block producer.
    pub consensus: ConsensusChoice,
    /// `--dev`: a throwaway chain with a funded, unlocked dev account.
    pub dev: bool,
    /// Accounts to unlock at start, with their passwords.
    pub unlock: Vec<(Address, String)>,
    /// Transaction pool limits, and whether RPC accepts legacy transactions without EIP-155
    /// replay protection.
    pub txpool: qrs_txpool::PoolConfig,
    /// p2p networking; `None` = no network (a single node).
    pub network: Option<NetworkOptions>,
    /// The private transaction manager (`--ptm.*`, `PRIVATE_CONFIG`); `None` = no TM: this node
    /// is party to no private transaction.
    pub ptm: Option<qrs_ptm::PtmConfig>,
    /// `--privacymarker.enable`: private transactions sent through this node's RPC become
    /// privacy marker transactions.
    pub privacy_marker: bool,
    /// Where `/debug/metrics` and `/debug/metrics/prometheus` are served (`--metrics` with
    /// `--pprof.*` / `--metrics.addr`); empty = no metrics server.
    pub metrics: Vec<SocketAddr>,
    /// `--emitcheckpoints`: print GoQuorum's `QUORUM-CHECKPOINT` lines.
    pub emit_checkpoints: bool,
    /// `--gcmode archive` (the default): every block's state stays readable on disk; `false`
    /// (`--gcmode full`) persists only the states at flush points.
    pub archive: bool,
}

impl NodeConfig {
    /// A dev node on loopback port 0 with every namespace: what tests use.
    pub fn dev_test(datadir: PathBuf) -> Self {
        let apis: Vec<String> = qrs_rpc::ALL_APIS.iter().map(|s| s.to_string()).collect();
        let local = |apis: Vec<String>| RpcEndpoint {
            addr: "127.0.0.1:0".parse().unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0))),
            apis,
            cors: vec!["*".into()],
        };
        Self {
            datadir,
            network_id: None,
            http: Some(local(apis.clone())),
            ws: Some(local(apis)),
            consensus: ConsensusChoice::Dev { period: Duration::ZERO },
            dev: true,
            unlock: Vec::new(),
            txpool: qrs_txpool::PoolConfig::default(),
            network: None,
            ptm: None,
            privacy_marker: false,
            metrics: Vec::new(),
            emit_checkpoints: false,
            archive: true,
        }
    }
}
