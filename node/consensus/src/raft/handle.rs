//! [`RaftHandle`]: what the `raft_*` RPCs (and tests) use. Queries read the status the driver
//! publishes after every step; membership changes go to the driver thread and wait for its
//! answer (the change is proposed, not yet committed, when they return, as in GoQuorum).

use std::sync::{Arc, mpsc};

use alloy_primitives::B512;
use qrs_raft::{ClusterInfo, Enode, RaftError};
use tokio::sync::oneshot;

use super::members::{Members, RaftStatus};

/// Failures of [`RaftHandle`] calls.
#[derive(Debug, thiserror::Error)]
pub enum RaftApiError {
    /// The Raft core refused (GoQuorum's wording, e.g. `node not part of raft cluster.
    /// operations not allowed`, `no leader is currently elected`).
    #[error(transparent)]
    Raft(#[from] RaftError),
    /// The engine is not running (stopped or failed).
    #[error("raft engine is not running")]
    Stopped,
}

/// A membership change for the driver thread.
#[derive(Debug)]
pub(crate) enum Command {
    AddPeer { enode: String, learner: bool, reply: oneshot::Sender<Result<u16, RaftError>> },
    Promote { raft_id: u16, reply: oneshot::Sender<Result<bool, RaftError>> },
    Remove { raft_id: u16, reply: oneshot::Sender<Result<(), RaftError>> },
}

/// What the driver thread reacts to.
#[derive(Debug)]
pub(crate) enum Input {
    /// A Raft message from a peer.
    Raft { from: qrs_network::PeerId, bytes: bytes::Bytes },
    /// Transactions became pending.
    PoolReady,
    /// An RPC membership change.
    Command(Command),
    /// Stop.
    Shutdown,
}

/// Cloneable access to a Raft engine for RPC.
#[derive(Clone)]
pub struct RaftHandle {
    pub(crate) members: Arc<Members>,
    pub(crate) inputs: mpsc::Sender<Input>,
}

impl std::fmt::Debug for RaftHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RaftHandle").field("status", &self.members.status()).finish()
    }
}

impl RaftHandle {
    /// The latest published status.
    pub fn status(&self) -> RaftStatus {
        self.members.status()
    }

    /// This node's raft id.
    pub fn raft_id(&self) -> u16 {
        self.members.status().raft_id
    }

    /// `raft_leader`: the leader's node id (128 hex characters, no prefix).
    pub fn leader(&self) -> Result<String, RaftApiError> {
        self.members.status().leader_node_id.ok_or(RaftApiError::Raft(RaftError::NoLeader))
    }

    /// `raft_role`: `"minter"`, `"verifier"`, `"learner"` or `""`.
    pub fn role(&self) -> &'static str {
        self.members.status().role
    }

    /// `raft_cluster` (empty once this node was removed).
    pub fn cluster(&self) -> Vec<ClusterInfo> {
        self.members.status().cluster
    }

    /// `raft_getRaftId`: the raft id of the member with this node id. Takes a full enode URL,
    /// `enode://<id>` or the bare 128-hex node id (as GoQuorum's `enode.ParseV4`).
    pub fn get_raft_id(&self, enode: &str) -> Result<u16, RaftApiError> {
        let trimmed = enode.trim();
        let bare = trimmed.strip_prefix("enode://").unwrap_or(trimmed);
        let node_id = match bare.parse::<B512>() {
            Ok(id) if bare.len() == 128 => id,
            _ => Enode::parse(trimmed)?.node_id,
        };
        self.members.current().iter().find(|p| p.node_id == node_id).map(|p| p.raft_id).ok_or_else(
            || RaftError::Membership(format!("node not found in the cluster: {enode}")).into(),
        )
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<Result<T, RaftError>>) -> Command,
    ) -> Result<T, RaftApiError> {
        let (tx, rx) = oneshot::channel();
        self.inputs.send(Input::Command(make(tx))).map_err(|_| RaftApiError::Stopped)?;
        Ok(rx.await.map_err(|_| RaftApiError::Stopped)??)
    }

    /// `raft_addPeer`: proposes a new voter; returns its raft id. The enode needs `?raftport=`.
    pub async fn add_peer(&self, enode: &str) -> Result<u16, RaftApiError> {
        let enode = enode.to_string();
        self.ask(|reply| Command::AddPeer { enode, learner: false, reply }).await
    }

    /// `raft_addLearner`: proposes a new learner (receives blocks, does not vote).
    pub async fn add_learner(&self, enode: &str) -> Result<u16, RaftApiError> {
        let enode = enode.to_string();
        self.ask(|reply| Command::AddPeer { enode, learner: true, reply }).await
    }

    /// `raft_promoteToPeer`: makes a learner a voter.
    pub async fn promote_to_peer(&self, raft_id: u16) -> Result<bool, RaftApiError> {
        self.ask(|reply| Command::Promote { raft_id, reply }).await
    }

    /// `raft_removePeer`: removes a member for good (its raft id cannot come back).
    pub async fn remove_peer(&self, raft_id: u16) -> Result<(), RaftApiError> {
        self.ask(|reply| Command::Remove { raft_id, reply }).await
    }
}
