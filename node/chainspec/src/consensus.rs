//! Consensus sections of the genesis config (`qbft`, `ibft`, `istanbul`, `clique`, …) and the
//! resolved [`ConsensusConfig`].

use alloy_primitives::{Address, U256};
use serde::Deserialize;

use crate::json::num;

/// GoQuorum `DefaultConfig` epoch length (blocks).
pub const DEFAULT_EPOCH: u64 = 30_000;
/// GoQuorum `DefaultConfig` block period (seconds). The docs say 1 s; the code says 5.
pub const DEFAULT_BLOCK_PERIOD_SECS: u64 = 5;
/// GoQuorum `DefaultConfig` request timeout (seconds; 10,000 ms).
pub const DEFAULT_REQUEST_TIMEOUT_SECS: u64 = 10;

/// `config.qbft` / `config.ibft` (GoQuorum `BFTConfig`, QBFT extras included).
///
/// Zero values mean "use the default", as in GoQuorum; [`BftConfig::epoch_length`] and the other
/// accessors apply the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct BftConfig {
    /// `epochlength` (0 = 30000).
    #[serde(default, rename = "epochlength", deserialize_with = "num::u64_or_zero")]
    pub epoch_length_raw: u64,
    /// `blockperiodseconds` (0 = 5).
    #[serde(default, rename = "blockperiodseconds", deserialize_with = "num::u64_or_zero")]
    pub block_period_seconds_raw: u64,
    /// `emptyblockperiodseconds`.
    #[serde(default, rename = "emptyblockperiodseconds", deserialize_with = "num::opt_u64")]
    pub empty_block_period_seconds: Option<u64>,
    /// `requesttimeoutseconds` (0 = 10).
    #[serde(default, rename = "requesttimeoutseconds", deserialize_with = "num::u64_or_zero")]
    pub request_timeout_seconds_raw: u64,
    /// `policy`: 0 round-robin, 1 sticky.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub policy: u64,
    /// `ceil2Nby3Block` (defaults to 0 for `ibft`/`qbft`).
    #[serde(default, rename = "ceil2nby3block", deserialize_with = "num::opt_u64")]
    pub ceil2nby3_block: Option<u64>,
    /// `validatorcontractaddress`.
    #[serde(default, rename = "validatorcontractaddress", deserialize_with = "num::opt_address")]
    pub validator_contract_address: Option<Address>,
    /// `blockReward` (QBFT).
    #[serde(default, rename = "blockreward", deserialize_with = "num::opt_u256")]
    pub block_reward: Option<U256>,
    /// `beneficiaryMode` (QBFT).
    #[serde(default, rename = "beneficiarymode")]
    pub beneficiary_mode: Option<String>,
    /// `miningBeneficiary` (QBFT).
    #[serde(default, rename = "miningbeneficiary", deserialize_with = "num::opt_address")]
    pub mining_beneficiary: Option<Address>,
    /// `validatorselectionmode` (QBFT): `"contract"` or `"blockheader"`.
    #[serde(default, rename = "validatorselectionmode")]
    pub validator_selection_mode: Option<String>,
    /// `validators` (QBFT, for contract mode bootstrapping).
    #[serde(default, deserialize_with = "num::addresses")]
    pub validators: Vec<Address>,
    /// `maxRequestTimeoutSeconds` (QBFT).
    #[serde(default, rename = "maxrequesttimeoutseconds", deserialize_with = "num::opt_u64")]
    pub max_request_timeout_seconds: Option<u64>,
}

impl BftConfig {
    /// Epoch length in blocks, with GoQuorum's default.
    pub fn epoch_length(&self) -> u64 {
        non_zero_or(self.epoch_length_raw, DEFAULT_EPOCH)
    }
    /// Minimum seconds between blocks, with GoQuorum's default.
    pub fn block_period_seconds(&self) -> u64 {
        non_zero_or(self.block_period_seconds_raw, DEFAULT_BLOCK_PERIOD_SECS)
    }
    /// Round-0 request timeout in seconds, with GoQuorum's default.
    pub fn request_timeout_seconds(&self) -> u64 {
        non_zero_or(self.request_timeout_seconds_raw, DEFAULT_REQUEST_TIMEOUT_SECS)
    }
}

/// Legacy `config.istanbul` (`{epoch, policy, ceil2Nby3Block, testQBFTBlock}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct IstanbulConfig {
    /// `epoch` (0 = 30000).
    #[serde(default, rename = "epoch", deserialize_with = "num::u64_or_zero")]
    pub epoch_raw: u64,
    /// `policy`: 0 round-robin, 1 sticky.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub policy: u64,
    /// `ceil2Nby3Block`; absent means 2F+1 for ever (copied as is by GoQuorum).
    #[serde(default, rename = "ceil2nby3block", deserialize_with = "num::opt_u64")]
    pub ceil2nby3_block: Option<u64>,
    /// `testQBFTBlock`: switch from IBFT to QBFT at this block.
    #[serde(default, rename = "testqbftblock", deserialize_with = "num::opt_u64")]
    pub test_qbft_block: Option<u64>,
}

impl IstanbulConfig {
    /// Epoch length in blocks, with GoQuorum's default.
    pub fn epoch(&self) -> u64 {
        non_zero_or(self.epoch_raw, DEFAULT_EPOCH)
    }
}

/// `config.clique` (`{period, epoch}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct CliqueConfig {
    /// Seconds between blocks.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub period: u64,
    /// Epoch length in blocks.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub epoch: u64,
}

/// The consensus engine the genesis selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsensusConfig {
    /// `config.qbft`.
    Qbft(BftConfig),
    /// `config.ibft`.
    Ibft(BftConfig),
    /// Legacy `config.istanbul` (IBFT, optionally switching to QBFT at `testQBFTBlock`).
    Istanbul(IstanbulConfig),
    /// `config.raft` present. (GoQuorum itself selects raft with `--raft`.)
    Raft,
    /// `config.clique`.
    Clique(CliqueConfig),
    /// `config.ethash`.
    Ethash,
    /// Single-node development chain ([`crate::ChainSpec::dev`]), a block every `period_secs`.
    Dev {
        /// Seconds between blocks.
        period_secs: u64,
    },
    /// No consensus section (e.g. the quickstart raft genesis; the node decides from its flags).
    None,
}

impl ConsensusConfig {
    /// Short name for logs: `qbft`, `ibft`, `istanbul`, `raft`, `clique`, `ethash`, `dev`, `none`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Qbft(_) => "qbft",
            Self::Ibft(_) => "ibft",
            Self::Istanbul(_) => "istanbul",
            Self::Raft => "raft",
            Self::Clique(_) => "clique",
            Self::Ethash => "ethash",
            Self::Dev { .. } => "dev",
            Self::None => "none",
        }
    }
}

fn non_zero_or(v: u64, default: u64) -> u64 {
    if v == 0 { default } else { v }
}
