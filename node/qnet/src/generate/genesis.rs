//! The network's `genesis.json`, shaped like the quickstart's (`qbft-enhanced-genesis.json` /
//! `raft-standard-genesis.json`): `isQuorum`, 64 KB size limits, and every node account plus
//! the quickstart's three well-known test accounts funded. Forks: by default every fork through
//! Prague from genesis, so today's solc output (PUSH0 and later opcodes, solc's default target
//! since 0.8.20) deploys; with [`Forks::Quickstart`] the quickstart's exactly (through Muir
//! Glacier at 0, Berlin pushed to 10,000,000, GoQuorum's EVM).

use std::time::{SystemTime, UNIX_EPOCH};

use alloy_primitives::{Address, Bytes, address};
use qrs_qbft::{ISTANBUL_DIGEST, QbftExtra, extra::EXTRA_VANITY};
use serde_json::{Map, Value, json};

use crate::layout::{Consensus, Forks, Layout};

/// Balance of every node account (10^9 ether, as the quickstart).
pub const NODE_BALANCE: &str = "1000000000000000000000000000";
/// The quickstart's gas limit.
pub const GAS_LIMIT: &str = "0xf7b760";
/// QBFT epoch length (blocks between vote resets).
pub const EPOCH_LENGTH: u64 = 30_000;
/// QBFT request timeout in seconds (GoQuorum's default).
pub const REQUEST_TIMEOUT_SECONDS: u64 = 10;

/// The quickstart's (and Besu's) well-known dev accounts "a", "b", "c" and their balances.
pub const TEST_ACCOUNTS: [(Address, &str); 3] = [
    (address!("fe3b557e8fb62b89f4916b721be55ceb828dbd73"), "0x130EE8E7179044400000"),
    (address!("627306090abaB3A6e1400e9345bC60c78a8BEf57"), "90000000000000000000000"),
    (address!("f17f52151EbEF6C7334FAD080c5704D77216b732"), "90000000000000000000000"),
];

/// QBFT genesis `extraData`: `RLP([vanity32, validators (byte-sorted), vote = [], round = 0,
/// seals = []])`.
pub fn qbft_extra_data(validators: &[Address]) -> Bytes {
    let mut sorted = validators.to_vec();
    sorted.sort();
    QbftExtra {
        vanity: Bytes::from(vec![0u8; EXTRA_VANITY]),
        validators: sorted,
        vote: None,
        round: 0,
        committed_seals: Vec::new(),
    }
    .to_extra_bytes()
}

fn forks(chain_id: u64, which: Forks) -> Map<String, Value> {
    let mut config = Map::new();
    config.insert("chainId".into(), json!(chain_id));
    for fork in [
        "homesteadBlock",
        "eip150Block",
        "eip155Block",
        "eip158Block",
        "byzantiumBlock",
        "constantinopleBlock",
        "petersburgBlock",
        "istanbulBlock",
        "muirGlacierBlock",
    ] {
        config.insert(fork.into(), json!(0));
    }
    config.insert("eip150Hash".into(), json!(format!("{:#x}", alloy_primitives::B256::ZERO)));
    let berlin = match which {
        Forks::Latest => 0,
        Forks::Quickstart => 10_000_000,
    };
    config.insert("berlinBlock".into(), json!(berlin));
    for fork in ["londonBlock", "arrowGlacierBlock", "grayGlacierBlock"] {
        config.insert(fork.into(), json!(0));
    }
    if which == Forks::Latest {
        for fork in ["shanghaiTime", "cancunTime", "pragueTime"] {
            config.insert(fork.into(), json!(0));
        }
    }
    config
}

/// Builds the genesis JSON for `layout`. `validators` are the validators' node-key addresses;
/// `accounts` are funded.
pub fn genesis_json(layout: &Layout, validators: &[Address], accounts: &[Address]) -> Value {
    let mut config = forks(layout.spec.chain_id, layout.spec.forks);
    let (difficulty, mix_hash, extra_data) = match layout.spec.consensus {
        Consensus::Qbft => {
            config.insert(
                "qbft".into(),
                json!({
                    "epochLength": EPOCH_LENGTH,
                    "blockPeriodSeconds": layout.block_period(),
                    "requestTimeoutSeconds": REQUEST_TIMEOUT_SECONDS,
                    "ceil2Nby3Block": 0,
                }),
            );
            ("0x1", format!("{ISTANBUL_DIGEST:#x}"), qbft_extra_data(validators).to_string())
        }
        // GoQuorum selects raft with --raft; the genesis has no consensus section.
        Consensus::Raft => (
            "0x0",
            format!("{:#x}", alloy_primitives::B256::ZERO),
            Bytes::from(vec![0u8; EXTRA_VANITY]).to_string(),
        ),
    };
    config.insert(
        "transitions".into(),
        json!([{
            "block": 0,
            "transactionSizeLimit": 64,
            "contractSizeLimit": 64,
            "privacyEnhancementsEnabled": true,
        }]),
    );
    config.insert("isQuorum".into(), json!(true));

    let mut alloc = Map::new();
    for (account, balance) in TEST_ACCOUNTS {
        alloc.insert(format!("{account:#x}"), json!({ "balance": balance }));
    }
    for account in accounts {
        alloc.insert(format!("{account:#x}"), json!({ "balance": NODE_BALANCE }));
    }
    let timestamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    json!({
        "config": config,
        "nonce": "0x0",
        "timestamp": format!("{timestamp:#x}"),
        "extraData": extra_data,
        "gasLimit": GAS_LIMIT,
        "difficulty": difficulty,
        "mixHash": mix_hash,
        "coinbase": format!("{:#x}", Address::ZERO),
        "alloc": alloc,
        "number": "0x0",
        "gasUsed": "0x0",
        "parentHash": format!("{:#x}", alloy_primitives::B256::ZERO),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_data_matches_the_quickstart_genesis() {
        // the quickstart's qbft genesis validators, in file order
        let validators = [
            address!("93917cadbace5dfce132b991732c6cda9bcc5b8a"),
            address!("27a97c9aaf04f18f3014c32e036dd0ac76da5f18"),
            address!("ce412f988377e31f4d0ff12d74df73b51c42d0ca"),
            address!("98c1334496614aed49d2e81526d089f7264fed9c"),
        ];
        let expected = "0xf87aa00000000000000000000000000000000000000000000000000000000000000000f8549427a97c9aaf04f18f3014c32e036dd0ac76da5f189493917cadbace5dfce132b991732c6cda9bcc5b8a9498c1334496614aed49d2e81526d089f7264fed9c94ce412f988377e31f4d0ff12d74df73b51c42d0cac080c0";
        assert_eq!(qbft_extra_data(&validators).to_string(), expected);
    }
}
