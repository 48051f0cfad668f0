//! `intrinsic_gas` / `floor_data_gas` against hand-computed values.

use alloy_consensus::{TxEip7702, TxLegacy};
use alloy_eips::eip2930::{AccessList, AccessListItem};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use qrs_txpool::{TxRules, floor_data_gas, intrinsic_gas, min_gas_limit};

use crate::common::*;

#[test]
fn calldata_creation_and_forks() {
    let call = sign(
        &key(1),
        TxLegacy { input: Bytes::from(vec![0, 1, 2]), gas_limit: 100_000, ..legacy_tx(0) },
    );
    assert_eq!(intrinsic_gas(call.inner(), &rules()), 21_000 + 4 + 2 * 16);
    let frontier = TxRules { istanbul: false, ..rules() };
    assert_eq!(intrinsic_gas(call.inner(), &frontier), 21_000 + 4 + 2 * 68);

    let code = Bytes::from(vec![0x60u8; 33]);
    let create = sign(
        &key(1),
        TxLegacy { to: TxKind::Create, input: code, gas_limit: 100_000, ..legacy_tx(0) },
    );
    // 53000 + 33 * 16 + 2 words * 2 (EIP-3860).
    assert_eq!(intrinsic_gas(create.inner(), &rules()), 53_000 + 33 * 16 + 4);
    let pre_shanghai = TxRules { shanghai: false, ..rules() };
    assert_eq!(intrinsic_gas(create.inner(), &pre_shanghai), 53_000 + 33 * 16);
}

#[test]
fn access_list_and_authorizations() {
    let mut tx = eip2930_tx(0);
    tx.gas_limit = 100_000;
    tx.access_list = AccessList(vec![
        AccessListItem {
            address: Address::ZERO,
            storage_keys: vec![B256::ZERO, B256::with_last_byte(1)],
        },
        AccessListItem { address: TO, storage_keys: vec![] },
    ]);
    let tx = sign(&key(1), tx);
    assert_eq!(intrinsic_gas(tx.inner(), &rules()), 21_000 + 2 * 2_400 + 2 * 1_900);

    let auth = alloy_eips::eip7702::Authorization {
        chain_id: U256::from(CHAIN_ID),
        address: TO,
        nonce: 0,
    };
    let sig = alloy_signer::SignerSync::sign_hash_sync(&key(2), &auth.signature_hash()).unwrap();
    let tx = TxEip7702 {
        chain_id: CHAIN_ID,
        gas_limit: 100_000,
        to: TO,
        authorization_list: vec![auth.clone().into_signed(sig), auth.into_signed(sig)],
        ..Default::default()
    };
    let tx = sign(&key(1), tx);
    let prague = TxRules { prague: true, ..rules() };
    assert_eq!(intrinsic_gas(tx.inner(), &prague), 21_000 + 2 * 25_000);
}

#[test]
fn floor_only_from_prague() {
    let data = Bytes::from([vec![0u8; 10], vec![9u8; 100]].concat());
    let tx = sign(&key(1), TxLegacy { input: data, gas_limit: 100_000, ..legacy_tx(0) });
    assert_eq!(floor_data_gas(tx.inner(), &rules()), 0);
    let prague = TxRules { prague: true, ..rules() };
    let floor = 21_000 + 10 * (10 + 4 * 100);
    assert_eq!(floor_data_gas(tx.inner(), &prague), floor);
    assert_eq!(intrinsic_gas(tx.inner(), &prague), 21_000 + 10 * 4 + 100 * 16);
    assert_eq!(min_gas_limit(tx.inner(), &prague), floor);
}
