//! The hand-written `sol!` interfaces agree with the compiler's ABIs (selectors, event topics, errors),
//! and build the calldata clients send.

use alloy_json_abi::JsonAbi;
use alloy_primitives::{Address, B256, U256, hex, keccak256};
use alloy_sol_types::{SolCall, SolConstructor, SolError, SolEvent, SolInterface, SolValue};
use qrs_contracts::bindings::{Modern, QrsToken, Reverter, SimpleStorage};
use qrs_contracts::{Artifact, modern, qrs_token, reverter, simple_storage};

fn abi(a: &Artifact) -> JsonAbi {
    serde_json::from_str(a.abi_json).unwrap()
}

fn assert_selectors_match(a: &Artifact, ours: &[[u8; 4]]) {
    let abi = abi(a);
    let mut theirs: Vec<[u8; 4]> = abi.functions().map(|f| f.selector().0).collect();
    let mut ours = ours.to_vec();
    theirs.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, theirs, "{}: sol! functions differ from the compiled ABI", a.name);
}

fn assert_events_match(a: &Artifact, ours: &[B256]) {
    let mut theirs: Vec<B256> = abi(a).events().map(|e| e.selector()).collect();
    let mut ours = ours.to_vec();
    theirs.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, theirs, "{}: sol! events differ from the compiled ABI", a.name);
}

fn assert_errors_match(a: &Artifact, ours: &[[u8; 4]]) {
    let mut theirs: Vec<[u8; 4]> = abi(a).errors().map(|e| e.selector().0).collect();
    let mut ours = ours.to_vec();
    theirs.sort_unstable();
    ours.sort_unstable();
    assert_eq!(ours, theirs, "{}: sol! errors differ from the compiled ABI", a.name);
}

#[test]
fn simple_storage_interface_matches_the_abi() {
    assert_selectors_match(simple_storage(), SimpleStorage::SimpleStorageCalls::SELECTORS);
    assert_events_match(simple_storage(), &[SimpleStorage::stored::SIGNATURE_HASH]);
    assert_eq!(SimpleStorage::stored::SIGNATURE_HASH, keccak256("stored(address,uint256)"));
}

#[test]
fn qrs_token_interface_matches_the_abi() {
    assert_selectors_match(qrs_token(), QrsToken::QrsTokenCalls::SELECTORS);
    assert_events_match(
        qrs_token(),
        &[QrsToken::Transfer::SIGNATURE_HASH, QrsToken::Approval::SIGNATURE_HASH],
    );
    assert_errors_match(qrs_token(), QrsToken::QrsTokenErrors::SELECTORS);
    // The standard ERC-20 Transfer topic.
    assert_eq!(
        QrsToken::Transfer::SIGNATURE_HASH,
        B256::from(hex!("ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"))
    );
}

#[test]
fn reverter_interface_matches_the_abi() {
    assert_selectors_match(reverter(), Reverter::ReverterCalls::SELECTORS);
    assert_errors_match(reverter(), Reverter::ReverterErrors::SELECTORS);
}

#[test]
fn modern_interface_matches_the_abi() {
    assert_selectors_match(modern(), Modern::ModernCalls::SELECTORS);
    assert_events_match(
        modern(),
        &[Modern::Copied::SIGNATURE_HASH, Modern::Summed::SIGNATURE_HASH],
    );
    assert_errors_match(modern(), Modern::ModernErrors::SELECTORS);
}

#[test]
fn calldata_is_what_clients_send() {
    // set(123): selector 0x60fe47b1 followed by one 32-byte word.
    let data = SimpleStorage::setCall { x: U256::from(123) }.abi_encode();
    assert_eq!(
        hex::encode(&data),
        "60fe47b1000000000000000000000000000000000000000000000000000000000000007b"
    );
    assert_eq!(SimpleStorage::getCall {}.abi_encode(), hex!("6d4ce63c"));
    let out = U256::from(47).abi_encode();
    assert_eq!(SimpleStorage::getCall::abi_decode_returns(&out).unwrap(), U256::from(47));

    let to = Address::repeat_byte(0x11);
    let t = QrsToken::transferCall { to, value: U256::from(5) }.abi_encode();
    assert_eq!(&t[..4], &hex!("a9059cbb"));
    assert_eq!(QrsToken::transferCall::abi_decode(&t).unwrap().to, to);
}

#[test]
fn deploy_data_appends_constructor_arguments() {
    let args = SimpleStorage::constructorCall { initVal: U256::from(47) }.abi_encode();
    let data = simple_storage().deploy_data(&args);
    assert_eq!(data.len(), simple_storage().bytecode.len() + 32);
    assert!(data.starts_with(&simple_storage().bytecode));
    assert_eq!(U256::from_be_slice(&data[data.len() - 32..]), U256::from(47));
}

#[test]
fn revert_payloads_decode() {
    let reason = alloy_sol_types::Revert::from("reason text").abi_encode();
    assert_eq!(&reason[..4], &hex!("08c379a0"));
    assert_eq!(alloy_sol_types::Revert::abi_decode(&reason).unwrap().reason, "reason text");
    let custom =
        Reverter::Unauthorized { caller: Address::ZERO, code: U256::from(42) }.abi_encode();
    match Reverter::ReverterErrors::abi_decode(&custom).unwrap() {
        Reverter::ReverterErrors::Unauthorized(u) => assert_eq!(u.code, U256::from(42)),
    }
}
