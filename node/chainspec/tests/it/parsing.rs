//! Go `encoding/json`-style parsing: case-insensitive keys, numbers as JSON numbers or strings.

use alloy_primitives::{Address, B256, U256, address};
use proptest::prelude::*;
use qrs_chainspec::{ChainSpec, ConsensusConfig};

#[test]
fn keys_are_case_insensitive() {
    let doc = r#"{
      "CONFIG": { "ChainID": 2018, "IsQuorum": true, "QBFT": { "EPOCHLENGTH": 100, "BlockPeriodSeconds": 2,
                  "requestTimeoutSeconds": 4, "Ceil2Nby3Block": 7 },
                  "Transitions": [{ "Block": 9, "TRANSACTIONSIZELIMIT": 100, "Miner.GasLimit": 12345 }],
                  "TxnSizeLimit": 40 },
      "GasLimit": "0x1000", "MIXHASH": "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365",
      "Alloc": { "0x00000000000000000000000000000000000000AA": { "BALANCE": "0x10", "Nonce": "0x2",
                 "STORAGE": { "0x01": "0x02" } } }
    }"#;
    let spec = ChainSpec::from_json(doc).unwrap();
    assert_eq!(spec.chain_id, 2018);
    assert!(spec.is_quorum());
    let ConsensusConfig::Qbft(q) = spec.consensus() else { panic!("{:?}", spec.consensus()) };
    assert_eq!(
        (q.epoch_length(), q.block_period_seconds(), q.request_timeout_seconds()),
        (100, 2, 4)
    );
    assert_eq!(q.ceil2nby3_block, Some(7));
    assert_eq!(spec.tx_size_limit_at(8), 40 * 1024);
    assert_eq!(spec.tx_size_limit_at(9), 100 * 1024);
    assert_eq!(spec.miner_gas_limit_at(9), Some(12345));
    assert_eq!(spec.genesis.gas_limit, 0x1000);
    assert_eq!(spec.genesis.mix_hash, qrs_chainspec::ISTANBUL_DIGEST);
    let acc = &spec.genesis.alloc[&address!("00000000000000000000000000000000000000aa")];
    assert_eq!((acc.balance, acc.nonce), (U256::from(16), 2));
    assert_eq!(acc.storage[&B256::with_last_byte(1)], B256::with_last_byte(2));
}

#[test]
fn numbers_as_json_numbers_hex_or_decimal_strings() {
    for (chain_id, balance) in [
        ("1337", "90000000000000000000000"),
        ("\"1337\"", "\"90000000000000000000000\""),
        ("\"0x539\"", "\"0x130EE8E7179044400000\""),
    ] {
        let doc = format!(
            r#"{{"config":{{"chainId":{chain_id},"berlinBlock":"0x10"}},"alloc":{{"0000000000000000000000000000000000000001":{{"balance":{balance}}}}}}}"#
        );
        let spec = ChainSpec::from_json(&doc).unwrap();
        assert_eq!(spec.chain_id, 1337);
        assert_eq!(spec.config.berlin_block, Some(16));
        // 0x130EE8E7179044400000 is the same amount, 90,000 ether.
        let expected = U256::from(90_000_000_000_000_000_000_000u128);
        assert_eq!(spec.genesis.alloc[&Address::with_last_byte(1)].balance, expected, "{balance}");
    }
}

#[test]
fn unknown_keys_are_ignored() {
    let doc = r#"{"config":{"chainId":10,"someFutureKey":{"x":[1,2]},"eip150Hash":"0x00"},
      "alloc":{"0000000000000000000000000000000000000001":{"balance":"1","privateKey":"ab","comment":"c"}},
      "stateRoot":"0x1234"}"#;
    let spec = ChainSpec::from_json(doc).unwrap();
    assert_eq!(spec.genesis.alloc.len(), 1);
}

proptest! {
    /// Whatever the bytes, parsing returns (no panic, no hang).
    #[test]
    fn arbitrary_input_never_panics(doc in ".{0,200}") {
        let _ = ChainSpec::from_json(&doc);
    }

    /// Random key casing never changes the result.
    #[test]
    fn random_key_case_parses_the_same(mask in proptest::collection::vec(any::<bool>(), 64)) {
        let keys = ["config", "chainId", "isQuorum", "txnSizeLimit", "alloc", "balance", "gasLimit", "nonce"];
        let cased: Vec<String> = keys.iter().enumerate().map(|(k, key)| {
            key.chars().enumerate().map(|(i, c)| if mask[(k * 7 + i) % 64] { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
        }).collect();
        let doc = format!(
            r#"{{"{}":{{"{}":77,"{}":true,"{}":48}},"{}":{{"0x0000000000000000000000000000000000000001":{{"{}":"0x5","{}":"3"}}}},"{}":"0x2000"}}"#,
            cased[0], cased[1], cased[2], cased[3], cased[4], cased[5], cased[7], cased[6]
        );
        let spec = ChainSpec::from_json(&doc).unwrap();
        prop_assert_eq!(spec.chain_id, 77);
        prop_assert!(spec.is_quorum());
        prop_assert_eq!(spec.tx_size_limit_at(0), 48 * 1024);
        prop_assert_eq!(spec.genesis.gas_limit, 0x2000);
        let acc = &spec.genesis.alloc[&Address::with_last_byte(1)];
        prop_assert_eq!((acc.balance, acc.nonce), (U256::from(5), 3));
    }
}
