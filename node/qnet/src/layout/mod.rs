//! The shape of a network: node names, roles, ports and the paths of every generated file.
//!
//! Everything here is pure computation (no IO) so `init`, `up` and the tests agree on where a
//! file lives and which port a server listens on. Paths are relative to the network directory
//! `D`; every process runs with `D` as its working directory, so the same files work on the host
//! and in the docker-compose containers (which mount `D` at the same relative root).

use std::{collections::BTreeMap, fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::QnetError;

mod ports;

use ports::{compact_ports, quickstart_ports};

/// The host every server binds to and every URL names.
pub const HOST: &str = "127.0.0.1";

/// Consensus algorithm of the generated network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Consensus {
    /// QBFT (GoQuorum `config.qbft`), validators listed in the genesis extraData.
    Qbft,
    /// Raft (`--raft`), members from `static-nodes.json`.
    Raft,
}

impl fmt::Display for Consensus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Qbft => "qbft",
            Self::Raft => "raft",
        })
    }
}

/// A node's role, as `network.json` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// A QBFT validator (or a Raft member of the validator group).
    Validator,
    /// The non-validating RPC node (the quickstart's `rpcnode`, on 8545/8546).
    Rpcnode,
    /// A member node with its own transaction manager.
    Member,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Validator => "validator",
            Self::Rpcnode => "rpcnode",
            Self::Member => "member",
        })
    }
}

/// Where the port ranges start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortScheme {
    /// The quickstart's host ports: validators 21001.., rpcnode 8545/8546, members
    /// 20000/20001.., TMs ThirdParty 9081.., Q2T 9101.., P2P 9001.., devp2p 30303.., raft 53000...
    Quickstart,
    /// Every port allocated in sequence from this base (tests pick a free range this way).
    Compact(u16),
}

/// Ports of one transaction manager.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TmPorts {
    /// ThirdParty API (web3js-quorum's `privateUrl`).
    pub third_party: u16,
    /// Q2T API (the node's `--ptm.url`).
    pub q2t: u16,
    /// P2P API (other TMs).
    pub p2p: u16,
}

/// One node of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodePlan {
    /// `validator1`, `rpcnode`, `member1`, ...
    pub name: String,
    /// Its role.
    pub role: Role,
    /// HTTP JSON-RPC port.
    pub http_port: u16,
    /// WebSocket JSON-RPC port (validators share the HTTP port).
    pub ws_port: u16,
    /// devp2p / libp2p listen port (`--port`).
    pub p2p_port: u16,
    /// `--raftport` (Raft networks only).
    pub raft_port: Option<u16>,
    /// The node's transaction manager (members only).
    pub tm: Option<TmPorts>,
}

impl NodePlan {
    /// `http://127.0.0.1:<http_port>`.
    pub fn rpc_url(&self) -> String {
        format!("http://{HOST}:{}", self.http_port)
    }

    /// `ws://127.0.0.1:<ws_port>`.
    pub fn ws_url(&self) -> String {
        format!("ws://{HOST}:{}", self.ws_port)
    }

    /// The node's directory, which is also its `--datadir`.
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(&self.name)
    }

    /// A file in the node's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir().join(name)
    }

    /// `<name>/nodekey`: the GoQuorum node key (64 hex characters).
    pub fn nodekey(&self) -> PathBuf {
        self.file("nodekey")
    }

    /// `<name>/accountKeystore`: the account's v3 key file (also copied into `keystore/`).
    pub fn account_keystore(&self) -> PathBuf {
        self.file("accountKeystore")
    }

    /// `<name>/accountPassword`.
    pub fn account_password(&self) -> PathBuf {
        self.file("accountPassword")
    }

    /// `<name>/accountPrivateKey` (`0x` + 64 hex).
    pub fn account_private_key(&self) -> PathBuf {
        self.file("accountPrivateKey")
    }

    /// `<name>/keystore`: where qnode (like geth) looks for key files.
    pub fn keystore_dir(&self) -> PathBuf {
        self.file("keystore")
    }

    /// `<name>/qnode.flags`: the node's command line, one argument per line.
    pub fn flags_file(&self) -> PathBuf {
        self.file("qnode.flags")
    }

    /// `<name>/start.sh`: runs qnode with those flags from the network directory.
    pub fn start_script(&self) -> PathBuf {
        self.file("start.sh")
    }

    /// `<name>/tm`: the transaction manager's directory.
    pub fn tm_dir(&self) -> PathBuf {
        self.file("tm")
    }

    /// `<name>/tm/tm.pub`.
    pub fn tm_public_key(&self) -> PathBuf {
        self.tm_dir().join("tm.pub")
    }

    /// `<name>/tm/tm.key`.
    pub fn tm_private_key(&self) -> PathBuf {
        self.tm_dir().join("tm.key")
    }

    /// `<name>/tm/tessera-config.json`.
    pub fn tm_config(&self) -> PathBuf {
        self.tm_dir().join("tessera-config.json")
    }

    /// `<name>/tm/start.sh`.
    pub fn tm_start_script(&self) -> PathBuf {
        self.tm_dir().join("start.sh")
    }

    /// The TM's database location as an H2 JDBC URL (qtm maps it to `<name>/tm/db.sqlite`).
    pub fn tm_jdbc_url(&self) -> String {
        format!("jdbc:h2:./{}/tm/db;MODE=Oracle;TRACE_LEVEL_SYSTEM_OUT=0", self.name)
    }
}

/// What `qnet init` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    /// Consensus algorithm.
    pub consensus: Consensus,
    /// Number of validators (≥ 1).
    pub validators: usize,
    /// Number of members, each with a TM.
    pub members: usize,
    /// `config.chainId` (and `--networkid`).
    pub chain_id: u64,
    /// QBFT: seconds between blocks. Raft: `--raftblocktime` is this many seconds when given.
    pub block_period: Option<u64>,
    /// Where ports start.
    pub ports: PortScheme,
    /// Which EVM forks the genesis enables.
    pub forks: Forks,
}

/// The EVM forks of the generated genesis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Forks {
    /// Everything through Prague from genesis (Berlin at block 0, Shanghai/Cancun/Prague at time
    /// 0), so contracts from today's solc (PUSH0, MCOPY, TLOAD/TSTORE) deploy.
    #[default]
    Latest,
    /// The quickstart's genesis exactly: through Muir Glacier (London at 0), Berlin at block
    /// 10,000,000; GoQuorum's EVM. solc >= 0.8.20 needs `evmVersion: "london"` or older.
    Quickstart,
}

impl Default for NetworkSpec {
    fn default() -> Self {
        Self {
            consensus: Consensus::Qbft,
            validators: 4,
            members: 3,
            chain_id: 1337,
            block_period: None,
            ports: PortScheme::Quickstart,
            forks: Forks::Latest,
        }
    }
}

/// QBFT's default block period (the quickstart's and GoQuorum's code default).
pub const DEFAULT_QBFT_BLOCK_PERIOD: u64 = 5;
/// The quickstart's `--raftblocktime` in milliseconds.
pub const DEFAULT_RAFT_BLOCK_TIME_MS: u64 = 300;

/// Every node's ports for `names` in this order, as `init` assigns them (`qnet add-node` plans a
/// new node as the last of the network's names, so it follows the same layout).
pub fn plan_ports(
    names: &[(String, Role)],
    raft: bool,
    scheme: &PortScheme,
) -> Result<Vec<NodePlan>, QnetError> {
    match scheme {
        PortScheme::Quickstart => quickstart_ports(names, raft),
        PortScheme::Compact(base) => compact_ports(names, raft, *base),
    }
}

/// A whole network's plan: the spec plus every node's name and ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The request.
    pub spec: NetworkSpec,
    /// Validators, then the RPC node, then members.
    pub nodes: Vec<NodePlan>,
}

impl Layout {
    /// Plans a network, refusing bad counts, chain id 1 and clashing ports.
    pub fn new(spec: NetworkSpec) -> Result<Self, QnetError> {
        if spec.validators == 0 {
            return Err(QnetError::InvalidOption("--validators must be at least 1".into()));
        }
        if spec.chain_id == 0 || spec.chain_id == 1 {
            return Err(QnetError::InvalidOption(
                "--chain-id must not be 0 or 1 (GoQuorum refuses chain id 1)".into(),
            ));
        }
        if spec.block_period == Some(0) && spec.consensus == Consensus::Qbft {
            return Err(QnetError::InvalidOption(
                "--block-period must be at least 1 second".into(),
            ));
        }
        let mut names = Vec::new();
        names.extend((1..=spec.validators).map(|i| (format!("validator{i}"), Role::Validator)));
        names.push(("rpcnode".to_owned(), Role::Rpcnode));
        names.extend((1..=spec.members).map(|i| (format!("member{i}"), Role::Member)));
        let raft = spec.consensus == Consensus::Raft;
        let nodes = plan_ports(&names, raft, &spec.ports)?;
        let layout = Self { spec, nodes };
        layout.check_unique_ports()?;
        Ok(layout)
    }

    /// The validators.
    pub fn validators(&self) -> impl Iterator<Item = &NodePlan> {
        self.nodes.iter().filter(|n| n.role == Role::Validator)
    }

    /// The nodes with a TM.
    pub fn members(&self) -> impl Iterator<Item = &NodePlan> {
        self.nodes.iter().filter(|n| n.tm.is_some())
    }

    /// A node by name.
    pub fn node(&self, name: &str) -> Option<&NodePlan> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The QBFT block period in seconds.
    pub fn block_period(&self) -> u64 {
        self.spec.block_period.unwrap_or(DEFAULT_QBFT_BLOCK_PERIOD)
    }

    /// Raft's `--raftblocktime` in milliseconds.
    pub fn raft_block_time_ms(&self) -> u64 {
        self.spec.block_period.map_or(DEFAULT_RAFT_BLOCK_TIME_MS, |s| s.saturating_mul(1000))
    }

    /// Every port the network listens on, with who uses it (each port appears once).
    pub fn ports(&self) -> BTreeMap<u16, String> {
        let mut all = BTreeMap::new();
        for (port, what) in self.port_uses() {
            all.entry(port).or_insert(what);
        }
        all
    }

    fn port_uses(&self) -> Vec<(u16, String)> {
        let mut uses = Vec::new();
        for n in &self.nodes {
            uses.push((n.http_port, format!("{} http", n.name)));
            if n.ws_port != n.http_port {
                uses.push((n.ws_port, format!("{} ws", n.name)));
            }
            uses.push((n.p2p_port, format!("{} p2p", n.name)));
            if let Some(r) = n.raft_port {
                uses.push((r, format!("{} raft", n.name)));
            }
            uses.push((self.metrics_port(n), format!("{} metrics", n.name)));
            if let Some(tm) = n.tm {
                uses.push((tm.third_party, format!("{} tm ThirdParty", n.name)));
                uses.push((tm.q2t, format!("{} tm Q2T", n.name)));
                uses.push((tm.p2p, format!("{} tm P2P", n.name)));
            }
        }
        uses
    }

    fn check_unique_ports(&self) -> Result<(), QnetError> {
        let mut seen: BTreeMap<u16, String> = BTreeMap::new();
        for (port, what) in self.port_uses() {
            if let Some(other) = seen.insert(port, what.clone()) {
                return Err(QnetError::InvalidOption(format!(
                    "port {port} would be used by both {other} and {what}: use --base-port"
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quickstart_layout_matches_the_quickstart_ports() {
        let layout = Layout::new(NetworkSpec::default()).unwrap();
        let names: Vec<_> = layout.nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "validator1",
                "validator2",
                "validator3",
                "validator4",
                "rpcnode",
                "member1",
                "member2",
                "member3"
            ]
        );
        let v: Vec<_> = layout.validators().map(|n| n.http_port).collect();
        assert_eq!(v, [21001, 21002, 21003, 21004]);
        let rpc = layout.node("rpcnode").unwrap();
        assert_eq!((rpc.http_port, rpc.ws_port), (8545, 8546));
        let m: Vec<_> = layout.members().map(|n| (n.http_port, n.ws_port, n.tm.unwrap())).collect();
        assert_eq!(m[0], (20000, 20001, TmPorts { third_party: 9081, q2t: 9101, p2p: 9001 }));
        assert_eq!(m[2], (20004, 20005, TmPorts { third_party: 9083, q2t: 9103, p2p: 9003 }));
        assert_eq!(layout.nodes[7].p2p_port, 30310);
        assert!(layout.nodes.iter().all(|n| n.raft_port.is_none()));
        let metrics: Vec<_> = layout.nodes.iter().map(|n| layout.metrics_port(n)).collect();
        assert_eq!(metrics, (9545..9553).collect::<Vec<_>>());
    }

    #[test]
    fn compact_layout_is_contiguous_and_unique() {
        let spec = NetworkSpec {
            consensus: Consensus::Raft,
            ports: PortScheme::Compact(40000),
            ..NetworkSpec::default()
        };
        let layout = Layout::new(spec).unwrap();
        let ports = layout.ports();
        // 4 validators × 3 + rpcnode × 4 + 3 members × 7, then one metrics port per node
        assert_eq!(ports.len(), 12 + 4 + 21 + 8);
        assert_eq!(ports.keys().next(), Some(&40000));
        assert_eq!(ports.keys().last(), Some(&(40000 + 44)));
        assert_eq!(layout.metrics_port(&layout.nodes[0]), 40000 + 37);
    }

    #[test]
    fn bad_specs_are_refused() {
        let bad = |spec: NetworkSpec| Layout::new(spec).unwrap_err().to_string();
        assert!(
            bad(NetworkSpec { validators: 0, ..NetworkSpec::default() }).contains("validators")
        );
        assert!(bad(NetworkSpec { chain_id: 1, ..NetworkSpec::default() }).contains("chain id 1"));
        assert!(
            bad(NetworkSpec { ports: PortScheme::Compact(65530), ..NetworkSpec::default() })
                .contains("65535")
        );
        // 21 members: member TM ThirdParty 9081+20 = 9101 clashes with member1's Q2T
        assert!(bad(NetworkSpec { members: 21, ..NetworkSpec::default() }).contains("port 9101"));
    }
}
