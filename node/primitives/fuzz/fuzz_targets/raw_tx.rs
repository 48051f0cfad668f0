//! Arbitrary bytes through `decode_raw_transaction` and `recover_transaction` (the RPC
//! `eth_sendRawTransaction` and gossip entry points): errors, never panics.
//!
//! Checked on every accepted input:
//! - decoding is canonical: re-encoding the decoded transaction gives back the input bytes
//!   (otherwise two byte strings would map to one transaction with two different hashes);
//! - `recover_transaction` agrees with `decode_raw_transaction` + `recover_sender`.
#![no_main]

use alloy_eips::eip2718::Encodable2718;
use libfuzzer_sys::fuzz_target;
use qrs_primitives::{decode_raw_transaction, recover_sender, recover_transaction};

fuzz_target!(|data: &[u8]| {
    let recovered = recover_transaction(data);
    let Ok(tx) = decode_raw_transaction(data) else {
        assert!(recovered.is_err(), "recover_transaction accepted bytes that do not decode");
        return;
    };
    assert_eq!(tx.encoded_2718(), data, "non-canonical encoding accepted");
    match (recover_sender(&tx), recovered) {
        (Ok(sender), Ok(r)) => assert_eq!(r.signer(), sender),
        (Err(_), Err(_)) => {}
        (a, b) => panic!(
            "recover_sender {a:?} disagrees with recover_transaction {:?}",
            b.map(|r| r.signer())
        ),
    }
});
