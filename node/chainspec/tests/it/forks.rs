//! The fork activation rule: effective activation = max over predecessors.

use alloy_primitives::{Address, U256};
use qrs_chainspec::{ChainSpec, ConsensusConfig, Hardfork};
use serde_json::json;

use crate::common::genesis_with_config;

fn spec(config: serde_json::Value) -> ChainSpec {
    ChainSpec::from_json(&genesis_with_config(config)).unwrap()
}

fn all_block_forks_at_zero() -> serde_json::Value {
    json!({ "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0, "byzantiumBlock": 0,
            "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0, "berlinBlock": 0, "londonBlock": 0 })
}

#[test]
fn forks_are_ordered() {
    assert!(Hardfork::Frontier < Hardfork::Homestead);
    assert!(Hardfork::London < Hardfork::Paris && Hardfork::Paris < Hardfork::Shanghai);
    assert!(Hardfork::Prague < Hardfork::Osaka);
    let mut sorted = Hardfork::ALL;
    sorted.sort();
    assert_eq!(sorted, Hardfork::ALL);
}

#[test]
fn later_fork_waits_for_earlier_ones() {
    let s =
        spec(json!({ "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
        "byzantiumBlock": 0, "constantinopleBlock": 0, "petersburgBlock": 0, "istanbulBlock": 0,
        "berlinBlock": 10_000_000, "londonBlock": 0 }));
    assert_eq!(s.forks().activation_block(Hardfork::London), Some(10_000_000));
    assert_eq!(s.hardfork_at(0, 0), Hardfork::MuirGlacier, "unset Muir Glacier follows Istanbul");
    assert!(!s.is_active(Hardfork::Berlin, 9_999_999, 0));
    assert!(!s.is_active(Hardfork::London, 9_999_999, 0));
    assert!(s.is_active(Hardfork::London, 10_000_000, 0));
    assert_eq!(s.genesis_header().base_fee_per_gas, None);
}

#[test]
fn a_missing_fork_disables_everything_after_it() {
    let s = spec(json!({ "homesteadBlock": 0, "byzantiumBlock": 0, "londonBlock": 0 }));
    assert_eq!(s.hardfork_at(u64::MAX, u64::MAX), Hardfork::Homestead);
    assert!(!s.is_active(Hardfork::Byzantium, 100, 0));
}

#[test]
fn petersburg_follows_constantinople_when_absent() {
    let s =
        spec(json!({ "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 0, "eip158Block": 0,
        "byzantiumBlock": 0, "constantinopleBlock": 5 }));
    assert_eq!(s.hardfork_at(4, 0), Hardfork::Byzantium);
    assert_eq!(s.hardfork_at(5, 0), Hardfork::Petersburg);
}

#[test]
fn eip155_is_tracked_separately() {
    let s =
        spec(json!({ "homesteadBlock": 0, "eip150Block": 0, "eip155Block": 7, "eip158Block": 0 }));
    assert_eq!(s.hardfork_at(0, 0), Hardfork::SpuriousDragon);
    assert!(!s.is_eip155(6));
    assert!(s.is_eip155(7));
}

#[test]
fn time_forks_need_london_and_their_predecessors() {
    let mut cfg = all_block_forks_at_zero();
    cfg["londonBlock"] = json!(5);
    cfg["shanghaiTime"] = json!(100);
    cfg["cancunTime"] = json!(50);
    let s = spec(cfg);
    assert_eq!(s.hardfork_at(4, 1_000), Hardfork::Berlin, "no London yet at block 4");
    assert_eq!(s.hardfork_at(5, 99), Hardfork::GrayGlacier, "unset glaciers follow London");
    assert_eq!(s.forks().activation_time(Hardfork::Cancun), Some(100), "Cancun waits for Shanghai");
    assert_eq!(s.hardfork_at(5, 100), Hardfork::Cancun);
    assert!(s.is_active(Hardfork::Paris, 5, 100), "post-merge EVM rules once Shanghai is active");
    assert!(!s.is_active(Hardfork::Prague, 5, u64::MAX));
}

#[test]
fn paris_from_ttd_zero_or_netsplit_block() {
    let mut cfg = all_block_forks_at_zero();
    cfg["terminalTotalDifficulty"] = json!(0);
    assert_eq!(spec(cfg.clone()).hardfork_at(0, 0), Hardfork::Paris);
    cfg["terminalTotalDifficulty"] = json!("0x100");
    assert_eq!(
        spec(cfg.clone()).hardfork_at(1_000, 0),
        Hardfork::GrayGlacier,
        "TTD > 0 without netsplit block"
    );
    cfg["mergeNetsplitBlock"] = json!(20);
    assert_eq!(spec(cfg).hardfork_at(20, 0), Hardfork::Paris);
}

#[test]
fn quorum_london_genesis_has_zero_base_fee_unless_set() {
    let s = spec(all_block_forks_at_zero());
    assert_eq!(
        s.genesis_header().base_fee_per_gas,
        Some(1_000_000_000),
        "not isQuorum: EIP-1559 initial base fee"
    );
    let mut cfg = all_block_forks_at_zero();
    cfg["isQuorum"] = json!(true);
    assert_eq!(spec(cfg.clone()).genesis_header().base_fee_per_gas, Some(0));
    let mut doc: serde_json::Value = serde_json::from_str(&genesis_with_config(cfg)).unwrap();
    doc["baseFeePerGas"] = json!("0x7");
    assert_eq!(
        ChainSpec::from_json(&doc.to_string()).unwrap().genesis_header().base_fee_per_gas,
        Some(7)
    );
}

#[test]
fn dev_chain_has_every_fork_through_prague() {
    let funded = [(Address::with_last_byte(0xaa), U256::from(10u64).pow(U256::from(24)))];
    let s = ChainSpec::dev(1337, &funded, 2);
    assert_eq!(s.hardfork_at(0, 0), Hardfork::Prague);
    assert_eq!(s.consensus(), &ConsensusConfig::Dev { period_secs: 2 });
    assert!(s.is_quorum());
    let h = s.genesis_header();
    assert_eq!(h.base_fee_per_gas, Some(0));
    assert!(h.gas_limit >= 0x1c9c380);
    assert_eq!(h.withdrawals_root, Some(alloy_trie::EMPTY_ROOT_HASH));
    assert_eq!((h.blob_gas_used, h.excess_blob_gas), (Some(0), Some(0)));
    assert_eq!(h.parent_beacon_block_root, Some(alloy_primitives::B256::ZERO));
    assert_eq!(h.requests_hash, Some(alloy_eips::eip7685::EMPTY_REQUESTS_HASH));
    assert_eq!(s.genesis.alloc[&funded[0].0].balance, funded[0].1);
    assert_ne!(s.genesis_state_root(), alloy_trie::EMPTY_ROOT_HASH);
    // Deterministic: the same inputs give the same genesis hash.
    assert_eq!(s.genesis_hash(), ChainSpec::dev(1337, &funded, 2).genesis_hash());
}
