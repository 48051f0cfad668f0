//! Arbitrary bytes through `KeyFile::from_json` and `decrypt`: errors, never panics.
//!
//! Decryption runs only for cheap KDF parameters so the fuzzer explores parsing and the
//! cipher/MAC paths instead of spending its time in scrypt (whose cost limits are unit-tested).
#![no_main]

use libfuzzer_sys::fuzz_target;
use qrs_keystore::KeyFile;

fuzz_target!(|data: &[u8]| {
    let Ok(json) = std::str::from_utf8(data) else { return };
    let Ok(file) = KeyFile::from_json(json) else { return };
    let p = &file.crypto.kdfparams;
    let num = |k: &str| p.get(k).and_then(serde_json::Value::as_u64).unwrap_or(u64::MAX);
    let cheap = match file.crypto.kdf.as_str() {
        "pbkdf2" => num("c") <= 64,
        "scrypt" => num("n").saturating_mul(num("r")).saturating_mul(num("p")) <= 1 << 12,
        _ => true,
    };
    if cheap {
        let _ = file.decrypt("");
        let _ = file.to_json();
    }
});
