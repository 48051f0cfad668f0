//! Errors returned while loading and validating a genesis file.
//!
//! Where GoQuorum has a message for the same condition, the `Display` text is GoQuorum's.

use std::path::PathBuf;

/// Everything that can go wrong when turning a `genesis.json` into a [`crate::ChainSpec`].
#[derive(Debug, thiserror::Error)]
pub enum ChainSpecError {
    /// The genesis file could not be read.
    #[error("cannot read genesis file {path}: {source}")]
    Io {
        /// The file we tried to read.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The document is not well-formed JSON (found by the key-normalising pre-scan).
    #[error("malformed genesis JSON: {reason}")]
    Syntax {
        /// What is wrong.
        reason: &'static str,
    },
    /// The JSON does not have the shape of a genesis file (wrong types, bad hex, …).
    #[error("invalid genesis JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The genesis has no `config` object.
    #[error("genesis has no config section")]
    MissingConfig,
    /// `config.chainId` is absent.
    #[error("genesis config has no chainId")]
    MissingChainId,
    /// Chain id 1 clashes with the private-transaction `v` values (GoQuorum `eth/backend.go`).
    #[error("Cannot have chain id or network id as 1.")]
    ChainIdOne,
    /// `txnSizeLimit` outside 32..=128 KB.
    #[error("Genesis transaction size limit must be between 32 and 128")]
    TxnSizeLimit {
        /// The configured value in KB.
        kb: u64,
    },
    /// `maxCodeSize` outside 24..=128 KB.
    #[error("Genesis max code size must be between 24 and 128")]
    MaxCodeSize {
        /// The configured value in KB.
        kb: u64,
    },
    /// A `maxCodeSizeConfig` entry or a transition's `contractsizelimit` outside 24..=128 KB.
    #[error("Genesis max code size must be between 24 and 128 (block {block}: {kb})")]
    ContractSizeLimit {
        /// The block the limit applies from.
        block: u64,
        /// The configured value in KB.
        kb: u64,
    },
    /// A transition's `transactionSizeLimit` outside 32..=128 KB.
    #[error(
        "transaction size limit must be between 32 and 128 (transition at block {block}: {kb})"
    )]
    TransitionTxSizeLimit {
        /// The transition's block.
        block: u64,
        /// The configured value in KB.
        kb: u64,
    },
    /// `transitions` are not in ascending block order.
    #[error("block order should be ascending ({section}: block {block} after {previous})")]
    BlockOrder {
        /// `transitions`.
        section: &'static str,
        /// The offending block.
        block: u64,
        /// The block of the entry before it.
        previous: u64,
    },
    /// A `transitions` or `maxCodeSizeConfig` entry has no `block`.
    #[error("block number not given in {section} data")]
    BlockNumberMissing {
        /// `transitions` or `maxCodeSizeConfig`.
        section: &'static str,
    },
    /// `maxCodeSizeConfig` entries not in ascending block order (GoQuorum's message).
    #[error(
        "invalid maxCodeSize detail, block order has to be ascending (block {block} after {previous})"
    )]
    MaxCodeSizeConfigOrder {
        /// The offending block.
        block: u64,
        /// The block of the entry before it.
        previous: u64,
    },
    /// `maxCodeSize`/`maxCodeSizeChangeBlock` together with `maxCodeSizeConfig` or transitions
    /// `contractsizelimit`.
    #[error("maxCodeSize & maxCodeSizeChangeBlock deprecated. Consider using maxCodeSizeConfig")]
    MaxCodeSizeConflict,
    /// Two consensus sections that exclude each other (`istanbul` with `ibft`/`qbft`, `ibft` with `qbft`).
    #[error("{first} and {second} consensus configs are mutually exclusive")]
    ConsensusConflict {
        /// The first section found.
        first: &'static str,
        /// The second section found.
        second: &'static str,
    },
    /// A transition names an algorithm other than `ibft` or `qbft`.
    #[error(
        "transition at block {block}: unknown algorithm {algorithm:?} (expected \"ibft\" or \"qbft\")"
    )]
    UnknownAlgorithm {
        /// The transition's block.
        block: u64,
        /// The value found.
        algorithm: String,
    },
}
