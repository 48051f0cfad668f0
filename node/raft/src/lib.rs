//! Raft consensus.
