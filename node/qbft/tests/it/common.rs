//! Shared helpers: fixtures and deterministic keys.

use alloy_primitives::Address;
use qrs_qbft::ValidatorKey;

pub const QUICKSTART: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/fixtures/goquorum-quickstart");

pub fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s.trim().trim_start_matches("0x")).unwrap()
}

pub fn addr(s: &str) -> Address {
    s.trim().parse().unwrap()
}

/// The node key and address of quickstart validator `i` (1..=4).
pub fn quickstart_validator(i: usize) -> (ValidatorKey, Address) {
    let dir = format!("{QUICKSTART}/nodes/validator{i}");
    let key: [u8; 32] =
        hex_bytes(&std::fs::read_to_string(format!("{dir}/nodekey")).unwrap()).try_into().unwrap();
    let address = addr(&std::fs::read_to_string(format!("{dir}/address")).unwrap());
    (ValidatorKey::from_bytes(&key).unwrap(), address)
}

/// A deterministic key for test validator `i`.
pub fn test_key(i: u8) -> ValidatorKey {
    let mut b = [0x11u8; 32];
    b[31] = i.wrapping_add(1);
    b[0] = i.wrapping_add(1);
    ValidatorKey::from_bytes(&b).unwrap()
}

/// Go's zero `types.Header{}`: every hash zero (alloy's `Default` fills in the empty-trie roots).
pub fn go_zero_header() -> alloy_consensus::Header {
    use alloy_primitives::B256;
    alloy_consensus::Header {
        ommers_hash: B256::ZERO,
        state_root: B256::ZERO,
        transactions_root: B256::ZERO,
        receipts_root: B256::ZERO,
        ..Default::default()
    }
}
