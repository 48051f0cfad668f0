//! IBFT/QBFT settings in force at a block: the genesis section folded with `transitions[]`
//! (GoQuorum `istanbul.Config.GetConfig` and `ChainConfig.GetTransitionValue`).

use alloy_primitives::{Address, U256};

use crate::ChainSpec;
use crate::consensus::{
    BftConfig, ConsensusConfig, DEFAULT_BLOCK_PERIOD_SECS, DEFAULT_REQUEST_TIMEOUT_SECS,
};

/// Which istanbul engine runs a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BftAlgorithm {
    /// Legacy IBFT.
    Ibft,
    /// QBFT.
    Qbft,
}

/// Where the validator set comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValidatorSelection {
    /// The `extraData` validator list and header votes (the default).
    BlockHeader,
    /// `getValidators()` of this contract.
    Contract(Address),
}

/// The BFT rules at one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BftSettings {
    /// IBFT or QBFT.
    pub algorithm: BftAlgorithm,
    /// Votes reset every `epoch_length` blocks.
    pub epoch_length: u64,
    /// Minimum seconds between blocks.
    pub block_period_seconds: u64,
    /// Minimum seconds before an empty block (0 = same as `block_period_seconds`).
    pub empty_block_period_seconds: u64,
    /// Round-0 timeout in milliseconds (`requesttimeoutseconds` × 1000).
    pub request_timeout_ms: u64,
    /// Cap on the round timeout, in seconds.
    pub max_request_timeout_seconds: Option<u64>,
    /// Proposer policy: 0 round-robin, 1 sticky.
    pub proposer_policy: u64,
    /// Quorum size is `ceil(2N/3)` (else `2F+1`).
    pub ceil_2n_by_3: bool,
    /// Validator set source.
    pub validator_selection: ValidatorSelection,
    /// GoQuorum `GetValidatorsAt`: the validators set explicitly for exactly this block — the
    /// config's `validators` at block 0, or the first transition's `validators` when that
    /// transition is at this block (GoQuorum only looks at the first one). Empty: take the set
    /// from the parent header (or the contract).
    pub validators_override: Vec<Address>,
    /// Block reward in wei (QBFT).
    pub block_reward: U256,
    /// `beneficiaryMode` (QBFT).
    pub beneficiary_mode: Option<String>,
    /// `miningBeneficiary` (QBFT).
    pub mining_beneficiary: Option<Address>,
}

impl ChainSpec {
    /// The IBFT/QBFT settings at `block`, or `None` when the chain is not an istanbul chain.
    pub fn bft_at(&self, block: u64) -> Option<BftSettings> {
        let (mut s, mut contract, mut mode) = match self.consensus() {
            ConsensusConfig::Qbft(c) => base(BftAlgorithm::Qbft, c),
            ConsensusConfig::Ibft(c) => base(BftAlgorithm::Ibft, c),
            ConsensusConfig::Istanbul(c) => {
                let qbft = c.test_qbft_block.is_some_and(|at| at <= block);
                let settings = BftSettings {
                    algorithm: if qbft { BftAlgorithm::Qbft } else { BftAlgorithm::Ibft },
                    epoch_length: c.epoch(),
                    block_period_seconds: DEFAULT_BLOCK_PERIOD_SECS,
                    empty_block_period_seconds: 0,
                    request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_SECS * 1000,
                    max_request_timeout_seconds: None,
                    proposer_policy: c.policy,
                    ceil_2n_by_3: c.ceil2nby3_block.is_some_and(|at| at <= block),
                    validator_selection: ValidatorSelection::BlockHeader,
                    validators_override: Vec::new(),
                    block_reward: U256::ZERO,
                    beneficiary_mode: None,
                    mining_beneficiary: None,
                };
                (settings, None, None)
            }
            _ => return None,
        };
        if let ConsensusConfig::Qbft(c) | ConsensusConfig::Ibft(c) = self.consensus() {
            s.ceil_2n_by_3 = c.ceil2nby3_block.unwrap_or(0) <= block;
        }
        for t in self.config.transitions.iter().take_while(|t| t.block <= block) {
            if let Some(alg) = &t.algorithm {
                if alg.eq_ignore_ascii_case("qbft") {
                    s.algorithm = BftAlgorithm::Qbft;
                } else if alg.eq_ignore_ascii_case("ibft") {
                    s.algorithm = BftAlgorithm::Ibft;
                }
            }
            set_non_zero(&mut s.epoch_length, t.epoch_length);
            set_non_zero(&mut s.block_period_seconds, t.block_period_seconds);
            if let Some(v) = t.empty_block_period_seconds {
                s.empty_block_period_seconds = v;
            }
            if let Some(v) = t.request_timeout_seconds.filter(|v| *v != 0) {
                s.request_timeout_ms = v.saturating_mul(1000);
            }
            if t.max_request_timeout_seconds.is_some() {
                s.max_request_timeout_seconds = t.max_request_timeout_seconds;
            }
            if let Some(a) = t.validator_contract_address.filter(|a| !a.is_zero()) {
                contract = Some(a);
            }
            if let Some(m) = t.validator_selection_mode.as_ref().filter(|m| !m.is_empty()) {
                mode = Some(m.clone());
            }
            if let Some(two_f_plus_one) = t.two_f_plus_one_enabled {
                s.ceil_2n_by_3 = !two_f_plus_one;
            }
            if let Some(r) = t.block_reward {
                s.block_reward = r;
            }
            if t.beneficiary_mode.is_some() {
                s.beneficiary_mode.clone_from(&t.beneficiary_mode);
            }
            if t.mining_beneficiary.is_some() {
                s.mining_beneficiary = t.mining_beneficiary;
            }
        }
        // GoQuorum: the mode defaults to "blockheader"; only an explicit "contract" uses the
        // (folded) `validatorcontractaddress`.
        s.validator_selection = match (mode.as_deref(), contract) {
            (Some(m), Some(a)) if m.eq_ignore_ascii_case("contract") => {
                ValidatorSelection::Contract(a)
            }
            _ => ValidatorSelection::BlockHeader,
        };
        let configured = std::mem::take(&mut s.validators_override);
        s.validators_override = if block == 0 && !configured.is_empty() {
            configured
        } else {
            match self.config.transitions.first() {
                Some(t) if t.block == block => t.validators.clone(),
                _ => Vec::new(),
            }
        };
        Some(s)
    }
}

fn base(algorithm: BftAlgorithm, c: &BftConfig) -> (BftSettings, Option<Address>, Option<String>) {
    let settings = BftSettings {
        algorithm,
        epoch_length: c.epoch_length(),
        block_period_seconds: c.block_period_seconds(),
        empty_block_period_seconds: c.empty_block_period_seconds.unwrap_or(0),
        request_timeout_ms: c.request_timeout_seconds().saturating_mul(1000),
        max_request_timeout_seconds: c.max_request_timeout_seconds,
        proposer_policy: c.policy,
        ceil_2n_by_3: true,
        validator_selection: ValidatorSelection::BlockHeader,
        validators_override: c.validators.clone(),
        block_reward: c.block_reward.unwrap_or_default(),
        beneficiary_mode: c.beneficiary_mode.clone(),
        mining_beneficiary: c.mining_beneficiary,
    };
    (
        settings,
        c.validator_contract_address.filter(|a| !a.is_zero()),
        c.validator_selection_mode.clone(),
    )
}

fn set_non_zero(slot: &mut u64, value: Option<u64>) {
    if let Some(v) = value.filter(|v| *v != 0) {
        *slot = v;
    }
}
