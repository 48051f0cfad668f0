//! The genesis block fields and the `alloc` section of a `genesis.json`.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256};
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::json::num;

/// The top-level fields of a geth/GoQuorum `genesis.json` (everything except `config`).
///
/// Keys are matched after lower-casing (see [`crate::ChainSpec::from_json`]); unknown keys
/// such as `stateRoot`, `privateKey` or `comment` are ignored like geth does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Genesis {
    /// Header `nonce`.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub nonce: u64,
    /// Header `timestamp` (seconds; raft chains use 0).
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub timestamp: u64,
    /// Header `extraData` (BFT chains carry the validator list here).
    #[serde(default, rename = "extradata", deserialize_with = "num::bytes")]
    pub extra_data: Bytes,
    /// Header `gasLimit`; 0 means geth's default 4,712,388.
    #[serde(default, rename = "gaslimit", deserialize_with = "num::u64_or_zero")]
    pub gas_limit: u64,
    /// Header `difficulty`; `None` means geth's default 131,072.
    #[serde(default, deserialize_with = "num::opt_u256")]
    pub difficulty: Option<U256>,
    /// Header `mixHash` (`IstanbulDigest` on IBFT/QBFT chains).
    #[serde(default, rename = "mixhash", deserialize_with = "num::b256_or_zero")]
    pub mix_hash: B256,
    /// Header `coinbase`.
    #[serde(default, deserialize_with = "num::address_or_zero")]
    pub coinbase: Address,
    /// Pre-funded accounts, by address.
    #[serde(default, deserialize_with = "alloc")]
    pub alloc: BTreeMap<Address, GenesisAccount>,
    /// Header `number` (normally 0).
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub number: u64,
    /// Header `gasUsed` (normally 0).
    #[serde(default, rename = "gasused", deserialize_with = "num::u64_or_zero")]
    pub gas_used: u64,
    /// Header `parentHash` (normally zero).
    #[serde(default, rename = "parenthash", deserialize_with = "num::b256_or_zero")]
    pub parent_hash: B256,
    /// Header `baseFeePerGas`, used when London is active at genesis.
    #[serde(default, rename = "basefeepergas", deserialize_with = "num::opt_u64")]
    pub base_fee_per_gas: Option<u64>,
    /// Header `excessBlobGas`, used when Cancun is active at genesis.
    #[serde(default, rename = "excessblobgas", deserialize_with = "num::opt_u64")]
    pub excess_blob_gas: Option<u64>,
    /// Header `blobGasUsed`, used when Cancun is active at genesis.
    #[serde(default, rename = "blobgasused", deserialize_with = "num::opt_u64")]
    pub blob_gas_used: Option<u64>,
}

/// One `alloc` entry. `privateKey`, `comment` and other extra keys are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct GenesisAccount {
    /// Balance in wei (decimal or `0x`-hex string, or a JSON number).
    #[serde(default, deserialize_with = "num::u256_or_zero")]
    pub balance: U256,
    /// Account nonce.
    #[serde(default, deserialize_with = "num::u64_or_zero")]
    pub nonce: u64,
    /// Contract code.
    #[serde(default, deserialize_with = "num::bytes")]
    pub code: Bytes,
    /// Storage slots. Zero values are dropped when the state root is computed, as in geth.
    #[serde(default, deserialize_with = "storage")]
    pub storage: BTreeMap<B256, B256>,
}

impl GenesisAccount {
    /// An account holding only `balance`.
    pub fn with_balance(balance: U256) -> Self {
        Self { balance, ..Self::default() }
    }
}

fn alloc<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Address, GenesisAccount>, D::Error> {
    let raw: Option<BTreeMap<String, GenesisAccount>> = Option::deserialize(d)?;
    raw.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| {
            num::parse_address(&k)
                .map(|a| (a, v))
                .ok_or_else(|| D::Error::custom(format!("invalid alloc address {k:?}")))
        })
        .collect()
}

fn storage<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<B256, B256>, D::Error> {
    let raw: Option<BTreeMap<String, String>> = Option::deserialize(d)?;
    raw.unwrap_or_default()
        .into_iter()
        .map(|(k, v)| match (num::parse_b256(&k), num::parse_b256(&v)) {
            (Some(k), Some(v)) => Ok((k, v)),
            _ => Err(D::Error::custom(format!("invalid storage entry {k:?}: {v:?}"))),
        })
        .collect()
}
