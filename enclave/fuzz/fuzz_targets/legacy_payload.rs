//! Fuzzes the LEGACY payload decoder (`EncodedPayload::decode_legacy`): it must never panic,
//! and whatever it accepts must re-encode to bytes that decode to the same payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_enclave::EncodedPayload;

fuzz_target!(|data: &[u8]| {
    if let Ok(payload) = EncodedPayload::decode_legacy(data) {
        let again = EncodedPayload::decode_legacy(&payload.encode_legacy());
        assert_eq!(again.as_ref(), Ok(&payload));
        if let Some(first) = payload.recipient_keys.first() {
            let _ = payload.for_recipient(first);
        }
    }
});
