//! Every quickstart genesis file is accepted unchanged and parsed as GoQuorum parses it.

use qrs_chainspec::{ChainSpec, ConsensusConfig, Hardfork, ISTANBUL_DIGEST};

use crate::common::fixtures;

fn load(name: &str) -> (ChainSpec, serde_json::Value) {
    let path = fixtures().join("goquorum-quickstart/genesis").join(name);
    let spec = ChainSpec::from_file(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (spec, raw)
}

fn check_common(spec: &ChainSpec, raw: &serde_json::Value) {
    assert_eq!(spec.chain_id, 1337);
    assert!(spec.is_quorum());
    assert_eq!(spec.genesis.alloc.len(), raw["alloc"].as_object().unwrap().len());
    assert_eq!(spec.genesis.alloc.len(), 11);
    let extra = raw["extraData"].as_str().unwrap();
    assert_eq!(
        format!("0x{}", alloy_primitives::hex::encode(&spec.genesis.extra_data)),
        extra.to_lowercase()
    );
    // Mixed-case alloc keys with and without 0x, balances in hex and decimal.
    let fe3b: alloy_primitives::Address =
        "0xfe3b557e8fb62b89f4916b721be55ceb828dbd73".parse().unwrap();
    assert_eq!(
        spec.genesis.alloc[&fe3b].balance,
        alloy_primitives::U256::from(0x130EE8E7179044400000u128)
    );
    let a6273: alloy_primitives::Address =
        "0x627306090abaB3A6e1400e9345bC60c78a8BEf57".parse().unwrap();
    assert_eq!(
        spec.genesis.alloc[&a6273].balance,
        alloy_primitives::U256::from(90_000_000_000_000_000_000_000u128)
    );
    // No London for ten million blocks: no base fee in the genesis header.
    let header = spec.genesis_header();
    assert_eq!(header.base_fee_per_gas, None);
    assert_eq!(header.withdrawals_root, None);
    assert_eq!(
        header.gas_limit,
        u64::from_str_radix(
            raw["gasLimit"].as_str().unwrap().trim_start_matches("0x").trim_start_matches("0X"),
            16
        )
        .unwrap()
    );
    assert_eq!(spec.genesis_hash(), header.hash_slow());
}

#[test]
fn qbft_standard_and_enhanced() {
    for (name, enhanced) in
        [("qbft-standard-genesis.json", false), ("qbft-enhanced-genesis.json", true)]
    {
        let (spec, raw) = load(name);
        check_common(&spec, &raw);
        let ConsensusConfig::Qbft(q) = spec.consensus() else {
            panic!("{name}: {:?}", spec.consensus())
        };
        assert_eq!(q.epoch_length(), 30_000);
        assert_eq!(q.block_period_seconds(), 5);
        assert_eq!(q.request_timeout_seconds(), 10);
        assert_eq!(spec.config.transitions.len(), 1);
        let t = &spec.config.transitions[0];
        assert_eq!(
            (t.block, t.transaction_size_limit, t.contract_size_limit),
            (0, Some(64), Some(64))
        );
        assert_eq!(t.privacy_enhancements_enabled, Some(enhanced));
        assert_eq!(spec.privacy_enhancements_at(0), enhanced);
        assert_eq!(spec.max_code_size_at(0), 64 * 1024);
        assert_eq!(spec.tx_size_limit_at(0), 64 * 1024);
        assert!(!spec.gas_price_enabled_at(1_000_000));
        assert_eq!(spec.genesis.mix_hash, ISTANBUL_DIGEST);
        assert_eq!(spec.genesis_header().difficulty, alloy_primitives::U256::from(1));
        // istanbulBlock 0 and muirGlacierBlock 0, Berlin (and so London) at 10,000,000.
        assert_eq!(spec.hardfork_at(0, 0), Hardfork::MuirGlacier);
        assert_eq!(spec.hardfork_at(9_999_999, u64::MAX), Hardfork::MuirGlacier);
        assert_eq!(spec.hardfork_at(10_000_000, 0), Hardfork::GrayGlacier);
        assert!(spec.is_active(Hardfork::London, 10_000_000, 0));
        assert!(!spec.is_active(Hardfork::Paris, 10_000_000, 0));
    }
}

#[test]
fn istanbul_standard_and_enhanced() {
    for (name, enhanced) in
        [("istanbul-standard-genesis.json", false), ("istanbul-enhanced-genesis.json", true)]
    {
        let (spec, raw) = load(name);
        check_common(&spec, &raw);
        let ConsensusConfig::Istanbul(i) = spec.consensus() else {
            panic!("{name}: {:?}", spec.consensus())
        };
        assert_eq!(
            (i.epoch(), i.policy, i.ceil2nby3_block, i.test_qbft_block),
            (30_000, 0, Some(0), None)
        );
        assert_eq!(spec.config.txn_size_limit, 64);
        assert_eq!(spec.config.max_code_size_config.len(), 1);
        assert_eq!(spec.max_code_size_at(0), 64 * 1024);
        assert_eq!(spec.tx_size_limit_at(0), 64 * 1024);
        assert_eq!(spec.privacy_enhancements_at(0), enhanced);
        // constantinopleBlock 0 and no petersburgBlock: Petersburg follows Constantinople;
        // no istanbulBlock: nothing later ever activates.
        assert_eq!(spec.hardfork_at(0, 0), Hardfork::Petersburg);
        assert_eq!(spec.hardfork_at(u64::MAX, u64::MAX), Hardfork::Petersburg);
        // The IBFT extraData: 32-byte vanity then RLP([validators, seal, committed seals]).
        assert_eq!(spec.genesis.extra_data.len(), 32 + 156);
    }
}

#[test]
fn raft_standard_and_enhanced() {
    for (name, enhanced) in
        [("raft-standard-genesis.json", false), ("raft-enhanced-genesis.json", true)]
    {
        let (spec, raw) = load(name);
        check_common(&spec, &raw);
        assert_eq!(spec.consensus(), &ConsensusConfig::None, "raft is selected by --raft");
        assert_eq!(spec.genesis.extra_data.as_ref(), &[0u8; 32]);
        // `mixhash` in lower case is matched case-insensitively.
        assert_eq!(
            spec.genesis.mix_hash,
            "0x00000000000000000000000000000000000000647572616c65787365646c6578"
                .parse::<alloy_primitives::B256>()
                .unwrap()
        );
        assert_eq!(spec.genesis_header().difficulty, alloy_primitives::U256::ZERO);
        assert_eq!(spec.genesis.gas_limit, 0xE000_0000);
        assert_eq!(spec.privacy_enhancements_at(0), enhanced);
        assert_eq!(spec.max_code_size_at(0), 64 * 1024);
        assert_eq!(spec.tx_size_limit_at(0), 64 * 1024, "default txnSizeLimit is 64 KB");
    }
}
