//! One health snapshot of a running network (`qnet status`, and what `qnet up` waits for).
//!
//! A node is healthy when its HTTP RPC answers `eth_blockNumber` and `eth_chainId` with the
//! network's chain id, its WS endpoint answers, it has a peer (networks of more than one node),
//! its head is no more than [`MAX_LAG`] blocks behind the best head, and: QBFT: a block newer
//! than three block periods (plus 10 s) exists; Raft: it knows its role (a leader is elected).
//! A TM is healthy when `/upcheck` answers and it knows every other TM's public key.

use std::path::Path;

use serde_json::{Value, json};

use super::{
    probe::{PROBE_TIMEOUT, Probe},
    procs::{Service, ServiceKind},
    ws::ws_rpc,
};
use crate::{
    layout::Consensus,
    network_json::{NetworkJson, NodeEntry},
};

/// A node further behind the best head than this many blocks is unhealthy.
pub const MAX_LAG: u64 = 5;

/// A TM's state.
#[derive(Debug, Clone)]
pub struct TmStatus {
    /// The pid from `run/<node>-tm.pid`, if that process runs.
    pub pid: Option<u32>,
    /// `/upcheck`.
    pub up: bool,
    /// How many of the network's TM keys it knows (its own included).
    pub known: usize,
    /// The network's TM count.
    pub expected: usize,
}

/// A node's state.
#[derive(Debug, Clone)]
pub struct NodeStatus {
    /// The node's name.
    pub name: String,
    /// `validator`, `rpcnode`, `member`.
    pub role: String,
    /// The pid from `run/<node>.pid`, if that process runs.
    pub pid: Option<u32>,
    /// `eth_blockNumber`, when the RPC answers.
    pub head: Option<u64>,
    /// `net_peerCount`.
    pub peers: Option<u64>,
    /// QBFT: `validator` / `-` (in the validator set or not); Raft: `raft_role`.
    pub consensus_role: Option<String>,
    /// Seconds since the head block's timestamp.
    pub head_age: Option<u64>,
    /// The TM, for members.
    pub tm: Option<TmStatus>,
    /// What is wrong; empty when healthy.
    pub problems: Vec<String>,
}

/// Every node's state.
#[derive(Debug, Clone)]
pub struct NetworkStatus {
    /// In `network.json` order.
    pub nodes: Vec<NodeStatus>,
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn hex_u64(v: &Value) -> Option<u64> {
    u64::from_str_radix(v.as_str()?.trim_start_matches("0x"), 16).ok()
}

/// Probes one node (and its TM) without the network-wide checks.
fn probe_node(dir: &Path, net: &NetworkJson, node: &NodeEntry, probe: &Probe) -> NodeStatus {
    let pid = Service { node, kind: ServiceKind::Qnode }.running_pid(dir);
    let mut s = NodeStatus {
        name: node.name.clone(),
        role: node.role.to_string(),
        pid,
        head: None,
        peers: None,
        consensus_role: None,
        head_age: None,
        tm: node.tm.as_ref().map(|tm| probe_tm(dir, net, node, &tm.third_party, probe)),
        problems: Vec::new(),
    };
    if let Some(tm) = &s.tm {
        if !tm.up {
            s.problems.push("TM down".into());
        } else if tm.known < tm.expected {
            s.problems.push(format!("TM knows {} of {} TM keys", tm.known, tm.expected));
        }
    }
    match probe.rpc_u64(&node.rpc, "eth_chainId", json!([])) {
        Err(e) => {
            let pid_note = if pid.is_none() { " (no process)" } else { "" };
            s.problems.insert(0, format!("RPC {} not answering{pid_note}: {e}", node.rpc));
            return s;
        }
        Ok(id) if id != net.chain_id => {
            s.problems.push(format!("{} serves chain id {id}, not {}", node.rpc, net.chain_id));
        }
        Ok(_) => {}
    }
    match probe.rpc(&node.rpc, "eth_getBlockByNumber", json!(["latest", false])) {
        Ok(block) => {
            s.head = block.get("number").and_then(hex_u64);
            s.head_age =
                block.get("timestamp").and_then(hex_u64).map(|t| unix_now().saturating_sub(t));
        }
        Err(e) => s.problems.push(e),
    }
    match probe.rpc_u64(&node.rpc, "net_peerCount", json!([])) {
        Ok(n) => s.peers = Some(n),
        Err(e) => s.problems.push(e),
    }
    if let Err(e) = ws_rpc(&node.ws, "eth_chainId", json!([]), PROBE_TIMEOUT) {
        s.problems.push(format!("WS {} not answering: {e}", node.ws));
    }
    match net.consensus {
        Consensus::Qbft => {
            if let Ok(Value::Bool(v)) = probe.rpc(&node.rpc, "istanbul_isValidator", json!([])) {
                s.consensus_role = Some(if v { "validator" } else { "-" }.into());
            }
        }
        Consensus::Raft => match probe.rpc(&node.rpc, "raft_role", json!([])) {
            Ok(Value::String(role)) if !role.is_empty() => s.consensus_role = Some(role),
            Ok(_) => s.problems.push("no raft leader known (raft_role is empty)".into()),
            Err(e) => s.problems.push(e),
        },
    }
    s
}

fn probe_tm(
    dir: &Path,
    net: &NetworkJson,
    node: &NodeEntry,
    third_party: &str,
    probe: &Probe,
) -> TmStatus {
    let pid = Service { node, kind: ServiceKind::Qtm }.running_pid(dir);
    let all: Vec<&str> =
        net.nodes.iter().filter_map(|n| n.tm.as_ref()).map(|t| t.public_key.as_str()).collect();
    let up = probe.tm_up(third_party).is_ok();
    let known = if up { probe.tm_known_keys(third_party).unwrap_or_default() } else { Vec::new() };
    let known = all.iter().filter(|k| known.iter().any(|j| j == *k)).count();
    TmStatus { pid, up, known, expected: all.len() }
}

impl NetworkStatus {
    /// Probes every node and TM of the network in `dir` (in parallel) and judges them.
    pub fn collect(dir: &Path, net: &NetworkJson, probe: &Probe) -> Self {
        let mut nodes: Vec<NodeStatus> = std::thread::scope(|scope| {
            let handles: Vec<_> = net
                .nodes
                .iter()
                .map(|node| scope.spawn(move || probe_node(dir, net, node, probe)))
                .collect();
            handles
                .into_iter()
                .zip(&net.nodes)
                .map(|(h, node)| {
                    h.join().unwrap_or_else(|_| NodeStatus {
                        name: node.name.clone(),
                        role: node.role.to_string(),
                        pid: None,
                        head: None,
                        peers: None,
                        consensus_role: None,
                        head_age: None,
                        tm: None,
                        problems: vec!["probe panicked".into()],
                    })
                })
                .collect()
        });
        // QBFT: nodes that do not serve istanbul_isValidator (non-mining nodes) are judged by
        // the validator set another node reports
        if net.consensus == Consensus::Qbft {
            let set = net
                .nodes
                .iter()
                .find_map(|n| probe.rpc(&n.rpc, "istanbul_getValidators", json!(["latest"])).ok());
            let set: Vec<String> = set
                .as_ref()
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_lowercase).collect())
                .unwrap_or_default();
            for (s, node) in nodes.iter_mut().zip(&net.nodes) {
                if s.consensus_role.is_none() && s.head.is_some() && !set.is_empty() {
                    let is = set.contains(&format!("{:#x}", node.node_address));
                    s.consensus_role = Some(if is { "validator" } else { "-" }.into());
                }
            }
        }
        let best = nodes.iter().filter_map(|s| s.head).max().unwrap_or(0);
        let stale_after = net.block_period.map(|p| p.saturating_mul(3).saturating_add(10));
        let several = net.nodes.len() > 1;
        for s in &mut nodes {
            let Some(head) = s.head else { continue };
            if several && s.peers == Some(0) {
                s.problems.push("no peers".into());
            }
            if best.saturating_sub(head) > MAX_LAG {
                s.problems.push(format!("head {head} is {} blocks behind {best}", best - head));
            }
            if let (Some(limit), Some(age)) = (stale_after, s.head_age)
                && age > limit
            {
                s.problems.push(format!(
                    "no new block for {age} s (block period {} s)",
                    net.block_period.unwrap_or(0)
                ));
            }
        }
        Self { nodes }
    }

    /// Whether every node and TM is healthy.
    pub fn healthy(&self) -> bool {
        self.nodes.iter().all(|n| n.problems.is_empty())
    }

    /// `name: problem; problem` for every unhealthy node.
    pub fn problems(&self) -> Vec<String> {
        self.nodes
            .iter()
            .filter(|n| !n.problems.is_empty())
            .map(|n| format!("{}: {}", n.name, n.problems.join("; ")))
            .collect()
    }

    /// The `qnet status` table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<12} {:<10} {:>8} {:>7} {:>6} {:<10} {:<14} {}\n",
            "node", "role", "pid", "head", "peers", "consensus", "tm (keys)", "health"
        );
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        for n in &self.nodes {
            let tm = n.tm.as_ref().map_or_else(
                || "-".to_owned(),
                |t| {
                    let state = if t.up { "up" } else { "down" };
                    format!("{state} ({}/{})", t.known, t.expected)
                },
            );
            let pid = n.pid.map_or_else(|| "-".to_owned(), |p| p.to_string());
            let health =
                if n.problems.is_empty() { "ok".to_owned() } else { n.problems.join("; ") };
            out.push_str(&format!(
                "{:<12} {:<10} {:>8} {:>7} {:>6} {:<10} {:<14} {health}\n",
                n.name,
                n.role,
                pid,
                opt(n.head),
                opt(n.peers),
                n.consensus_role.as_deref().unwrap_or("-"),
                tm,
            ));
        }
        out
    }
}

/// The summary `qnet up` prints: every node's endpoints and head block.
pub fn summary_table(net: &NetworkJson, status: &NetworkStatus) -> String {
    let mut out = format!(
        "{:<12} {:<10} {:<24} {:<24} {:<24} {:>6}\n",
        "node", "role", "rpc", "ws", "tm (ThirdParty)", "head"
    );
    for (node, s) in net.nodes.iter().zip(&status.nodes) {
        let tm = node.tm.as_ref().map_or("-", |t| t.third_party.as_str());
        let head = s.head.map_or_else(|| "-".to_owned(), |h| h.to_string());
        out.push_str(&format!(
            "{:<12} {:<10} {:<24} {:<24} {:<24} {head:>6}\n",
            node.name,
            node.role.to_string(),
            node.rpc,
            node.ws,
            tm
        ));
    }
    out
}
