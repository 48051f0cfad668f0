//! `qnet bench`'s error.

use std::path::PathBuf;

use crate::error::QnetError;

/// Why a benchmark could not run (or its results could not be written).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A command-line option is out of range or inconsistent.
    #[error("{0}")]
    InvalidOption(String),
    /// `network.json` is missing or invalid.
    #[error(transparent)]
    Network(#[from] QnetError),
    /// A node of the network does not answer.
    #[error("the network in {dir} is not running ({detail}): start it with `qnet up --dir {dir}`")]
    NotRunning {
        /// The network directory, rendered.
        dir: String,
        /// Which nodes do not answer, and why.
        detail: String,
    },
    /// A JSON-RPC call the setup needs failed.
    #[error("{what}: {message}")]
    Rpc {
        /// What was being done (`deploying the ERC-20 token on member1`).
        what: String,
        /// The transport or JSON-RPC error.
        message: String,
    },
    /// The load could not be prepared (keys, signing, deployment).
    #[error("{0}")]
    Setup(String),
    /// A result file could not be written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
}

impl BenchError {
    /// A failed JSON-RPC call during `what`.
    pub fn rpc(what: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Rpc { what: what.into(), message: message.into() }
    }
}
