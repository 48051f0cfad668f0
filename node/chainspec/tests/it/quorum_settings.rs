//! GoQuorum per-block settings: gas price, code and tx size limits, privacy flags.

use qrs_chainspec::{ChainSpec, DEFAULT_MAX_CODE_SIZE};
use serde_json::json;

use crate::common::genesis_with_config;

fn spec(config: serde_json::Value) -> ChainSpec {
    ChainSpec::from_json(&genesis_with_config(config)).unwrap()
}

#[test]
fn gas_price_from_block_then_transitions() {
    let s = spec(json!({ "enableGasPriceBlock": 10,
        "transitions": [{ "block": 20, "gasPriceEnabled": false }, { "block": 30, "gasPriceEnabled": true }] }));
    assert!(!s.gas_price_enabled_at(9));
    assert!(s.gas_price_enabled_at(10));
    assert!(!s.gas_price_enabled_at(25));
    assert!(s.gas_price_enabled_at(30));
    assert!(!spec(json!({})).gas_price_enabled_at(u64::MAX));
}

#[test]
fn privacy_flags() {
    let s = spec(
        json!({ "privacyEnhancementsBlock": 5, "privacyPrecompileBlock": 7, "qip714Block": 1,
        "transitions": [{ "block": 8, "privacyPrecompileEnabled": false }, { "block": 9, "enhancedPermissioningEnabled": false }] }),
    );
    assert!(!s.privacy_enhancements_at(4) && s.privacy_enhancements_at(5));
    assert!(
        !s.privacy_precompile_at(6) && s.privacy_precompile_at(7) && !s.privacy_precompile_at(8)
    );
    assert!(s.enhanced_permissioning_at(1) && !s.enhanced_permissioning_at(9));
}

#[test]
fn code_size_rules() {
    assert_eq!(spec(json!({})).max_code_size_at(0), DEFAULT_MAX_CODE_SIZE);
    let s = spec(json!({ "maxCodeSize": 32, "maxCodeSizeChangeBlock": 100 }));
    assert_eq!(s.max_code_size_at(99), 24_576);
    assert_eq!(s.max_code_size_at(100), 32 * 1024);
    assert_eq!(spec(json!({ "maxCodeSize": 48 })).max_code_size_at(0), 48 * 1024);
    let s = spec(
        json!({ "maxCodeSizeConfig": [{ "block": 0, "size": 32 }, { "block": 50, "size": 64 }],
        "transitions": [{ "block": 80, "contractSizeLimit": 100 }, { "block": 90, "epochlength": 5 }] }),
    );
    assert_eq!(s.max_code_size_at(49), 32 * 1024);
    assert_eq!(s.max_code_size_at(50), 64 * 1024);
    assert_eq!(
        s.max_code_size_at(95),
        100 * 1024,
        "a transition without contractsizelimit keeps it"
    );
}

#[test]
fn tx_size_from_transitions() {
    let s = spec(
        json!({ "txnSizeLimit": 40, "transitions": [{ "block": 3, "transactionSizeLimit": 120 }] }),
    );
    assert_eq!(s.tx_size_limit_at(2), 40 * 1024);
    assert_eq!(s.tx_size_limit_at(3), 120 * 1024);
}
