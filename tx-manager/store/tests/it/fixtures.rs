//! Random but well-formed rows for the tests.

use qrs_tm_store::{PayloadCodec, StoredPayload, StoredPrivacyGroup, StoredRawPayload};
use rand::Rng as _;

pub fn hash() -> [u8; 64] {
    let mut h = [0u8; 64];
    rand::thread_rng().fill(&mut h[..]);
    h
}

pub fn key() -> [u8; 32] {
    rand::thread_rng().r#gen()
}

pub fn bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::thread_rng().fill(&mut v[..]);
    v
}

/// A payload addressed to `recipients` (the sender is added first, as Tessera does).
pub fn payload_for(recipients: &[[u8; 32]]) -> StoredPayload {
    let sender = key();
    let mut all = vec![sender];
    all.extend_from_slice(recipients);
    StoredPayload {
        hash: hash(),
        encoded_payload: bytes(256),
        codec: PayloadCodec::Legacy,
        recipients: all,
        sender,
        timestamp: 1_700_000_000_000 + i64::from(rand::thread_rng().r#gen::<u16>()),
    }
}

pub fn payload() -> StoredPayload {
    payload_for(&[key(), key()])
}

pub fn raw() -> StoredRawPayload {
    StoredRawPayload {
        hash: hash(),
        encrypted_payload: bytes(300),
        encrypted_key: bytes(48),
        nonce: bytes(24),
        sender: key(),
        timestamp: 1_700_000_000_123,
    }
}

pub fn group(lookup_id: &[u8]) -> StoredPrivacyGroup {
    StoredPrivacyGroup {
        id: bytes(32),
        lookup_id: lookup_id.to_vec(),
        data: bytes(120),
        timestamp: 1_700_000_000_456,
    }
}
