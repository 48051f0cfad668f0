//! The Raft engine driver: runs `qrs_raft::RaftNode` against the chain and the network (work in
//! progress).
