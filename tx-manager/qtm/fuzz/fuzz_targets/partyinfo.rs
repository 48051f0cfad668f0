//! Fuzzes the binary PartyInfo decoder (the `POST /partyinfo` body): it must never panic, and
//! whatever it accepts must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_qtm::PartyInfoMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(msg) = PartyInfoMessage::decode(data) {
        assert_eq!(msg.encode(), data, "decode/encode must roundtrip exactly");
    }
});
