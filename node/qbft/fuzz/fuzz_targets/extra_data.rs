//! Fuzzes the istanbul extraData decoders and the header hash/seal paths that parse it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_qbft::{IbftExtra, QbftExtra, header, seal};

fuzz_target!(|data: &[u8]| {
    if let Ok(extra) = QbftExtra::decode_extra(data) {
        // Anything that decodes re-encodes to the same bytes (Go rlp is canonical).
        assert_eq!(extra.to_extra_bytes().as_ref(), data);
    }
    if let Ok(extra) = IbftExtra::decode_extra(data) {
        assert_eq!(extra.to_extra_bytes().as_ref(), data);
    }
    let h = alloy_consensus::Header {
        mix_hash: header::ISTANBUL_DIGEST,
        extra_data: data.to_vec().into(),
        ..Default::default()
    };
    let _ = header::istanbul_block_hash(&h);
    let _ = seal::qbft_committers(&h);
    let _ = seal::ibft_author(&h);
    let _ = header::read_qbft_vote(&h);
});
