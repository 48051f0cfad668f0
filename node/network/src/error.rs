//! Errors of the networking crate.

use std::{io, path::PathBuf};

use libp2p::PeerId;

/// Result alias for this crate.
pub type NetworkResult<T> = Result<T, NetworkError>;

/// Everything that can go wrong in `qrs-network`.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// A file (nodekey, static-nodes.json, ...) could not be read or written.
    #[error("cannot access {path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// A nodekey is not 64 hex characters encoding a valid secp256k1 secret.
    #[error("invalid nodekey: {0}")]
    InvalidNodeKey(&'static str),
    /// An enode URL could not be parsed.
    #[error("invalid enode URL {url:?}: {reason}")]
    InvalidEnode {
        /// The offending URL (it holds no secret).
        url: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A JSON list of enodes is malformed.
    #[error("invalid enode list in {path}: {source}")]
    InvalidEnodeList {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// An enode host is a DNS name; only IP literals (and `localhost`) can be dialled.
    #[error("enode host {0:?} is not an IP address")]
    UnresolvedHost(String),
    /// A message is larger than `max_message_bytes`.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Size of the message.
        size: usize,
        /// Configured limit.
        limit: usize,
    },
    /// The peer is not connected.
    #[error("peer {0} is not connected")]
    NotConnected(PeerId),
    /// The peer's outbound queue is full; the message was dropped.
    #[error("outbound queue to peer {0} is full")]
    QueueFull(PeerId),
    /// Permissioned mode refuses this peer.
    #[error("peer {0} is not permitted by permissioned-nodes.json / disallowed-nodes.json")]
    NotPermitted(PeerId),
    /// A request did not complete in time.
    #[error("request to {0} timed out")]
    Timeout(PeerId),
    /// A request failed on the stream level.
    #[error("request to {peer} failed: {source}")]
    RequestFailed {
        /// The peer.
        peer: PeerId,
        /// The IO error.
        #[source]
        source: io::Error,
    },
    /// The remote sent bytes that do not decode.
    #[error("malformed data from the wire: {0}")]
    Malformed(#[from] crate::wire::WireError),
    /// The remote refused the request (no handler, or it dropped the responder).
    #[error("peer {0} did not answer the request")]
    NoResponse(PeerId),
    /// Binding the listen socket failed.
    #[error("cannot listen on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// Building the libp2p transport failed.
    #[error("transport setup failed: {0}")]
    Transport(String),
    /// The network service has stopped.
    #[error("network service has shut down")]
    ServiceStopped,
}

impl NetworkError {
    pub(crate) fn file(path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::File { path: path.into(), source }
    }
}
