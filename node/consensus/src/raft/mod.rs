//! The Raft engine driver: runs `qrs_raft::RaftNode` against the chain and the network (work in
//! progress).

/// Raft engine options (`--raft*` flags).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RaftOptions {}
