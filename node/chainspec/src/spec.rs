//! [`ChainSpec`]: a validated genesis with its fork schedule and GoQuorum settings.

use std::path::Path;
use std::sync::OnceLock;

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use serde::Deserialize;

use crate::config::ChainConfig;
use crate::consensus::ConsensusConfig;
use crate::genesis::Genesis;
use crate::hardfork::{ForkSchedule, Hardfork};
use crate::json::keys::lowercase_keys;
use crate::validate::{DEFAULT_TXN_SIZE_LIMIT_KB, validate};
use crate::{ChainSpecError, header, trie};

/// geth's default contract code size limit (EIP-170), in bytes.
pub const DEFAULT_MAX_CODE_SIZE: usize = 24_576;

/// A loaded chain: genesis block, fork schedule, consensus and GoQuorum settings.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// `config.chainId`.
    pub chain_id: u64,
    /// The genesis block fields and `alloc`.
    pub genesis: Genesis,
    /// The parsed `config` section.
    pub config: ChainConfig,
    consensus: ConsensusConfig,
    forks: ForkSchedule,
    state_root: OnceLock<B256>,
}

/// Only the `config` key, parsed in a separate pass so `Genesis` stays free of it.
#[derive(Deserialize)]
struct ConfigOnly {
    #[serde(default)]
    config: Option<ChainConfig>,
}

impl ChainSpec {
    /// Parses and validates a GoQuorum `genesis.json`.
    ///
    /// Keys are matched case-insensitively (Go `encoding/json`); numbers may be JSON numbers or
    /// hex/decimal strings. GoQuorum's checks apply: chain id 1 refused, `txnSizeLimit` 32–128,
    /// code sizes 24–128 KB, `istanbul`/`ibft`/`qbft` mutually exclusive, transitions ascending.
    pub fn from_json(json: &str) -> Result<Self, ChainSpecError> {
        let spec = Self::from_json_unchecked(json)?;
        validate(&spec.config)?;
        tracing::debug!(target: "chainspec", chain_id = spec.chain_id, consensus = spec.consensus.name(),
            accounts = spec.genesis.alloc.len(), "loaded genesis");
        Ok(spec)
    }

    /// Reads and parses a `genesis.json` file (see [`ChainSpec::from_json`]).
    pub fn from_file(path: &Path) -> Result<Self, ChainSpecError> {
        let json = std::fs::read_to_string(path)
            .map_err(|source| ChainSpecError::Io { path: path.to_path_buf(), source })?;
        Self::from_json(&json)
    }

    /// Parses a genesis without GoQuorum's validation (chain id 1 and size limits are allowed).
    ///
    /// For public Ethereum genesis files and tools; a node must use [`ChainSpec::from_json`].
    /// A `config` with a `chainId` is still required.
    pub fn from_json_unchecked(json: &str) -> Result<Self, ChainSpecError> {
        let normalised = lowercase_keys(json)?;
        let config = serde_json::from_str::<ConfigOnly>(&normalised)?
            .config
            .ok_or(ChainSpecError::MissingConfig)?;
        let genesis: Genesis = serde_json::from_str(&normalised)?;
        Self::from_parts(genesis, config)
    }

    /// Builds a spec from already parsed parts (no GoQuorum validation beyond a chain id).
    pub fn from_parts(genesis: Genesis, config: ChainConfig) -> Result<Self, ChainSpecError> {
        let chain_id = config.chain_id.ok_or(ChainSpecError::MissingChainId)?;
        Ok(Self::assemble(chain_id, genesis, config))
    }

    /// Infallible constructor once the chain id is known.
    pub(crate) fn assemble(chain_id: u64, genesis: Genesis, config: ChainConfig) -> Self {
        let consensus = consensus_of(&config);
        let forks = ForkSchedule::new(&config);
        Self { chain_id, genesis, config, consensus, forks, state_root: OnceLock::new() }
    }

    /// A single-node development chain like `geth --dev`: every fork up to and including Prague
    /// active at genesis, `isQuorum` with a zero London base fee, gas limit 30,000,000 (0x1c9c380),
    /// the given accounts funded, a block every `period_secs` seconds.
    pub fn dev(chain_id: u64, funded: &[(Address, U256)], period_secs: u64) -> Self {
        crate::dev::dev_spec(chain_id, funded, period_secs)
    }

    /// Replaces the consensus selection (used by [`ChainSpec::dev`], or by a node started with
    /// `--raft` on a genesis without a consensus section).
    pub fn with_consensus(mut self, consensus: ConsensusConfig) -> Self {
        self.consensus = consensus;
        self
    }

    /// The consensus section the genesis selects.
    pub fn consensus(&self) -> &ConsensusConfig {
        &self.consensus
    }

    /// The effective fork schedule.
    pub fn forks(&self) -> &ForkSchedule {
        &self.forks
    }

    /// The latest fork active at (`block`, `timestamp`); see [`crate::hardfork`] for the rule.
    pub fn hardfork_at(&self, block: u64, timestamp: u64) -> Hardfork {
        self.forks.hardfork_at(block, timestamp)
    }

    /// Whether `fork` is active at (`block`, `timestamp`).
    pub fn is_active(&self, fork: Hardfork, block: u64, timestamp: u64) -> bool {
        self.hardfork_at(block, timestamp) >= fork
    }

    /// Whether EIP-155 (chain id in signatures) applies at `block`.
    pub fn is_eip155(&self, block: u64) -> bool {
        self.forks.is_eip155(block)
    }

    /// `isQuorum`.
    pub fn is_quorum(&self) -> bool {
        self.config.is_quorum
    }

    /// `isMPS`.
    pub fn is_mps(&self) -> bool {
        self.config.is_mps
    }

    /// Whether a non-zero gas price is allowed at `block` (`enableGasPriceBlock`, then
    /// transitions `gasPriceEnabled`).
    pub fn gas_price_enabled_at(&self, block: u64) -> bool {
        let initial = reached(self.config.enable_gas_price_block, block);
        self.config.transition_value(block, initial, |t| t.gas_price_enabled)
    }

    /// Whether privacy enhancements are on at `block` (`privacyEnhancementsBlock`, transitions).
    pub fn privacy_enhancements_at(&self, block: u64) -> bool {
        let initial = reached(self.config.privacy_enhancements_block, block);
        self.config.transition_value(block, initial, |t| t.privacy_enhancements_enabled)
    }

    /// Whether the privacy-marker precompile is on at `block` (`privacyPrecompileBlock`, transitions).
    pub fn privacy_precompile_at(&self, block: u64) -> bool {
        let initial = reached(self.config.privacy_precompile_block, block);
        self.config.transition_value(block, initial, |t| t.privacy_precompile_enabled)
    }

    /// Whether enhanced (contract) permissioning is on at `block` (`qip714Block`, transitions).
    pub fn enhanced_permissioning_at(&self, block: u64) -> bool {
        let initial = reached(self.config.qip714_block, block);
        self.config.transition_value(block, initial, |t| t.enhanced_permissioning_enabled)
    }

    /// Maximum contract code size in bytes at `block` (GoQuorum `GetMaxCodeSize`): 24576 by
    /// default, then `maxCodeSizeConfig` or `maxCodeSize`/`maxCodeSizeChangeBlock`, then
    /// transitions `contractsizelimit` (all in KB).
    pub fn max_code_size_at(&self, block: u64) -> usize {
        let c = &self.config;
        let mut kb: Option<u64> = None;
        if !c.max_code_size_config.is_empty() {
            for entry in c.max_code_size_config.iter().take_while(|e| e.block <= block) {
                kb = Some(entry.size);
            }
        } else if c.max_code_size > 0 && c.max_code_size_change_block.is_none_or(|at| at <= block) {
            kb = Some(c.max_code_size);
        }
        let kb =
            c.transition_value(block, kb, |t| t.contract_size_limit.filter(|v| *v != 0).map(Some));
        kb.map_or(DEFAULT_MAX_CODE_SIZE, kb_to_bytes)
    }

    /// Maximum transaction size in bytes at `block`: `txnSizeLimit` KB (default 64), then
    /// transitions `transactionSizeLimit`.
    pub fn tx_size_limit_at(&self, block: u64) -> usize {
        let base = if self.config.txn_size_limit == 0 {
            DEFAULT_TXN_SIZE_LIMIT_KB
        } else {
            self.config.txn_size_limit
        };
        let kb = self
            .config
            .transition_value(block, base, |t| t.transaction_size_limit.filter(|v| *v != 0));
        kb_to_bytes(kb)
    }

    /// Block gas limit the miner targets at `block` from transitions `miner.gaslimit`, if any.
    pub fn miner_gas_limit_at(&self, block: u64) -> Option<u64> {
        self.config
            .transition_value(block, None, |t| t.miner_gas_limit.filter(|v| *v != 0).map(Some))
    }

    /// The genesis header (geth `Genesis.ToBlock` rules; see [`crate::header`]).
    pub fn genesis_header(&self) -> Header {
        header::genesis_header(self, self.genesis_state_root())
    }

    /// The genesis state root (computed once, then cached).
    pub fn genesis_state_root(&self) -> B256 {
        *self.state_root.get_or_init(|| trie::state_root(&self.genesis.alloc))
    }

    /// `keccak256(rlp(genesis header))`. For IBFT/QBFT genesis `extraData` without committed
    /// seals this equals GoQuorum's filtered istanbul hash.
    pub fn genesis_hash(&self) -> B256 {
        self.genesis_header().hash_slow()
    }
}

fn reached(at: Option<u64>, block: u64) -> bool {
    at.is_some_and(|at| at <= block)
}

fn kb_to_bytes(kb: u64) -> usize {
    usize::try_from(kb.saturating_mul(1024)).unwrap_or(usize::MAX)
}

fn consensus_of(c: &ChainConfig) -> ConsensusConfig {
    if let Some(q) = &c.qbft {
        ConsensusConfig::Qbft(q.clone())
    } else if let Some(i) = &c.ibft {
        ConsensusConfig::Ibft(i.clone())
    } else if let Some(i) = &c.istanbul {
        ConsensusConfig::Istanbul(i.clone())
    } else if c.raft.is_some() {
        ConsensusConfig::Raft
    } else if let Some(cl) = &c.clique {
        ConsensusConfig::Clique(cl.clone())
    } else if c.ethash.is_some() {
        ConsensusConfig::Ethash
    } else {
        ConsensusConfig::None
    }
}
