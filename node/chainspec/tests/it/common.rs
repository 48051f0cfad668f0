//! Fixture paths and small JSON helpers.

use std::path::PathBuf;

/// `/work/shared/fixtures`, reached from this crate (`node/chainspec`).
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures"))
}

/// A minimal valid GoQuorum genesis with `config` merged over `{"chainId": 1337}`.
pub fn genesis_with_config(config: serde_json::Value) -> String {
    let mut base = serde_json::json!({ "chainId": 1337 });
    if let (Some(b), Some(c)) = (base.as_object_mut(), config.as_object()) {
        for (k, v) in c {
            b.insert(k.clone(), v.clone());
        }
    }
    serde_json::json!({ "config": base, "gasLimit": "0x47b760", "alloc": {} }).to_string()
}
