//! Errors of the QBFT driver, its snapshot cache and its RPC handle.

use alloy_primitives::B256;

/// What went wrong in the QBFT engine or one of its queries.
#[derive(Debug, thiserror::Error)]
pub enum QbftError {
    /// The chain or its storage failed.
    #[error(transparent)]
    Chain(#[from] qrs_chain::ChainError),
    /// No canonical block with this number.
    #[error("unknown block {0}")]
    UnknownBlock(u64),
    /// No canonical block with this hash.
    #[error("unknown block {0}")]
    UnknownHash(B256),
    /// The chain spec has no `qbft` / `istanbul` configuration.
    #[error("the chain is not an istanbul (IBFT/QBFT) chain")]
    NotIstanbul,
    /// A header does not decode or breaks the voting rules.
    #[error("invalid header {number}: {reason}")]
    InvalidHeader {
        /// Its number.
        number: u64,
        /// Why.
        reason: String,
    },
    /// Reading or writing the safety record failed.
    #[error("qbft safety record {path}: {source}")]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The safety record on disk is corrupt.
    #[error("qbft safety record {0} is corrupt")]
    CorruptSafety(std::path::PathBuf),
    /// `istanbul_status` with a bad range.
    #[error("{0}")]
    BadRange(&'static str),
}

impl From<QbftError> for crate::EngineError {
    fn from(e: QbftError) -> Self {
        match e {
            QbftError::Chain(c) => crate::EngineError::Chain(c),
            other => crate::EngineError::Fatal { engine: "qbft", reason: other.to_string() },
        }
    }
}
