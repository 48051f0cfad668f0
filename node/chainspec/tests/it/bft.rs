//! IBFT/QBFT settings at a block: genesis section folded with transitions.

use alloy_primitives::{Address, U256};
use qrs_chainspec::{BftAlgorithm, ChainSpec, ValidatorSelection};
use serde_json::json;

use crate::common::{fixtures, genesis_with_config};

fn spec(config: serde_json::Value) -> ChainSpec {
    ChainSpec::from_json(&genesis_with_config(config)).unwrap()
}

#[test]
fn quickstart_qbft_defaults() {
    let s = ChainSpec::from_file(
        &fixtures().join("goquorum-quickstart/genesis/qbft-standard-genesis.json"),
    )
    .unwrap();
    let b = s.bft_at(1).unwrap();
    assert_eq!(b.algorithm, BftAlgorithm::Qbft);
    assert_eq!((b.epoch_length, b.block_period_seconds, b.request_timeout_ms), (30_000, 5, 10_000));
    assert_eq!((b.empty_block_period_seconds, b.proposer_policy), (0, 0));
    assert!(b.ceil_2n_by_3, "ibft/qbft default ceil2Nby3Block is 0");
    assert_eq!(b.validator_selection, ValidatorSelection::BlockHeader);
    assert!(b.validators_override.is_empty());
    assert_eq!(b.block_reward, U256::ZERO);
}

#[test]
fn quickstart_istanbul_is_ibft() {
    let s = ChainSpec::from_file(
        &fixtures().join("goquorum-quickstart/genesis/istanbul-standard-genesis.json"),
    )
    .unwrap();
    let b = s.bft_at(100).unwrap();
    assert_eq!(b.algorithm, BftAlgorithm::Ibft);
    assert!(b.ceil_2n_by_3);
    let raft = ChainSpec::from_file(
        &fixtures().join("goquorum-quickstart/genesis/raft-standard-genesis.json"),
    )
    .unwrap();
    assert!(raft.bft_at(0).is_none());
}

#[test]
fn legacy_istanbul_switches_to_qbft_and_keeps_2f_plus_1_without_ceil_block() {
    let s = spec(json!({ "istanbul": { "epoch": 100, "policy": 1, "testQBFTBlock": 50 } }));
    let b = s.bft_at(49).unwrap();
    assert_eq!(
        (b.algorithm, b.epoch_length, b.proposer_policy, b.ceil_2n_by_3),
        (BftAlgorithm::Ibft, 100, 1, false)
    );
    assert_eq!(s.bft_at(50).unwrap().algorithm, BftAlgorithm::Qbft);
}

#[test]
fn transitions_fold_in_order() {
    let contract = Address::with_last_byte(0xcc);
    let validators = [Address::with_last_byte(1), Address::with_last_byte(2)];
    let s = spec(json!({
        "ibft": { "epochlength": 10, "blockperiodseconds": 1, "ceil2Nby3Block": 5 },
        "transitions": [
            { "block": 20, "algorithm": "qbft", "blockperiodseconds": 2, "validators": validators },
            { "block": 30, "requesttimeoutseconds": 3, "emptyblockperiodseconds": 9, "2FPlus1Enabled": true },
            { "block": 40, "validatorcontractaddress": contract, "validatorselectionmode": "contract", "blockReward": "0x10" },
            { "block": 50, "validatorselectionmode": "blockheader", "maxRequestTimeoutSeconds": 60 }
        ]
    }));
    let at = |n| s.bft_at(n).unwrap();
    assert_eq!(
        (at(4).algorithm, at(4).ceil_2n_by_3, at(5).ceil_2n_by_3),
        (BftAlgorithm::Ibft, false, true)
    );
    assert_eq!(
        (at(20).algorithm, at(20).block_period_seconds, at(20).epoch_length),
        (BftAlgorithm::Qbft, 2, 10)
    );
    assert_eq!(
        at(20).validators_override,
        validators,
        "validators of the first transition, at its block"
    );
    assert!(at(21).validators_override.is_empty());
    assert_eq!(
        (at(30).request_timeout_ms, at(30).empty_block_period_seconds, at(30).ceil_2n_by_3),
        (3_000, 9, false)
    );
    assert_eq!(at(39).validator_selection, ValidatorSelection::BlockHeader);
    assert_eq!(at(40).validator_selection, ValidatorSelection::Contract(contract));
    assert_eq!(at(40).block_reward, U256::from(16));
    assert_eq!(at(50).validator_selection, ValidatorSelection::BlockHeader);
    assert_eq!(at(50).max_request_timeout_seconds, Some(60));
}
