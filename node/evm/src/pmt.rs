//! GoQuorum's privacy marker transactions (PMT, `quorum core/vm/contracts_quorum.go`).
//!
//! A PMT is a public transaction to the privacy precompile ([`PRIVACY_PRECOMPILE`]) whose
//! `data` is the 64-byte TM hash of the **JSON-serialised signed inner private transaction**
//! (geth's `txJSON`, [`encode_tx_json`] / [`decode_tx_json`]). From `privacyPrecompileBlock`
//! on, a party fetches the inner transaction, checks it ([`check_inner`]: private, same signer,
//! same nonce) and applies it as a private transaction; any failure skips it (the PMT's public
//! receipt is status 1 either way).

use alloy_consensus::{Signed, Transaction as _, TxEnvelope, TxLegacy};
use alloy_primitives::{Address, B256, B512, Bytes, Signature, TxKind, U256};
use serde::{Deserialize, Serialize};

/// GoQuorum's privacy precompile address (`0x…7a`).
pub const PRIVACY_PRECOMPILE: Address = Address::with_last_byte(0x7a);

/// True when `tx` is a privacy marker transaction: a public transaction to the precompile
/// (GoQuorum's `IsPrivacyMarker`, plus the "PMT is not private" rule).
pub fn is_privacy_marker(tx: &TxEnvelope) -> bool {
    tx.to() == Some(PRIVACY_PRECOMPILE) && !qrs_primitives::is_private(tx)
}

/// The TM hash a PMT carries (its 64-byte `data`), if `tx` is a PMT with such data.
pub fn marker_payload_hash(tx: &TxEnvelope) -> Option<B512> {
    if !is_privacy_marker(tx) {
        return None;
    }
    let input = tx.input();
    (input.len() == 64).then(|| B512::from_slice(input))
}

/// The gas of a PMT carrying `hash` (GoQuorum: `IntrinsicGas(hash, non-creation)`; from
/// Prague on, at least the EIP-7623 calldata floor).
pub fn marker_gas(spec: revm::primitives::hardfork::SpecId, hash: &[u8]) -> u64 {
    let gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        spec, hash, false, 0, 0, 0, None,
    );
    gas.initial_regular_gas.max(gas.floor_gas)
}

/// Why a PMT's inner transaction is not applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PmtError {
    /// The payload is not a transaction in geth's JSON form.
    #[error("inner transaction is not valid JSON: {0}")]
    Json(String),
    /// The JSON is a transaction geth would refuse (missing field, bad signature, type).
    #[error("{0}")]
    Invalid(String),
    /// The inner transaction is not private (`v` 37/38).
    #[error(
        "inner transaction retrieved from private transaction manager is not a private transaction"
    )]
    NotPrivate,
    /// The inner transaction's signer differs from the PMT's.
    #[error("PMT and inner private transaction have different signers")]
    DifferentSigner,
    /// The inner transaction's nonce differs from the PMT's.
    #[error("PMT and inner private transaction have different nonces")]
    DifferentNonce,
}

/// geth's `txJSON` (field order as geth writes it).
#[derive(Debug, Serialize, Deserialize)]
struct TxJson {
    #[serde(rename = "type", default)]
    ty: Option<U256>,
    nonce: Option<U256>,
    #[serde(rename = "gasPrice")]
    gas_price: Option<U256>,
    gas: Option<U256>,
    value: Option<U256>,
    input: Option<Bytes>,
    v: Option<U256>,
    r: Option<U256>,
    s: Option<U256>,
    to: Option<Address>,
    #[serde(rename = "chainId", default, skip_serializing_if = "Option::is_none")]
    chain_id: Option<U256>,
    #[serde(rename = "accessList", default, skip_serializing_if = "Option::is_none")]
    access_list: Option<alloy_eips::eip2930::AccessList>,
    #[serde(default)]
    hash: Option<B256>,
}

/// `v` as a legacy transaction carries it (27/28, EIP-155, or Quorum's 37/38).
fn legacy_v(signed: &Signed<TxLegacy>) -> u64 {
    let parity = u64::from(signed.signature().v());
    match signed.tx().chain_id {
        Some(id) => id.saturating_mul(2).saturating_add(35).saturating_add(parity),
        None => 27 + parity,
    }
}

/// `tx` as geth's `json.Marshal(tx)` writes it (`{type, nonce, gasPrice, gas, value, input, v, r,
/// s, to, [chainId, accessList], hash}`). Only legacy and access-list transactions exist in
/// GoQuorum's geth 1.10.3 base; other types get their common fields.
pub fn encode_tx_json(tx: &TxEnvelope) -> Vec<u8> {
    let sig = tx.signature();
    let (v, chain_id, access_list) = match tx {
        TxEnvelope::Legacy(signed) => (U256::from(legacy_v(signed)), None, None),
        other => (
            U256::from(u8::from(sig.v())),
            other.chain_id().map(U256::from),
            Some(other.access_list().cloned().unwrap_or_default()),
        ),
    };
    let json = TxJson {
        ty: Some(U256::from(alloy_consensus::Typed2718::ty(tx))),
        nonce: Some(U256::from(tx.nonce())),
        gas_price: Some(U256::from(tx.gas_price().unwrap_or_else(|| tx.max_fee_per_gas()))),
        gas: Some(U256::from(tx.gas_limit())),
        value: Some(tx.value()),
        input: Some(tx.input().clone()),
        v: Some(v),
        r: Some(sig.r()),
        s: Some(sig.s()),
        to: tx.to(),
        chain_id,
        access_list,
        hash: Some(*tx.tx_hash()),
    };
    // a struct of plain fields always serialises
    serde_json::to_vec(&json).unwrap_or_default()
}

fn required<T>(v: Option<T>, name: &str) -> Result<T, PmtError> {
    v.ok_or_else(|| PmtError::Invalid(format!("missing required field '{name}' in transaction")))
}

fn small<T: TryFrom<U256>>(v: U256, name: &str) -> Result<T, PmtError> {
    T::try_from(v).map_err(|_| PmtError::Invalid(format!("field '{name}' out of range")))
}

/// Decodes geth's transaction JSON (GoQuorum's `Transaction.UnmarshalJSON`) into a signed
/// transaction and recovers its signer. Only legacy transactions are accepted: an inner
/// transaction must be private, and private transactions are legacy.
pub fn decode_tx_json(payload: &[u8]) -> Result<(TxEnvelope, Address), PmtError> {
    let json: TxJson =
        serde_json::from_slice(payload).map_err(|e| PmtError::Json(e.to_string()))?;
    if json.ty.unwrap_or_default() != U256::ZERO {
        return Err(PmtError::Invalid("transaction type not supported".into()));
    }
    // geth's order of the missing-field checks
    let mut tx = TxLegacy {
        chain_id: None,
        nonce: small(required(json.nonce, "nonce")?, "nonce")?,
        gas_price: small(required(json.gas_price, "gasPrice")?, "gasPrice")?,
        gas_limit: small(required(json.gas, "gas")?, "gas")?,
        to: json.to.map(TxKind::Call).unwrap_or(TxKind::Create),
        value: required(json.value, "value")?,
        input: required(json.input, "input")?,
    };
    let v: u64 = small(required(json.v, "v")?, "v")?;
    let (chain_id, odd) = match v {
        27 | 28 => (None, v == 28),
        v if v >= 35 => (Some((v - 35) / 2), (v - 35) % 2 == 1),
        _ => return Err(PmtError::Invalid("invalid transaction v, r, s values".into())),
    };
    tx.chain_id = chain_id;
    let sig = Signature::new(required(json.r, "r")?, required(json.s, "s")?, odd);
    let envelope = TxEnvelope::Legacy(Signed::new_unhashed(tx, sig));
    let signer = qrs_primitives::recover_sender(&envelope)
        .map_err(|_| PmtError::Invalid("invalid transaction v, r, s values".into()))?;
    Ok((envelope, signer))
}

/// The privacy precompile's checks of an inner transaction against its PMT (sender and nonce
/// of the PMT).
pub fn check_inner(
    inner: &TxEnvelope,
    inner_signer: Address,
    pmt_sender: Address,
    pmt_nonce: u64,
) -> Result<(), PmtError> {
    if !qrs_primitives::is_private(inner) {
        return Err(PmtError::NotPrivate);
    }
    if inner_signer == Address::ZERO || inner_signer != pmt_sender {
        return Err(PmtError::DifferentSigner);
    }
    if inner.nonce() != pmt_nonce {
        return Err(PmtError::DifferentNonce);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use alloy_consensus::SignableTransaction;
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;

    use super::*;

    fn key(n: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&B256::with_last_byte(n)).unwrap()
    }

    /// A private transaction as GoQuorum signs it (Homestead hash, `v` 37/38).
    fn private_tx(signer: &PrivateKeySigner, nonce: u64, to: Option<Address>) -> TxEnvelope {
        let tx = TxLegacy {
            chain_id: None,
            nonce,
            gas_price: 0,
            gas_limit: 90_000,
            to: to.map(TxKind::Call).unwrap_or(TxKind::Create),
            value: U256::ZERO,
            input: Bytes::from(vec![0xab; 64]),
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        TxEnvelope::Legacy(Signed::new_unhashed(TxLegacy { chain_id: Some(1), ..tx }, sig))
    }

    fn public_tx(signer: &PrivateKeySigner, nonce: u64) -> TxEnvelope {
        let tx = TxLegacy {
            chain_id: Some(1337),
            nonce,
            gas_price: 0,
            gas_limit: 21_000,
            to: TxKind::Call(PRIVACY_PRECOMPILE),
            value: U256::ZERO,
            input: Bytes::from(vec![0xcd; 64]),
        };
        let sig = signer.sign_hash_sync(&tx.signature_hash()).unwrap();
        TxEnvelope::Legacy(Signed::new_unhashed(tx, sig))
    }

    #[test]
    fn json_has_geths_shape_and_round_trips() {
        let signer = key(1);
        let tx = private_tx(&signer, 7, None);
        let json: serde_json::Value = serde_json::from_slice(&encode_tx_json(&tx)).unwrap();
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected =
            vec!["type", "nonce", "gasPrice", "gas", "value", "input", "v", "r", "s", "to", "hash"];
        expected.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected);
        assert_eq!(json["type"], "0x0");
        assert_eq!(json["nonce"], "0x7");
        assert_eq!(json["gasPrice"], "0x0");
        assert_eq!(json["gas"], "0x15f90");
        assert_eq!(json["value"], "0x0");
        assert!(json["v"] == "0x25" || json["v"] == "0x26", "{}", json["v"]);
        assert_eq!(json["to"], serde_json::Value::Null);
        assert_eq!(json["hash"], format!("{}", tx.tx_hash()));
        let (decoded, from) = decode_tx_json(&encode_tx_json(&tx)).unwrap();
        assert_eq!(decoded, tx);
        assert_eq!(decoded.tx_hash(), tx.tx_hash());
        assert_eq!(from, signer.address());
        assert!(qrs_primitives::is_private(&decoded));
    }

    #[test]
    fn decodes_what_geth_writes() {
        // geth's json.Encoder output (with its trailing newline) of a private creation
        let signer = key(2);
        let tx = private_tx(&signer, 0, Some(Address::with_last_byte(9)));
        let sig = tx.signature();
        let text = format!(
            "{{\"type\":\"0x0\",\"nonce\":\"0x0\",\"gasPrice\":\"0x0\",\"maxPriorityFeePerGas\":null,\"maxFeePerGas\":null,\"gas\":\"0x15f90\",\"value\":\"0x0\",\"input\":\"0x{}\",\"v\":\"{:#x}\",\"r\":\"{:#x}\",\"s\":\"{:#x}\",\"to\":\"0x0000000000000000000000000000000000000009\",\"hash\":\"{}\"}}\n",
            "ab".repeat(64),
            37 + u64::from(sig.v()),
            sig.r(),
            sig.s(),
            tx.tx_hash()
        );
        let (decoded, from) = decode_tx_json(text.as_bytes()).unwrap();
        assert_eq!(decoded.tx_hash(), tx.tx_hash());
        assert_eq!(from, signer.address());
    }

    #[test]
    fn bad_json_is_refused_with_geths_messages() {
        assert!(matches!(decode_tx_json(b"not json"), Err(PmtError::Json(_))));
        let err = decode_tx_json(br#"{"type":"0x0","gasPrice":"0x0"}"#).unwrap_err();
        assert_eq!(err.to_string(), "missing required field 'nonce' in transaction");
        let typed = br#"{"type":"0x1","nonce":"0x0"}"#;
        assert_eq!(
            decode_tx_json(typed).unwrap_err().to_string(),
            "transaction type not supported"
        );
    }

    #[test]
    fn precompile_checks_skip_wrong_signer_nonce_and_public_inner() {
        let (a, b) = (key(3), key(4));
        let inner = private_tx(&a, 5, None);
        assert_eq!(check_inner(&inner, a.address(), a.address(), 5), Ok(()));
        assert_eq!(
            check_inner(&inner, a.address(), b.address(), 5),
            Err(PmtError::DifferentSigner)
        );
        assert_eq!(check_inner(&inner, a.address(), a.address(), 6), Err(PmtError::DifferentNonce));
        let public = public_tx(&a, 5);
        assert_eq!(check_inner(&public, a.address(), a.address(), 5), Err(PmtError::NotPrivate));
        // a decoded inner signed by another key fails the signer check
        let (decoded, from) = decode_tx_json(&encode_tx_json(&private_tx(&b, 5, None))).unwrap();
        assert_eq!(check_inner(&decoded, from, a.address(), 5), Err(PmtError::DifferentSigner));
    }

    #[test]
    fn markers_are_public_calls_to_the_precompile() {
        let a = key(5);
        let pmt = public_tx(&a, 0);
        assert!(is_privacy_marker(&pmt));
        assert_eq!(marker_payload_hash(&pmt), Some(B512::repeat_byte(0xcd)));
        assert!(!is_privacy_marker(&private_tx(&a, 0, Some(PRIVACY_PRECOMPILE))));
        assert!(!is_privacy_marker(&private_tx(&a, 0, None)));
    }
}
