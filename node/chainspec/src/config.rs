//! The `config` section of a GoQuorum `genesis.json`: fork blocks, Quorum keys, transitions.
//!
//! Every field name is the lower-cased Go JSON tag; [`crate::ChainSpec::from_json`] lower-cases
//! the document's keys first, which gives Go's case-insensitive matching.

use alloy_primitives::{Address, U256};
use serde::Deserialize;

use crate::consensus::{BftConfig, CliqueConfig, IstanbulConfig};
use crate::json::num;

/// The parsed `config` object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ChainConfig {
    /// `chainId`.
    #[serde(default, rename = "chainid", deserialize_with = "num::opt_u64")]
    pub chain_id: Option<u64>,
    /// `homesteadBlock`.
    #[serde(default, rename = "homesteadblock", deserialize_with = "num::opt_u64")]
    pub homestead_block: Option<u64>,
    /// `eip150Block` (Tangerine Whistle).
    #[serde(default, rename = "eip150block", deserialize_with = "num::opt_u64")]
    pub eip150_block: Option<u64>,
    /// `eip155Block` (replay-protected signatures).
    #[serde(default, rename = "eip155block", deserialize_with = "num::opt_u64")]
    pub eip155_block: Option<u64>,
    /// `eip158Block` (Spurious Dragon state clearing).
    #[serde(default, rename = "eip158block", deserialize_with = "num::opt_u64")]
    pub eip158_block: Option<u64>,
    /// `byzantiumBlock`.
    #[serde(default, rename = "byzantiumblock", deserialize_with = "num::opt_u64")]
    pub byzantium_block: Option<u64>,
    /// `constantinopleBlock`.
    #[serde(default, rename = "constantinopleblock", deserialize_with = "num::opt_u64")]
    pub constantinople_block: Option<u64>,
    /// `petersburgBlock`; when absent geth uses `constantinopleBlock`.
    #[serde(default, rename = "petersburgblock", deserialize_with = "num::opt_u64")]
    pub petersburg_block: Option<u64>,
    /// `istanbulBlock`.
    #[serde(default, rename = "istanbulblock", deserialize_with = "num::opt_u64")]
    pub istanbul_block: Option<u64>,
    /// `muirGlacierBlock` (difficulty bomb only; optional).
    #[serde(default, rename = "muirglacierblock", deserialize_with = "num::opt_u64")]
    pub muir_glacier_block: Option<u64>,
    /// `berlinBlock`.
    #[serde(default, rename = "berlinblock", deserialize_with = "num::opt_u64")]
    pub berlin_block: Option<u64>,
    /// `londonBlock`.
    #[serde(default, rename = "londonblock", deserialize_with = "num::opt_u64")]
    pub london_block: Option<u64>,
    /// `arrowGlacierBlock` (difficulty bomb only; optional).
    #[serde(default, rename = "arrowglacierblock", deserialize_with = "num::opt_u64")]
    pub arrow_glacier_block: Option<u64>,
    /// `grayGlacierBlock` (difficulty bomb only; optional).
    #[serde(default, rename = "grayglacierblock", deserialize_with = "num::opt_u64")]
    pub gray_glacier_block: Option<u64>,
    /// `mergeNetsplitBlock` (Paris by block number).
    #[serde(default, rename = "mergenetsplitblock", deserialize_with = "num::opt_u64")]
    pub merge_netsplit_block: Option<u64>,
    /// `terminalTotalDifficulty`; 0 means merged from genesis.
    #[serde(default, rename = "terminaltotaldifficulty", deserialize_with = "num::opt_u256")]
    pub terminal_total_difficulty: Option<U256>,
    /// `terminalTotalDifficultyPassed`.
    #[serde(default, rename = "terminaltotaldifficultypassed")]
    pub terminal_total_difficulty_passed: bool,
    /// `shanghaiTime`.
    #[serde(default, rename = "shanghaitime", deserialize_with = "num::opt_u64")]
    pub shanghai_time: Option<u64>,
    /// `cancunTime`.
    #[serde(default, rename = "cancuntime", deserialize_with = "num::opt_u64")]
    pub cancun_time: Option<u64>,
    /// `pragueTime`.
    #[serde(default, rename = "praguetime", deserialize_with = "num::opt_u64")]
    pub prague_time: Option<u64>,
    /// `osakaTime`.
    #[serde(default, rename = "osakatime", deserialize_with = "num::opt_u64")]
    pub osaka_time: Option<u64>,

    /// `isQuorum`: private transactions, zero gas price, no base fee.
    #[serde(default, rename = "isquorum")]
    pub is_quorum: bool,
    /// `txnSizeLimit` in KB (0 = default 64).
    #[serde(default, rename = "txnsizelimit", deserialize_with = "num::u64_or_zero")]
    pub txn_size_limit: u64,
    /// `maxCodeSize` in KB (deprecated; 0 = geth default 24576 bytes).
    #[serde(default, rename = "maxcodesize", deserialize_with = "num::u64_or_zero")]
    pub max_code_size: u64,
    /// `maxCodeSizeChangeBlock`: where `maxCodeSize` starts to apply.
    #[serde(default, rename = "maxcodesizechangeblock", deserialize_with = "num::opt_u64")]
    pub max_code_size_change_block: Option<u64>,
    /// `maxCodeSizeConfig` (deprecated in favour of transitions `contractsizelimit`).
    #[serde(default, rename = "maxcodesizeconfig")]
    pub max_code_size_config: Vec<MaxCodeSizeEntry>,
    /// `qip714Block`: enhanced (contract) permissioning.
    #[serde(default, rename = "qip714block", deserialize_with = "num::opt_u64")]
    pub qip714_block: Option<u64>,
    /// `privacyEnhancementsBlock`.
    #[serde(default, rename = "privacyenhancementsblock", deserialize_with = "num::opt_u64")]
    pub privacy_enhancements_block: Option<u64>,
    /// `privacyPrecompileBlock`.
    #[serde(default, rename = "privacyprecompileblock", deserialize_with = "num::opt_u64")]
    pub privacy_precompile_block: Option<u64>,
    /// `enableGasPriceBlock`.
    #[serde(default, rename = "enablegaspriceblock", deserialize_with = "num::opt_u64")]
    pub enable_gas_price_block: Option<u64>,
    /// `isMPS`: multiple private states.
    #[serde(default, rename = "ismps")]
    pub is_mps: bool,
    /// `transitions[]`, in ascending block order.
    #[serde(default)]
    pub transitions: Vec<Transition>,

    /// `qbft` section.
    #[serde(default)]
    pub qbft: Option<BftConfig>,
    /// `ibft` section.
    #[serde(default)]
    pub ibft: Option<BftConfig>,
    /// Legacy `istanbul` section.
    #[serde(default)]
    pub istanbul: Option<IstanbulConfig>,
    /// `raft` section (GoQuorum selects raft with `--raft`; any object here also selects it).
    #[serde(default)]
    pub raft: Option<serde_json::Value>,
    /// `clique` section.
    #[serde(default)]
    pub clique: Option<CliqueConfig>,
    /// `ethash` section.
    #[serde(default)]
    pub ethash: Option<serde_json::Value>,
}

/// One `maxCodeSizeConfig` entry: from `block` on, code may be `size` KB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct MaxCodeSizeEntry {
    /// First block the size applies to.
    #[serde(deserialize_with = "num::u64_or_zero")]
    pub block: u64,
    /// Size in KB.
    #[serde(deserialize_with = "num::u64_or_zero")]
    pub size: u64,
}

/// One `transitions[]` entry: settings that change from `block` on. `None`/0 leaves a setting as is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Transition {
    /// First block the transition applies to (required).
    #[serde(deserialize_with = "num::u64_or_zero")]
    pub block: u64,
    /// `algorithm`: `"ibft"` or `"qbft"`.
    #[serde(default)]
    pub algorithm: Option<String>,
    /// `epochlength`.
    #[serde(default, rename = "epochlength", deserialize_with = "num::opt_u64")]
    pub epoch_length: Option<u64>,
    /// `blockperiodseconds`.
    #[serde(default, rename = "blockperiodseconds", deserialize_with = "num::opt_u64")]
    pub block_period_seconds: Option<u64>,
    /// `emptyblockperiodseconds`.
    #[serde(default, rename = "emptyblockperiodseconds", deserialize_with = "num::opt_u64")]
    pub empty_block_period_seconds: Option<u64>,
    /// `requesttimeoutseconds`.
    #[serde(default, rename = "requesttimeoutseconds", deserialize_with = "num::opt_u64")]
    pub request_timeout_seconds: Option<u64>,
    /// `contractsizelimit` in KB.
    #[serde(default, rename = "contractsizelimit", deserialize_with = "num::opt_u64")]
    pub contract_size_limit: Option<u64>,
    /// `validatorcontractaddress`.
    #[serde(default, rename = "validatorcontractaddress", deserialize_with = "num::opt_address")]
    pub validator_contract_address: Option<Address>,
    /// `validators`.
    #[serde(default, deserialize_with = "num::addresses")]
    pub validators: Vec<Address>,
    /// `validatorselectionmode`: `"contract"` or `"blockheader"`.
    #[serde(default, rename = "validatorselectionmode")]
    pub validator_selection_mode: Option<String>,
    /// `enhancedPermissioningEnabled`.
    #[serde(default, rename = "enhancedpermissioningenabled")]
    pub enhanced_permissioning_enabled: Option<bool>,
    /// `privacyEnhancementsEnabled`.
    #[serde(default, rename = "privacyenhancementsenabled")]
    pub privacy_enhancements_enabled: Option<bool>,
    /// `privacyPrecompileEnabled`.
    #[serde(default, rename = "privacyprecompileenabled")]
    pub privacy_precompile_enabled: Option<bool>,
    /// `gasPriceEnabled`.
    #[serde(default, rename = "gaspriceenabled")]
    pub gas_price_enabled: Option<bool>,
    /// `miner.gaslimit`.
    #[serde(default, rename = "miner.gaslimit", deserialize_with = "num::opt_u64")]
    pub miner_gas_limit: Option<u64>,
    /// `2FPlus1Enabled`: use 2F+1 instead of ceil(2N/3) as quorum size.
    #[serde(default, rename = "2fplus1enabled")]
    pub two_f_plus_one_enabled: Option<bool>,
    /// `transactionSizeLimit` in KB.
    #[serde(default, rename = "transactionsizelimit", deserialize_with = "num::opt_u64")]
    pub transaction_size_limit: Option<u64>,
    /// `blockReward` in wei.
    #[serde(default, rename = "blockreward", deserialize_with = "num::opt_u256")]
    pub block_reward: Option<U256>,
    /// `beneficiaryMode`: `list`, `besu`, `validators`, `fixed`.
    #[serde(default, rename = "beneficiarymode")]
    pub beneficiary_mode: Option<String>,
    /// `miningBeneficiary`.
    #[serde(default, rename = "miningbeneficiary", deserialize_with = "num::opt_address")]
    pub mining_beneficiary: Option<Address>,
    /// `maxRequestTimeoutSeconds`.
    #[serde(default, rename = "maxrequesttimeoutseconds", deserialize_with = "num::opt_u64")]
    pub max_request_timeout_seconds: Option<u64>,
}

impl ChainConfig {
    /// Folds `pick` over the transitions that apply at `block`, in order, starting from `initial`
    /// (GoQuorum's `GetTransitionValue`: later transitions override earlier ones).
    pub fn transition_value<T>(
        &self,
        block: u64,
        initial: T,
        pick: impl Fn(&Transition) -> Option<T>,
    ) -> T {
        self.transitions
            .iter()
            .take_while(|t| t.block <= block)
            .fold(initial, |acc, t| pick(t).unwrap_or(acc))
    }
}
