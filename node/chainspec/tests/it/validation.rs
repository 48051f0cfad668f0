//! GoQuorum's genesis checks, with GoQuorum's messages.

use qrs_chainspec::{ChainSpec, ChainSpecError};
use serde_json::json;

use crate::common::genesis_with_config;

fn err(config: serde_json::Value) -> ChainSpecError {
    ChainSpec::from_json(&genesis_with_config(config)).expect_err("must be refused")
}

fn ok(config: serde_json::Value) -> ChainSpec {
    ChainSpec::from_json(&genesis_with_config(config)).expect("must be accepted")
}

#[test]
fn chain_id_one_is_refused() {
    for id in [json!(1), json!("0x1"), json!("1")] {
        let e = err(json!({ "chainId": id }));
        assert!(matches!(e, ChainSpecError::ChainIdOne), "{e:?}");
        assert_eq!(e.to_string(), "Cannot have chain id or network id as 1.");
    }
    assert_eq!(ok(json!({ "chainId": 2 })).chain_id, 2);
}

#[test]
fn missing_chain_id_and_config() {
    let no_id = json!({ "config": { "homesteadBlock": 0 }, "alloc": {} }).to_string();
    assert!(matches!(ChainSpec::from_json(&no_id), Err(ChainSpecError::MissingChainId)));
    let no_config = json!({ "alloc": {} }).to_string();
    assert!(matches!(ChainSpec::from_json(&no_config), Err(ChainSpecError::MissingConfig)));
}

#[test]
fn txn_size_limit_bounds() {
    for kb in [31u64, 129, 1000] {
        let e = err(json!({ "txnSizeLimit": kb }));
        assert!(matches!(e, ChainSpecError::TxnSizeLimit { kb: got } if got == kb), "{e:?}");
        assert_eq!(e.to_string(), "Genesis transaction size limit must be between 32 and 128");
    }
    for kb in [32u64, 64, 128] {
        assert_eq!(
            ok(json!({ "txnSizeLimit": kb })).tx_size_limit_at(0),
            usize::try_from(kb * 1024).unwrap()
        );
    }
    assert_eq!(ok(json!({ "txnSizeLimit": 0 })).tx_size_limit_at(0), 64 * 1024);
}

#[test]
fn code_size_bounds() {
    for kb in [23u64, 129] {
        let e = err(json!({ "maxCodeSize": kb }));
        assert!(matches!(e, ChainSpecError::MaxCodeSize { .. }), "{e:?}");
        assert_eq!(e.to_string(), "Genesis max code size must be between 24 and 128");
        let e = err(json!({ "maxCodeSizeConfig": [{ "block": 0, "size": kb }] }));
        assert!(matches!(e, ChainSpecError::ContractSizeLimit { block: 0, .. }), "{e:?}");
        let e = err(json!({ "transitions": [{ "block": 5, "contractSizeLimit": kb }] }));
        assert!(matches!(e, ChainSpecError::ContractSizeLimit { block: 5, .. }), "{e:?}");
    }
    for kb in [24u64, 128] {
        ok(json!({ "maxCodeSize": kb }));
        ok(json!({ "maxCodeSizeConfig": [{ "block": 0, "size": kb }] }));
    }
    let e = err(json!({ "maxCodeSize": 32, "maxCodeSizeConfig": [{ "block": 0, "size": 64 }] }));
    assert!(matches!(e, ChainSpecError::MaxCodeSizeConflict), "{e:?}");
    assert_eq!(
        e.to_string(),
        "maxCodeSize & maxCodeSizeChangeBlock deprecated. Consider using maxCodeSizeConfig"
    );
    let e = err(
        json!({ "maxCodeSizeChangeBlock": 0, "maxCodeSizeConfig": [{ "block": 0, "size": 64 }] }),
    );
    assert!(matches!(e, ChainSpecError::MaxCodeSizeConflict), "{e:?}");
}

#[test]
fn transition_checks() {
    let e = err(json!({ "transitions": [{ "block": 10 }, { "block": 5 }] }));
    assert!(
        matches!(e, ChainSpecError::BlockOrder { section: "transitions", block: 5, previous: 10 }),
        "{e:?}"
    );
    let e = err(
        json!({ "maxCodeSizeConfig": [{ "block": 10, "size": 32 }, { "block": 5, "size": 32 }] }),
    );
    assert!(
        matches!(e, ChainSpecError::MaxCodeSizeConfigOrder { block: 5, previous: 10 }),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("invalid maxCodeSize detail, block order has to be ascending")
    );
    let e = err(json!({ "transitions": [{ "block": 3, "transactionSizeLimit": 200 }] }));
    assert!(matches!(e, ChainSpecError::TransitionTxSizeLimit { block: 3, kb: 200 }), "{e:?}");
    let e = err(json!({ "transitions": [{ "block": 3, "algorithm": "pow" }] }));
    assert!(matches!(e, ChainSpecError::UnknownAlgorithm { block: 3, .. }), "{e:?}");
    ok(json!({ "transitions": [{ "block": 3, "algorithm": "QBFT" }] }));
    // A transition without `block` is malformed.
    let e = err(json!({ "transitions": [{ "epochlength": 3 }] }));
    assert!(matches!(e, ChainSpecError::Json(_)), "{e:?}");
}

#[test]
fn consensus_sections_are_mutually_exclusive() {
    let e = err(json!({ "istanbul": { "epoch": 1 }, "qbft": { "epochlength": 1 } }));
    assert!(
        matches!(e, ChainSpecError::ConsensusConflict { first: "istanbul", second: "qbft" }),
        "{e:?}"
    );
    let e = err(json!({ "istanbul": {}, "ibft": {} }));
    assert!(
        matches!(e, ChainSpecError::ConsensusConflict { first: "istanbul", second: "ibft" }),
        "{e:?}"
    );
    let e = err(json!({ "ibft": {}, "qbft": {} }));
    assert!(
        matches!(e, ChainSpecError::ConsensusConflict { first: "ibft", second: "qbft" }),
        "{e:?}"
    );
}

#[test]
fn malformed_documents_are_errors_not_panics() {
    for doc in [
        "",
        "{",
        "}",
        "[]",
        "{\"config\":",
        "{\"config\": {\"chainId\": -5}}",
        "{\"config\": {\"chainId\": 1.5}}",
        "{\"config\": {\"chainId\": \"0xzz\"}}",
        "{\"config\": {\"chainId\": 5}, \"alloc\": {\"0x12\": {}}}",
        "{\"config\": {\"chainId\": 5}, \"extraData\": \"0x123\"}",
        "{\"config\": {\"chainId\": 99999999999999999999999}}",
    ] {
        assert!(ChainSpec::from_json(doc).is_err(), "{doc}");
    }
}
