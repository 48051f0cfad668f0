//! Shared test helpers: fixture paths and quickstart key pairs.

use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrs_enclave::keys::config::{read_private_key_file, read_public_key_file};
use qrs_enclave::{CryptoSuite, EnclaveConfig, KeyPair, LocalEnclave, PublicKey};

/// `/work/shared/fixtures`, relative to this crate.
pub fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures"))
}

/// `nodes/memberN` of the GoQuorum quickstart.
pub fn member_dir(n: u8) -> PathBuf {
    fixtures().join(format!("goquorum-quickstart/nodes/member{n}"))
}

/// The `tm` key pair of quickstart member `n`, loaded through the key file readers.
pub fn member_pair(n: u8) -> KeyPair {
    let dir = member_dir(n);
    let private = read_private_key_file(&dir.join("tm.key"), None).unwrap();
    let public = read_public_key_file(&dir.join("tm.pub")).unwrap();
    assert_eq!(private.public_key(), public, "member{n} tm.pub must match tm.key");
    KeyPair { public, private }
}

/// Raw private key bytes of member `n` (read straight from the JSON, for the Python side).
pub fn member_private_b64(n: u8) -> String {
    let text = std::fs::read_to_string(member_dir(n).join("tm.key")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let b64 = json["data"]["bytes"].as_str().unwrap().to_owned();
    assert_eq!(STANDARD.decode(&b64).unwrap().len(), 32);
    b64
}

pub fn member_public(n: u8) -> PublicKey {
    member_pair(n).public
}

/// An in-process enclave holding the given members' keys (first is the default key).
pub fn local_enclave(members: &[u8], suite: CryptoSuite) -> LocalEnclave {
    LocalEnclave::new(EnclaveConfig {
        keys: members.iter().map(|n| member_pair(*n)).collect(),
        forwarding_keys: Vec::new(),
        suite,
    })
    .unwrap()
}
