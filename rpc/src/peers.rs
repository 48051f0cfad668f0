//! p2p methods: `admin_peers`, `admin_addPeer`, `admin_removePeer`, `admin_nodeInfo`,
//! `net_peerCount`, `net_listening`, and `eth_syncing`, in geth's shapes.

use alloy_primitives::keccak256;
use qrs_chainspec::ConsensusConfig;
use qrs_network::{Enode, Multiaddr, NetworkHandle, PeerInfo, enode_id_of};
use serde_json::{Value, json};

use crate::{
    Args, Module, RegisterResult, RpcContext,
    error::RpcResult,
    json::{hash, q},
    method,
};

/// geth's node id: keccak256 of the 64-byte public key, hex without `0x`.
fn node_id(enode_id: &[u8; 64]) -> String {
    alloy_primitives::hex::encode(keccak256(enode_id))
}

/// True on istanbul (IBFT / QBFT) chains, which GoQuorum serves as the `istanbul` protocol.
fn istanbul(c: &RpcContext) -> bool {
    matches!(
        c.chain.spec().consensus(),
        ConsensusConfig::Qbft(_) | ConsensusConfig::Ibft(_) | ConsensusConfig::Istanbul(_)
    )
}

fn network(c: &RpcContext) -> RpcResult<&NetworkHandle> {
    Ok(c.network.as_ref().ok_or(qrs_network::NetworkError::ServiceStopped)?)
}

fn parse_enode(a: Args) -> RpcResult<Enode> {
    let url: String = a.at_most(1)?.req(0)?;
    Ok(Enode::parse(&url)?)
}

/// `ip:port` of a `/ip4|ip6/<ip>/tcp/<port>` address.
fn socket_of(addr: &Multiaddr) -> String {
    let text = addr.to_string();
    let parts: Vec<&str> = text.split('/').collect();
    let find = |key: &str| parts.iter().position(|p| *p == key).and_then(|i| parts.get(i + 1));
    let ip = match (find("ip4"), find("ip6")) {
        (Some(v4), _) => (*v4).to_string(),
        (None, Some(v6)) => format!("[{v6}]"),
        (None, None) => String::new(),
    };
    format!("{ip}:{}", find("tcp").copied().unwrap_or("0"))
}

pub(crate) fn register_net(m: &mut Module) -> RegisterResult {
    // geth answers true whenever the node runs
    method(m, "net_listening", |_, _| Ok(Value::Bool(true)))?;
    method(m, "net_peerCount", |c, _| {
        Ok(q(c.network.as_ref().map_or(0, NetworkHandle::num_connected_peers) as u64))
    })?;
    Ok(())
}

pub(crate) fn register_admin(m: &mut Module) -> RegisterResult {
    method(m, "admin_nodeInfo", |c, _| Ok(node_info(c)))?;
    method(m, "admin_peers", |c, _| {
        let Some(net) = &c.network else { return Ok(Value::Array(Vec::new())) };
        Ok(Value::Array(net.peers().iter().map(|p| peer_json(c, p)).collect()))
    })?;
    method(m, "admin_addPeer", |c, a| {
        let enode = parse_enode(a)?;
        network(c)?.add_peer(enode)?;
        Ok(Value::Bool(true))
    })?;
    method(m, "admin_removePeer", |c, a| {
        let enode = parse_enode(a)?;
        network(c)?.remove_peer(&enode)?;
        Ok(Value::Bool(true))
    })?;
    Ok(())
}

/// `eth_syncing`: `false`, or geth's progress object while range sync runs.
pub(crate) fn syncing(c: &RpcContext, _: Args) -> RpcResult<Value> {
    let Some(status) = c.sync.as_ref().map(qrs_sync::SyncHandle::status) else {
        return Ok(Value::Bool(false));
    };
    if !status.syncing {
        return Ok(Value::Bool(false));
    }
    Ok(sync_object(&status))
}

/// geth's sync progress object.
pub(crate) fn sync_object(status: &qrs_sync::SyncStatus) -> Value {
    json!({
        "startingBlock": q(status.starting_block),
        "currentBlock": q(status.current_block),
        "highestBlock": q(status.highest_block),
        "pulledStates": "0x0",
        "knownStates": "0x0",
    })
}

/// What `protocols.eth` (and `protocols.istanbul`) of `admin_nodeInfo` shows.
fn protocol_info(c: &RpcContext) -> Value {
    let head = c.chain.head();
    let spec = c.chain.spec();
    let consensus = if istanbul(c) { "istanbul" } else { spec.consensus().name() };
    json!({
        "network": c.node.network_id,
        "difficulty": head.total_difficulty,
        "genesis": hash(&spec.genesis_hash()),
        "head": hash(&head.hash),
        "config": { "chainId": spec.chain_id, "isQuorum": spec.is_quorum() },
        "consensus": consensus,
    })
}

fn node_info(c: &RpcContext) -> Value {
    let info = protocol_info(c);
    let mut protocols = serde_json::Map::new();
    protocols.insert("eth".into(), info.clone());
    if istanbul(c) {
        protocols.insert("istanbul".into(), info);
    }
    let Some(net) = &c.network else {
        return json!({
            "id": c.node.id,
            "name": c.node.client_version,
            "enode": c.node.enode,
            "ip": "127.0.0.1",
            "listenAddr": c.node.listen_addr,
            "ports": { "discovery": 0, "listener": 0 },
            "protocols": protocols,
        });
    };
    let enode = net.local_enode();
    let listen_port = c.node.listen_addr.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok());
    json!({
        "id": node_id(&enode.id),
        "name": c.node.client_version,
        "enode": enode.to_string(),
        "enr": Value::Null,
        "ip": enode.host,
        "listenAddr": c.node.listen_addr,
        "ports": { "discovery": enode.discport.unwrap_or(0), "listener": listen_port.unwrap_or(enode.port) },
        "protocols": protocols,
    })
}

fn peer_json(c: &RpcContext, p: &PeerInfo) -> Value {
    let remote = socket_of(&p.remote_addr);
    let id = p.enode_id.or_else(|| enode_id_of(&p.peer_id));
    let enode = id.map(|id| format!("enode://{}@{remote}", alloy_primitives::hex::encode(id)));
    let (caps, protocols) = if istanbul(c) {
        (json!(["eth/64", "eth/65", "istanbul/100"]), json!({ "istanbul": { "version": 100 } }))
    } else {
        (json!(["eth/64", "eth/65"]), json!({ "eth": { "version": 65 } }))
    };
    json!({
        "enode": enode,
        "id": id.map(|id| node_id(&id)),
        "name": "qnode",
        "caps": caps,
        "network": {
            "localAddress": c.node.listen_addr,
            "remoteAddress": remote,
            "inbound": p.inbound,
            "trusted": false,
            // only static nodes and admin_addPeer targets are dialled
            "static": !p.inbound,
        },
        "protocols": protocols,
    })
}
