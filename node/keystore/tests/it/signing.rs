//! Signatures agree with alloy's reference signer and recover to the account.

use alloy_consensus::transaction::SignerRecoverable;
use alloy_consensus::{
    SignableTransaction, Transaction, TxEip1559, TxEnvelope, TxLegacy, TypedTransaction,
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use qrs_keystore::{Keystore, ScryptCost};

const KEY: &str = "0xae6ae8e5ccbfb04590405997ee2d52d2b330726137b875053c36d94e974d162f";

fn setup() -> (tempfile::TempDir, Keystore, Address, PrivateKeySigner) {
    let tmp = tempfile::tempdir().unwrap();
    let ks = Keystore::open_with_cost(tmp.path(), ScryptCost::Light).unwrap();
    let key: B256 = KEY.parse().unwrap();
    let address = ks.import_raw_key(&key, "pw").unwrap();
    ks.unlock(&address, "pw", None).unwrap();
    let signer = PrivateKeySigner::from_bytes(&key).unwrap();
    assert_eq!(signer.address(), address);
    (tmp, ks, address, signer)
}

#[test]
fn hashes_and_messages_match_the_reference_signer() {
    let (_tmp, ks, address, signer) = setup();
    for i in 0..16u8 {
        let hash = keccak256([i]);
        assert_eq!(ks.sign_hash(&address, &hash).unwrap(), signer.sign_hash_sync(&hash).unwrap());
        let message = vec![i; usize::from(i) * 7];
        let sig = ks.sign_message(&address, &message).unwrap();
        assert_eq!(sig, signer.sign_message_sync(&message).unwrap());
        assert_eq!(sig.recover_address_from_msg(&message).unwrap(), address);
        // geth's personal_sign layout: r ‖ s ‖ v with v = 27/28.
        let bytes = sig.as_bytes();
        assert!(bytes[64] == 27 || bytes[64] == 28);
    }
}

#[test]
fn typed_transactions_are_signed_for_the_chain() {
    let (_tmp, ks, address, _signer) = setup();
    let eip1559 = TxEip1559 {
        chain_id: 0,
        nonce: 7,
        gas_limit: 21_000,
        max_fee_per_gas: 0,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::with_last_byte(9)),
        value: U256::from(1),
        ..Default::default()
    };
    let signed = ks.sign_transaction(&address, TypedTransaction::Eip1559(eip1559), 1337).unwrap();
    assert_eq!(signed.chain_id(), Some(1337));
    assert_eq!(signed.recover_signer().unwrap(), address);

    let legacy = TxLegacy {
        nonce: 1,
        gas_price: 0,
        gas_limit: 90_000,
        to: TxKind::Create,
        input: Bytes::from_static(&[0x60, 0x00]),
        ..Default::default()
    };
    let signed = ks.sign_transaction(&address, TypedTransaction::Legacy(legacy), 1337).unwrap();
    assert_eq!(signed.chain_id(), Some(1337), "EIP-155 protected");
    assert_eq!(signed.recover_signer().unwrap(), address);
    assert!(matches!(signed, TxEnvelope::Legacy(_)));
}

#[test]
fn private_transactions_use_the_homestead_hash_and_v_37_38() {
    let (_tmp, ks, address, _signer) = setup();
    let tx = TxLegacy {
        chain_id: Some(1337),
        nonce: 3,
        gas_price: 0,
        gas_limit: 4_700_000,
        to: TxKind::Call(Address::with_last_byte(0x7a)),
        input: Bytes::from(vec![0xab; 64]),
        ..Default::default()
    };
    let mut homestead = tx.clone();
    homestead.chain_id = None;
    let hash = homestead.signature_hash();
    let signed = ks.sign_private_transaction(&address, tx).unwrap();
    let TxEnvelope::Legacy(l) = &signed else { panic!("legacy expected") };
    assert_eq!(l.tx().chain_id, Some(1), "alloy's view of v = 37/38");
    assert_eq!(l.signature().recover_address_from_prehash(&hash).unwrap(), address);
    // The RLP's v is 37 or 38: [nonce, gasPrice, gas, to, value, data, v, r, s].
    let rlp = alloy_eips::eip2718::Encodable2718::encoded_2718(&signed);
    let buf = &mut rlp.as_slice();
    let header = alloy_rlp::Header::decode(buf).unwrap();
    assert!(header.list);
    let _nonce = <u64 as alloy_rlp::Decodable>::decode(buf).unwrap();
    let _gas_price = <u128 as alloy_rlp::Decodable>::decode(buf).unwrap();
    let _gas = <u64 as alloy_rlp::Decodable>::decode(buf).unwrap();
    let _to = <Bytes as alloy_rlp::Decodable>::decode(buf).unwrap();
    let _value = <U256 as alloy_rlp::Decodable>::decode(buf).unwrap();
    let _data = <Bytes as alloy_rlp::Decodable>::decode(buf).unwrap();
    let v = <u64 as alloy_rlp::Decodable>::decode(buf).unwrap();
    assert!(v == 37 || v == 38, "v = {v}");
}

#[test]
fn concurrent_signing_and_locking() {
    let (_tmp, ks, address, _signer) = setup();
    std::thread::scope(|s| {
        for t in 0..4u8 {
            let ks = &ks;
            s.spawn(move || {
                for i in 0..50u8 {
                    let hash = keccak256([t, i]);
                    let sig = ks.sign_hash(&address, &hash).unwrap();
                    assert_eq!(sig.recover_address_from_prehash(&hash).unwrap(), address);
                }
            });
        }
    });
    assert!(ks.lock(&address));
    assert!(matches!(
        ks.sign_hash(&address, &B256::ZERO),
        Err(qrs_keystore::KeystoreError::Locked)
    ));
}
