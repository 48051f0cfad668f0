//! The JSON-RPC steps of joining a running network: checking it runs, `admin_addPeer` on every
//! node, `raft_addPeer` on the Raft leader, `istanbul_propose` on the QBFT validators, and the
//! reads the waits poll (heads, peers, validator sets).

use std::path::Path;

use alloy_primitives::Address;
use serde_json::{Value, json};

use crate::{
    error::QnetError,
    network_json::{NetworkJson, NodeEntry},
    run::{
        probe::Probe,
        procs::{ServiceKind, services},
    },
};

/// Fails unless every process of the network runs and every node's RPC answers with the
/// network's chain id.
pub fn check_running(dir: &Path, net: &NetworkJson, probe: &Probe) -> Result<(), QnetError> {
    let all = services(net);
    let down: Vec<String> =
        all.iter().filter(|s| s.running_pid(dir).is_none()).map(|s| s.name()).collect();
    let how = format!("start it with `qnet up --dir {}` first", dir.display());
    if down.len() == all.len() {
        return Err(QnetError::NotRunning(format!(
            "the network in {} is not running: {how}",
            dir.display()
        )));
    }
    if !down.is_empty() {
        return Err(QnetError::NotRunning(format!(
            "part of the network in {} is not running ({}): {how}",
            dir.display(),
            down.join(", ")
        )));
    }
    for s in all.iter().filter(|s| s.kind == ServiceKind::Qnode) {
        match probe.rpc_u64(&s.node.rpc, "eth_chainId", json!([])) {
            Ok(id) if id == net.chain_id => {}
            Ok(id) => {
                return Err(QnetError::NotRunning(format!(
                    "{} ({}) serves chain id {id}, not the network's {}",
                    s.node.name, s.node.rpc, net.chain_id
                )));
            }
            Err(e) => {
                return Err(QnetError::NotRunning(format!(
                    "{} runs but its RPC {} does not answer ({e}): check `qnet status --dir {}`",
                    s.node.name,
                    s.node.rpc,
                    dir.display()
                )));
            }
        }
    }
    Ok(())
}

/// `admin_addPeer(enode)` on every node (a permissioned node re-reads its
/// `permissioned-nodes.json`, which lists the new node by now).
pub fn add_peer_everywhere(
    nodes: &[NodeEntry],
    probe: &Probe,
    enode: &str,
) -> Result<(), QnetError> {
    for n in nodes {
        match probe.rpc(&n.rpc, "admin_addPeer", json!([enode])) {
            Ok(Value::Bool(true)) => {}
            Ok(other) => {
                return Err(QnetError::Unhealthy(format!(
                    "{}: admin_addPeer answered {other}",
                    n.name
                )));
            }
            Err(e) => return Err(QnetError::Unhealthy(format!("{}: {e}", n.name))),
        }
    }
    Ok(())
}

/// Undoes [`add_peer_everywhere`] (best effort).
pub fn remove_peer_everywhere(nodes: &[NodeEntry], probe: &Probe, enode: &str) {
    for n in nodes {
        let _ = probe.rpc(&n.rpc, "admin_removePeer", json!([enode]));
    }
}

/// The Raft leader (`raft_role` = `minter`).
pub fn raft_leader<'a>(net: &'a NetworkJson, probe: &Probe) -> Result<&'a NodeEntry, QnetError> {
    net.nodes
        .iter()
        .find(|n| probe.rpc(&n.rpc, "raft_role", json!([])).is_ok_and(|r| r == "minter"))
        .ok_or_else(|| QnetError::Unhealthy("no node is the Raft leader (raft_role minter)".into()))
}

/// `raft_addPeer(enode)` on `leader`: the new member's raft id.
pub fn raft_add_peer(leader: &NodeEntry, probe: &Probe, enode: &str) -> Result<u64, QnetError> {
    let id = probe
        .rpc(&leader.rpc, "raft_addPeer", json!([enode]))
        .map_err(|e| QnetError::Unhealthy(format!("{}: {e}", leader.name)))?;
    id.as_u64().ok_or_else(|| {
        QnetError::Unhealthy(format!("{}: raft_addPeer answered {id}, not a raft id", leader.name))
    })
}

/// Undoes [`raft_add_peer`] (best effort; Raft never reuses the id).
pub fn raft_remove_peer(leader: &NodeEntry, probe: &Probe, id: u64) {
    let _ = probe.rpc(&leader.rpc, "raft_removePeer", json!([id]));
}

/// The highest head any of `nodes` reports.
pub fn best_head(nodes: &[NodeEntry], probe: &Probe) -> Option<u64> {
    nodes.iter().filter_map(|n| probe.rpc_u64(&n.rpc, "eth_blockNumber", json!([])).ok()).max()
}

/// `istanbul_getValidators("latest")` on `node`, lower-case.
pub fn validators(node: &NodeEntry, probe: &Probe) -> Result<Vec<Address>, String> {
    let set = probe.rpc(&node.rpc, "istanbul_getValidators", json!(["latest"]))?;
    let list = set.as_array().ok_or_else(|| format!("istanbul_getValidators: {set}"))?;
    list.iter()
        .map(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| format!("istanbul_getValidators: not an address: {v}"))
        })
        .collect()
}

/// The network's nodes that are in the current validator set.
pub fn validator_nodes<'a>(
    nodes: &'a [NodeEntry],
    probe: &Probe,
) -> Result<Vec<&'a NodeEntry>, QnetError> {
    let set = nodes
        .iter()
        .find_map(|n| validators(n, probe).ok())
        .ok_or_else(|| QnetError::Unhealthy("no node answers istanbul_getValidators".into()))?;
    Ok(nodes.iter().filter(|n| set.contains(&n.node_address)).collect())
}

/// `istanbul_propose(address, auth)` on each of `voters`; the names of those that took it.
pub fn propose(voters: &[&NodeEntry], probe: &Probe, address: Address, auth: bool) -> Vec<String> {
    voters
        .iter()
        .filter(|v| {
            probe.rpc(&v.rpc, "istanbul_propose", json!([format!("{address:#x}"), auth])).is_ok()
        })
        .map(|v| v.name.clone())
        .collect()
}

/// `istanbul_discard(address)` on each of `voters` (the vote is no longer needed).
pub fn discard(voters: &[&NodeEntry], probe: &Probe, address: Address) {
    for v in voters {
        let _ = probe.rpc(&v.rpc, "istanbul_discard", json!([format!("{address:#x}")]));
    }
}
