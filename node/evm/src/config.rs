//! Mapping the chain spec and a block's header fields to revm's configuration.

use alloy_consensus::Header;
use alloy_primitives::{Address, B256, U256};
use qrs_chainspec::{ChainSpec, Hardfork};
use revm::{
    context::{BlockEnv, CfgEnv},
    context_interface::block::BlobExcessGasAndPrice,
    primitives::hardfork::SpecId,
};

/// The revm spec for a fork. revm has no separate Constantinople (it is Petersburg minus
/// EIP-1283, which no Quorum chain runs) nor the difficulty-bomb forks.
pub fn spec_id(fork: Hardfork) -> SpecId {
    match fork {
        Hardfork::Frontier => SpecId::FRONTIER,
        Hardfork::Homestead => SpecId::HOMESTEAD,
        Hardfork::Tangerine => SpecId::TANGERINE,
        Hardfork::SpuriousDragon => SpecId::SPURIOUS_DRAGON,
        Hardfork::Byzantium => SpecId::BYZANTIUM,
        Hardfork::Constantinople | Hardfork::Petersburg => SpecId::PETERSBURG,
        Hardfork::Istanbul | Hardfork::MuirGlacier => SpecId::ISTANBUL,
        Hardfork::Berlin => SpecId::BERLIN,
        Hardfork::London | Hardfork::ArrowGlacier | Hardfork::GrayGlacier => SpecId::LONDON,
        Hardfork::Paris => SpecId::MERGE,
        Hardfork::Shanghai => SpecId::SHANGHAI,
        Hardfork::Cancun => SpecId::CANCUN,
        Hardfork::Prague => SpecId::PRAGUE,
        Hardfork::Osaka => SpecId::OSAKA,
    }
}

/// The fields of a block that execution needs (known before the header is sealed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContext {
    /// Block number.
    pub number: u64,
    /// Timestamp in seconds.
    pub timestamp: u64,
    /// Coinbase.
    pub beneficiary: Address,
    /// Gas limit.
    pub gas_limit: u64,
    /// Base fee (0 on free-gas chains).
    pub base_fee: u64,
    /// Difficulty.
    pub difficulty: U256,
    /// mixHash / prevrandao.
    pub mix_hash: B256,
    /// EIP-4844 excess blob gas when Cancun is active.
    pub excess_blob_gas: Option<u64>,
}

impl BlockContext {
    /// The context of an existing block.
    pub fn from_header(h: &Header) -> Self {
        Self {
            number: h.number,
            timestamp: h.timestamp,
            beneficiary: h.beneficiary,
            gas_limit: h.gas_limit,
            base_fee: h.base_fee_per_gas.unwrap_or_default(),
            difficulty: h.difficulty,
            mix_hash: h.mix_hash,
            excess_blob_gas: h.excess_blob_gas,
        }
    }
}

/// Everything revm needs to know about the rules at one block.
#[derive(Debug, Clone)]
pub struct EvmConfig {
    /// The active fork.
    pub spec: SpecId,
    /// The chain id transactions must carry.
    pub chain_id: u64,
    /// No fees are charged (Quorum's free gas).
    pub free_gas: bool,
    /// The contract code size limit in bytes.
    pub max_code_size: usize,
    /// GoQuorum's privacy enhancements are on (`privacyEnhancementsBlock`, transitions).
    pub privacy_enhancements: bool,
    /// GoQuorum's privacy precompile is on (`privacyPrecompileBlock`, transitions): privacy
    /// marker transactions apply their inner private transaction ([`crate::pmt`]).
    pub privacy_precompile: bool,
}

impl EvmConfig {
    /// The rules of `chain` at a block.
    pub fn at(chain: &ChainSpec, number: u64, timestamp: u64) -> Self {
        Self {
            spec: spec_id(chain.hardfork_at(number, timestamp)),
            chain_id: chain.chain_id,
            free_gas: !chain.gas_price_enabled_at(number),
            max_code_size: chain.max_code_size_at(number),
            privacy_enhancements: chain.privacy_enhancements_at(number),
            privacy_precompile: chain.privacy_precompile_at(number),
        }
    }

    /// revm's configuration.
    pub fn cfg_env(&self) -> CfgEnv {
        let mut cfg = CfgEnv::new_with_spec(self.spec).with_chain_id(self.chain_id);
        cfg.limit_contract_code_size = Some(self.max_code_size);
        cfg.limit_contract_initcode_size = Some(self.max_code_size.saturating_mul(2));
        cfg.disable_fee_charge = self.free_gas;
        cfg
    }

    /// revm's block environment.
    pub fn block_env(&self, ctx: &BlockContext) -> BlockEnv {
        let blob = ctx.excess_blob_gas.filter(|_| self.spec >= SpecId::CANCUN).map(|excess| {
            let fraction = if self.spec >= SpecId::PRAGUE {
                revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_PRAGUE
            } else {
                revm::primitives::eip4844::BLOB_BASE_FEE_UPDATE_FRACTION_CANCUN
            };
            BlobExcessGasAndPrice::new(excess, fraction)
        });
        BlockEnv {
            number: U256::from(ctx.number),
            beneficiary: ctx.beneficiary,
            timestamp: U256::from(ctx.timestamp),
            gas_limit: ctx.gas_limit,
            basefee: ctx.base_fee,
            difficulty: ctx.difficulty,
            prevrandao: (self.spec >= SpecId::MERGE).then_some(ctx.mix_hash),
            blob_excess_gas_and_price: blob,
            ..Default::default()
        }
    }
}
