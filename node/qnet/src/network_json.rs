//! `D/network.json`: every node, its endpoints, keys and files (paths relative to `D`).
//!
//! The required shape is `{chainId, consensus, nodes: [{name, role, rpc, ws, account,
//! accountKeyFile, tm?: {thirdParty, q2t, p2p, publicKey}}]}`; the other fields are extras that
//! `qnet up`/`status` and scripts use. `tm` is present only on nodes that have a TM.

use std::path::{Path, PathBuf};

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use crate::{
    error::QnetError,
    layout::{Consensus, Role},
};

/// The file name inside the network directory.
pub const NETWORK_JSON: &str = "network.json";

/// The whole file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NetworkJson {
    /// `config.chainId` of the genesis.
    pub chain_id: u64,
    /// `qbft` or `raft`.
    pub consensus: Consensus,
    /// The genesis file every node was initialised with.
    pub genesis: PathBuf,
    /// QBFT: seconds between blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_period: Option<u64>,
    /// Raft: `--raftblocktime` (milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft_block_time_ms: Option<u64>,
    /// Every node, validators first.
    pub nodes: Vec<NodeEntry>,
}

/// One node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeEntry {
    /// `validator1`, `rpcnode`, `member1`, ...
    pub name: String,
    /// `validator`, `rpcnode` or `member`.
    pub role: Role,
    /// HTTP JSON-RPC URL.
    pub rpc: String,
    /// WebSocket JSON-RPC URL.
    pub ws: String,
    /// The node's funded, unlocked account.
    pub account: Address,
    /// The account's private key (`0x` + 64 hex).
    pub account_key_file: PathBuf,
    /// The account's geth v3 key file.
    pub account_keystore_file: PathBuf,
    /// The account's password file (one line).
    pub account_password_file: PathBuf,
    /// The node key's address (the QBFT validator address for validators).
    pub node_address: Address,
    /// The GoQuorum `nodekey` file.
    pub nodekey_file: PathBuf,
    /// `enode://<id>@127.0.0.1:<p2pPort>?discport=0[&raftport=<raftPort>]`.
    pub enode: String,
    /// devp2p/libp2p port.
    pub p2p_port: u16,
    /// Raft transport port (Raft networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft_port: Option<u16>,
    /// Raft id: the 1-based position in `static-nodes.json` (Raft networks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raft_id: Option<u64>,
    /// `--datadir`.
    pub datadir: PathBuf,
    /// The qnode command line, one argument per line.
    pub flags_file: PathBuf,
    /// A script that runs qnode with those flags (from `D`).
    pub start_script: PathBuf,
    /// The node's transaction manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tm: Option<TmEntry>,
    /// Prometheus metrics URL (`http://127.0.0.1:<pprof.port>/debug/metrics/prometheus`); the
    /// TM's are at `<tm.p2p>/metrics`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
}

/// A transaction manager.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TmEntry {
    /// ThirdParty API URL (web3js-quorum's `privateUrl`).
    pub third_party: String,
    /// Q2T API URL (the node's `--ptm.url`).
    pub q2t: String,
    /// P2P API URL.
    pub p2p: String,
    /// The TM's base64 public key (`privateFor` / `privateFrom`).
    pub public_key: String,
    /// `tm.pub`.
    pub public_key_file: PathBuf,
    /// `tm.key` (unlocked Tessera key JSON).
    pub private_key_file: PathBuf,
    /// The Tessera-format config (`qtm --configfile`, run from `D`).
    pub config_file: PathBuf,
    /// A script that runs qtm with that config (from `D`).
    pub start_script: PathBuf,
}

impl NetworkJson {
    /// Reads `D/network.json`.
    pub fn load(dir: &Path) -> Result<Self, QnetError> {
        let path = dir.join(NETWORK_JSON);
        let text = std::fs::read_to_string(&path).map_err(|e| QnetError::io(&path, e))?;
        serde_json::from_str(&text).map_err(|source| QnetError::BadNetworkJson { path, source })
    }

    /// Writes `D/network.json` (pretty-printed).
    pub fn save(&self, dir: &Path) -> Result<(), QnetError> {
        let path = dir.join(NETWORK_JSON);
        let mut text = serde_json::to_string_pretty(self)
            .map_err(|source| QnetError::Json { path: path.clone(), source })?;
        text.push('\n');
        std::fs::write(&path, text).map_err(|e| QnetError::io(&path, e))
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodeEntry> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

impl NodeEntry {
    /// The node's qnode arguments, read from its flags file under `dir` (so edits to the file
    /// take effect). They are meant to run with `dir` as the working directory.
    pub fn qnode_args(&self, dir: &Path) -> Result<Vec<String>, QnetError> {
        let path = dir.join(&self.flags_file);
        let text = std::fs::read_to_string(&path).map_err(|e| QnetError::io(&path, e))?;
        Ok(text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }
}
