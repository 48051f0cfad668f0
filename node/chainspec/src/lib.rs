//! GoQuorum `genesis.json` parsing, fork schedule and the genesis block.
//!
//! [`ChainSpec::from_json`]/[`ChainSpec::from_file`] accept every GoQuorum genesis file
//! unchanged:
//!
//! - keys are matched **case-insensitively** like Go's `encoding/json` (the quickstart writes
//!   `epochLength` for the tag `epochlength`, and `mixhash` for `mixHash`);
//! - numbers may be JSON numbers or `0x`-hex/decimal strings, as geth accepts;
//! - unknown keys (`privateKey`, `comment`, `stateRoot`, …) are ignored;
//! - GoQuorum's checks apply, with GoQuorum's messages ([`ChainSpecError`]).
//!
//! Known difference: a key given twice in one object (in any letter case) is an error here,
//! where Go keeps the last value.
//!
//! # Per-block GoQuorum settings
//!
//! [`ChainSpec::gas_price_enabled_at`], [`ChainSpec::max_code_size_at`],
//! [`ChainSpec::tx_size_limit_at`], [`ChainSpec::privacy_enhancements_at`],
//! [`ChainSpec::privacy_precompile_at`], [`ChainSpec::enhanced_permissioning_at`],
//! [`ChainSpec::miner_gas_limit_at`] and [`ChainSpec::bft_at`] fold the genesis values with
//! `transitions[]` the way GoQuorum does (later transitions override earlier ones).
//!
//! # Fork activation
//!
//! A fork is active only when it and every earlier fork are active (effective activation =
//! max over its predecessors); time-based forks (Shanghai+) additionally require London. So the
//! quickstart's `berlinBlock: 10000000` with `londonBlock: 0` means London at 10,000,000, which
//! reproduces GoQuorum's behaviour (no London, no base fee) for those chains. Details in
//! [`hardfork`].
//!
//! # Genesis block
//!
//! [`ChainSpec::genesis_header`] follows geth's `Genesis.ToBlock`; [`ChainSpec::genesis_hash`]
//! reproduces the published mainnet, Sepolia and Holesky hashes. On `isQuorum` chains with London
//! at genesis the base fee is 0 unless the file sets `baseFeePerGas`.

#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bft;
pub mod config;
pub mod consensus;
mod dev;
mod error;
pub mod genesis;
pub mod hardfork;
pub mod header;
mod json;
mod spec;
pub mod trie;
mod validate;

pub use bft::{BftAlgorithm, BftSettings, ValidatorSelection};
pub use config::{ChainConfig, MaxCodeSizeEntry, Transition};
pub use consensus::{BftConfig, CliqueConfig, ConsensusConfig, IstanbulConfig};
pub use dev::DEV_GAS_LIMIT;
pub use error::ChainSpecError;
pub use genesis::{Genesis, GenesisAccount};
pub use hardfork::{ForkSchedule, Hardfork};
pub use json::num::{parse_u64, parse_u256};
pub use spec::{ChainSpec, DEFAULT_MAX_CODE_SIZE};
pub use validate::DEFAULT_TXN_SIZE_LIMIT_KB;

/// `mixHash` of IBFT/QBFT blocks: "Istanbul practical byzantine fault tolerance" digest.
pub const ISTANBUL_DIGEST: alloy_primitives::B256 =
    alloy_primitives::b256!("63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365");
