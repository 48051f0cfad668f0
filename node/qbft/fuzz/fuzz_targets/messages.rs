//! Fuzzes the QBFT message decoder with every message code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_qbft::{RawBlock, messages::Message};

fuzz_target!(|data: &[u8]| {
    let Some((code, payload)) = data.split_first() else { return };
    let code = 0x12 + u64::from(*code % 5);
    if let Ok(msg) = Message::<RawBlock>::decode(code, payload) {
        let _ = msg.signer();
        // Re-encoding a decoded message decodes to the same message.
        let again = Message::<RawBlock>::decode(code, &msg.encode_payload());
        assert_eq!(again.as_ref().ok(), Some(&msg));
    }
});
