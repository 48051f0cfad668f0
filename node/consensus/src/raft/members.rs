//! What the driver shares with the chain adapters, the verifier and the RPC handle: the cluster
//! members (raft id → address and libp2p peer id), the node ids of every member ever seen (to
//! check seals of blocks minted by a member that has since left), and the status RPC reads.

use std::collections::{BTreeMap, HashMap};

use alloy_primitives::B512;
use parking_lot::RwLock;
use qrs_network::{Enode, PeerId};
use qrs_raft::{ClusterInfo, PeerAddress};

/// The libp2p peer id of a member (its enode key).
pub fn peer_id_of(address: &PeerAddress) -> PeerId {
    network_enode(address).peer_id()
}

/// The member as a network enode (to dial it).
pub fn network_enode(address: &PeerAddress) -> Enode {
    let mut id = [0u8; 64];
    id.copy_from_slice(address.node_id.as_slice());
    Enode {
        id,
        host: address.hostname.clone(),
        port: address.p2p_port,
        raft_port: Some(address.raft_port),
        discport: Some(0),
    }
}

/// A network enode naming only a key (enough to disconnect it).
pub fn enode_of_key(key: &B512) -> Enode {
    let mut id = [0u8; 64];
    id.copy_from_slice(key.as_slice());
    Enode { id, host: String::new(), port: 0, raft_port: None, discport: None }
}

/// A point-in-time view of the node for `raft_*` RPCs.
#[derive(Debug, Clone, Default)]
pub struct RaftStatus {
    /// This node's raft id.
    pub raft_id: u16,
    /// `raft_role`.
    pub role: &'static str,
    /// The leader's raft id (0 = none).
    pub leader: u16,
    /// `raft_leader` (128 hex characters), when a leader is known.
    pub leader_node_id: Option<String>,
    /// `raft_cluster`.
    pub cluster: Vec<ClusterInfo>,
    /// Whether this node was removed from the cluster.
    pub removed: bool,
    /// Applied raft log index.
    pub applied_index: u64,
    /// Minting statistics of this node (while it was the leader).
    pub mint_stats: MintStats,
}

/// Where a minter's time goes: building (executing) blocks vs waiting for the log to commit
/// and apply them (replication to a majority, durable writes, the chain commit).
#[derive(Debug, Clone, Copy, Default)]
pub struct MintStats {
    /// Blocks minted and applied.
    pub blocks: u64,
    /// Total time spent building, sealing and proposing them.
    pub build: std::time::Duration,
    /// Total time from proposal until the block was applied here.
    pub commit: std::time::Duration,
}

#[derive(Debug, Default)]
struct Inner {
    current: BTreeMap<u16, (PeerAddress, PeerId)>,
    by_peer: HashMap<PeerId, u16>,
    ever: HashMap<u16, (B512, PeerId)>,
    status: RaftStatus,
}

/// Shared, cheaply readable cluster state.
#[derive(Debug, Default)]
pub struct Members {
    inner: RwLock<Inner>,
}

impl Members {
    /// Replaces the current members (the driver calls this after each step).
    pub fn set_current<'a>(&self, peers: impl Iterator<Item = &'a PeerAddress>) {
        let mut inner = self.inner.write();
        inner.current.clear();
        inner.by_peer.clear();
        for p in peers {
            let peer = peer_id_of(p);
            inner.ever.insert(p.raft_id, (p.node_id, peer));
            inner.by_peer.insert(peer, p.raft_id);
            inner.current.insert(p.raft_id, (p.clone(), peer));
        }
    }

    /// Remembers members known from configuration (static nodes) without making them current.
    pub fn remember<'a>(&self, peers: impl Iterator<Item = &'a PeerAddress>) {
        let mut inner = self.inner.write();
        for p in peers {
            inner.ever.entry(p.raft_id).or_insert_with(|| (p.node_id, peer_id_of(p)));
        }
    }

    /// The node id of a current or former member.
    pub fn known_key(&self, raft_id: u16) -> Option<B512> {
        self.inner.read().ever.get(&raft_id).map(|(k, _)| *k)
    }

    /// The peer id of a current or former member (to authenticate its Raft messages).
    pub fn known_peer(&self, raft_id: u16) -> Option<PeerId> {
        self.inner.read().ever.get(&raft_id).map(|(_, p)| *p)
    }

    /// The node id of a current member.
    pub fn current_key(&self, raft_id: u16) -> Option<B512> {
        self.inner.read().current.get(&raft_id).map(|(a, _)| a.node_id)
    }

    /// The peer id of a current member.
    pub fn peer_of(&self, raft_id: u16) -> Option<PeerId> {
        self.inner.read().current.get(&raft_id).map(|(_, p)| *p)
    }

    /// Every current or former member's raft id and peer id.
    pub fn known_peers(&self) -> Vec<(u16, PeerId)> {
        self.inner.read().ever.iter().map(|(id, (_, p))| (*id, *p)).collect()
    }

    /// The raft id of a current member's peer id.
    pub fn raft_id_of_peer(&self, peer: &PeerId) -> Option<u16> {
        self.inner.read().by_peer.get(peer).copied()
    }

    /// Current members.
    pub fn current(&self) -> Vec<PeerAddress> {
        self.inner.read().current.values().map(|(a, _)| a.clone()).collect()
    }

    /// Publishes a new status.
    pub fn set_status(&self, status: RaftStatus) {
        self.inner.write().status = status;
    }

    /// The latest status.
    pub fn status(&self) -> RaftStatus {
        self.inner.read().status.clone()
    }
}
