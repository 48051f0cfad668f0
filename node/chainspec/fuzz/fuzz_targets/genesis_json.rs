//! Arbitrary bytes through `ChainSpec::from_json`: an error or a spec, never a panic; a spec
//! that loads must also answer every query and build its genesis block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_chainspec::{ChainSpec, Hardfork};

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(spec) = ChainSpec::from_json(json) else { return };
    for block in [0, 1, u64::MAX] {
        let fork = spec.hardfork_at(block, block);
        assert!(spec.is_active(fork, block, block));
        assert!(spec.is_active(Hardfork::Frontier, block, block));
        let _ = spec.max_code_size_at(block);
        let _ = spec.tx_size_limit_at(block);
        let _ = spec.gas_price_enabled_at(block);
        let _ = spec.bft_at(block);
    }
    let _ = spec.genesis_hash();
});
