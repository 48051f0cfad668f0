//! The public Ethereum genesis files reproduce their published hashes.

use alloy_primitives::{B256, b256};
use qrs_chainspec::{ChainSpec, ChainSpecError};

use crate::common::fixtures;

/// Loads `ethereum-genesis/<name>` (which has no `config`) with the given config inserted.
fn load(name: &str, config: serde_json::Value) -> ChainSpec {
    let path = fixtures().join("ethereum-genesis").join(name);
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    doc["config"] = config;
    ChainSpec::from_json_unchecked(&doc.to_string()).unwrap()
}

#[test]
fn mainnet_genesis_hash_and_state_root() {
    let spec =
        load("mainnet.json", serde_json::json!({ "chainId": 1, "homesteadBlock": 1_150_000 }));
    assert_eq!(spec.genesis.alloc.len(), 8893);
    assert_eq!(
        spec.genesis_state_root(),
        b256!("d7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544")
    );
    assert_eq!(spec.genesis_hash(), alloy_consensus::constants::MAINNET_GENESIS_HASH);
    assert_eq!(
        spec.genesis_hash(),
        b256!("d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
    );
}

#[test]
fn sepolia_genesis_hash() {
    // London at block 0: the genesis header carries the 1 gwei initial base fee.
    let spec = load(
        "sepolia.json",
        serde_json::json!({
            "chainId": 11155111, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0,
            "eip158Block": 0, "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
            "istanbulBlock": 0, "muirGlacierBlock": 0, "berlinBlock": 0, "londonBlock": 0,
            "mergeNetsplitBlock": 1735371, "terminalTotalDifficulty": 17000000000000000u64,
            "shanghaiTime": 1677557088u64, "cancunTime": 1706655072u64
        }),
    );
    assert_eq!(spec.genesis_header().base_fee_per_gas, Some(1_000_000_000));
    assert_eq!(spec.genesis_header().withdrawals_root, None);
    let expected: B256 = b256!("25a5cc106eea7138acab33231d7160d69cb777ee0c2c553fcddf5138993e6dd9");
    assert_eq!(spec.genesis_hash(), expected);
    assert_eq!(spec.genesis_hash(), alloy_consensus::constants::SEPOLIA_GENESIS_HASH);
}

#[test]
fn holesky_genesis_hash() {
    // Merged from genesis (TTD 0), Shanghai after the genesis timestamp.
    let spec = load(
        "holesky.json",
        serde_json::json!({
            "chainId": 17000, "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0,
            "eip158Block": 0, "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0,
            "istanbulBlock": 0, "berlinBlock": 0, "londonBlock": 0, "terminalTotalDifficulty": 0,
            "terminalTotalDifficultyPassed": true, "shanghaiTime": 1696000704u64, "cancunTime": 1707305664u64
        }),
    );
    assert_eq!(spec.genesis.timestamp, 1_695_902_100, "decimal-string timestamp");
    assert!(spec.genesis.extra_data.is_empty(), "empty-string extraData");
    let expected: B256 = b256!("b5f7f912443c940f21fd611f12828d75b534364ed9e95ca4e307729a4661bde4");
    assert_eq!(spec.genesis_hash(), expected);
    assert_eq!(spec.genesis_hash(), alloy_consensus::constants::HOLESKY_GENESIS_HASH);
}

#[test]
fn public_genesis_without_config_is_refused() {
    let json = std::fs::read_to_string(fixtures().join("ethereum-genesis/sepolia.json")).unwrap();
    assert!(matches!(ChainSpec::from_json(&json), Err(ChainSpecError::MissingConfig)));
}
