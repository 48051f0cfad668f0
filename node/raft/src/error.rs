//! Errors of the Raft core and its storage.

use std::path::PathBuf;

/// Everything that can go wrong in `qrs-raft`.
#[derive(Debug, thiserror::Error)]
pub enum RaftError {
    /// The MDBX environment could not be opened or a transaction failed.
    #[error("raft storage at {path}: {source}")]
    Mdbx {
        /// The storage directory.
        path: PathBuf,
        /// The MDBX error.
        source: libmdbx::Error,
    },
    /// Creating the storage directory failed.
    #[error("creating raft storage directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A stored or received protobuf value could not be encoded or decoded.
    #[error("raft protobuf {what}: {source}")]
    Protobuf {
        /// Which value.
        what: &'static str,
        /// The codec error.
        source: protobuf::ProtobufError,
    },
    /// A stored value is corrupt (wrong length or layout).
    #[error("corrupt raft storage: {0}")]
    Corrupt(&'static str),
    /// The log operation would leave a hole or rewrite compacted entries.
    #[error("raft log {op}: index {index} outside [{first}, {last_plus_one}]")]
    LogGap {
        /// `append`, `compact`.
        op: &'static str,
        /// The offending index.
        index: u64,
        /// First index still in the log.
        first: u64,
        /// Last index + 1.
        last_plus_one: u64,
    },
    /// A snapshot older than the log was offered.
    #[error("snapshot at index {snapshot} is older than the first log index {first}")]
    SnapshotOutOfDate {
        /// Snapshot index.
        snapshot: u64,
        /// First index of the log.
        first: u64,
    },
    /// The storage already holds a Raft state; it cannot be bootstrapped again.
    #[error("raft storage is already initialised")]
    AlreadyInitialised,
    /// raft-rs refused an operation.
    #[error("raft: {0}")]
    Raft(#[from] raft::Error),
    /// An enode URL could not be parsed.
    #[error("invalid enode URL {url:?}: {reason}")]
    InvalidEnode {
        /// The input.
        url: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// An RLP value (peer address, snapshot payload, extraData) could not be decoded.
    #[error("invalid {what} RLP: {source}")]
    Rlp {
        /// Which value.
        what: &'static str,
        /// The decoder error.
        source: alloy_rlp::Error,
    },
    /// The chain or block builder failed.
    #[error("chain: {0}")]
    Chain(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// A membership operation was refused (GoQuorum wording).
    #[error("{0}")]
    Membership(String),
    /// `raft_leader` when no leader is known (GoQuorum: `no leader is currently elected`).
    #[error("no leader is currently elected")]
    NoLeader,
    /// Signing or recovering a header seal failed.
    #[error("secp256k1: {0}")]
    Secp256k1(#[from] secp256k1::Error),
    /// The node configuration is invalid.
    #[error("invalid raft configuration: {0}")]
    Config(String),
}

impl RaftError {
    pub(crate) fn pb(what: &'static str) -> impl FnOnce(protobuf::ProtobufError) -> Self {
        move |source| RaftError::Protobuf { what, source }
    }
    pub(crate) fn rlp(what: &'static str) -> impl FnOnce(alloy_rlp::Error) -> Self {
        move |source| RaftError::Rlp { what, source }
    }
}

/// Shorthand.
pub type Result<T, E = RaftError> = std::result::Result<T, E>;
