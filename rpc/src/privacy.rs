//! GoQuorum's private-transaction RPCs: sending through the transaction manager
//! (`privateFor` on `eth_sendTransaction` / `personal_sendTransaction` / `eth_signTransaction`,
//! `eth_sendRawPrivateTransaction`, `eth_fillTransaction`, `eth_distributePrivateTransaction`)
//! and reading payloads (`eth_getQuorumPayload`, `eth_getQuorumPayloadExtra`,
//! `eth_getPrivacyPrecompileAddress`, `eth_getPSI`).
//!
//! The TM is asynchronous; these methods run on the blocking pool and wait for it there.

use alloy_consensus::{Transaction as _, TxEnvelope, TxLegacy};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex};
use qrs_ptm::{EncodedPayload, PtmClient, Received, SendRequest, SendSignedRequest, TmHash};
use serde::Deserialize;
use serde_json::{Value, json};

mod pmt;

use crate::{
    Module, RegisterResult, blocking,
    call::CallRequest,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{data, tx_json},
    method,
};

/// GoQuorum's privacy precompile (privacy marker transactions).
pub const PRIVACY_PRECOMPILE: Address = qrs_evm::pmt::PRIVACY_PRECOMPILE;

/// The `{privateFor, privateFrom?, privacyFlag?, mandatoryFor?}` argument of the raw methods.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PrivateArgs {
    pub(crate) private_for: Option<Vec<String>>,
    pub(crate) private_from: Option<String>,
    pub(crate) privacy_flag: Option<u64>,
    pub(crate) mandatory_for: Option<Vec<String>>,
}

impl PrivateArgs {
    pub(crate) fn of(req: &CallRequest) -> Self {
        Self {
            private_for: req.private_for.clone(),
            private_from: req.private_from.clone(),
            privacy_flag: req.privacy_flag,
            mandatory_for: req.mandatory_for.clone(),
        }
    }
}

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    blocking(m, "eth_sendRawPrivateTransaction", |c, a| {
        let a = a.at_most(2)?;
        let raw: Bytes = a.req(0)?;
        let args: PrivateArgs = a.req(1)?;
        let (tx, sender) = decode_private_raw(&raw)?;
        distribute_signed(c, &tx, sender, &args)?;
        let hash = crate::send::submit(c, qrs_primitives::RecoveredTx::new_unchecked(tx, sender))?;
        Ok(crate::json::hash(&hash))
    })?;
    blocking(m, "eth_distributePrivateTransaction", |c, a| {
        let a = a.at_most(2)?;
        let raw: Bytes = a.req(0)?;
        let args: PrivateArgs = a.req(1)?;
        let (tx, sender) = decode_private_raw(&raw)?;
        distribute_signed(c, &tx, sender, &args)?;
        // the inner transaction as geth's JSON, sent as a payload of its own for a PMT
        let sent = block_on(ptm(c)?.send(&SendRequest {
            payload: qrs_evm::pmt::encode_tx_json(&tx),
            from: args.private_from.clone(),
            to: args.private_for.clone().unwrap_or_default(),
            ..Default::default()
        }))?;
        Ok(Value::String(format!("0x{}", sent.key.to_hex())))
    })?;
    blocking(m, "eth_fillTransaction", |c, a| {
        let req: CallRequest = a.at_most(1)?.req(0)?;
        if req.check_privacy_fields()? && req.private_for.is_some() {
            let (from, tx) = private_legacy(c, &req, Stage::StoreRaw)?;
            let unsigned = unsigned_private(tx);
            return Ok(
                json!({"raw": data(&unsigned.encoded_2718()), "tx": tx_json(&unsigned, from, None)}),
            );
        }
        let (from, tx) = crate::send::fill_public(c, &req)?;
        let unsigned = crate::send::unsigned_envelope(tx);
        Ok(json!({"raw": data(&unsigned.encoded_2718()), "tx": tx_json(&unsigned, from, None)}))
    })?;
    blocking(m, "eth_getQuorumPayload", |c, a| {
        let hash = tm_hash_arg(&a.at_most(1)?.req::<String>(0)?)?;
        let ptm = ptm_for_reading(c)?;
        Ok(match block_on(ptm.receive(&hash, false))? {
            Some(r) => Value::String(format!("0x{}", hex::encode(&r.payload))),
            None => Value::String("0x".into()),
        })
    })?;
    blocking(m, "eth_getQuorumPayloadExtra", |c, a| {
        let hash = tm_hash_arg(&a.at_most(1)?.req::<String>(0)?)?;
        let ptm = ptm_for_reading(c)?;
        let Some(r) = block_on(ptm.receive(&hash, false))? else {
            return Ok(Value::Null);
        };
        let is_sender = block_on(ptm.is_sender(&hash)).unwrap_or(false);
        Ok(quorum_payload_extra(&r, is_sender))
    })?;
    blocking(m, "eth_decryptQuorumPayload", |c, a| {
        let payload = encoded_payload_arg(&a.at_most(1)?.req::<String>(0)?)?;
        let ptm = ptm_for_reading(c)?;
        let r = block_on(ptm.decrypt_encoded(&payload))?;
        // GoQuorum's DecryptPayload reads only the payload, ACOTHs, execHash and flag
        let r = Received { managed_parties: Vec::new(), sender_key: None, ..r };
        Ok(quorum_payload_extra(&r, true))
    })?;
    method(m, "eth_getPrivacyPrecompileAddress", |_, a| {
        a.at_most(0)?;
        Ok(crate::json::addr(&PRIVACY_PRECOMPILE))
    })?;
    pmt::register(m)?;
    method(m, "eth_getPSI", |_, a| {
        a.at_most(0)?;
        Ok(Value::String("private".into()))
    })?;
    Ok(())
}

pub(crate) use pmt::check_marker_inner;

/// Runs a TM call from a blocking-pool thread.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Handle::current().block_on(f)
}

pub(crate) fn ptm(c: &RpcContext) -> RpcResult<&PtmClient> {
    c.ptm
        .as_ref()
        .ok_or_else(|| RpcError::Rejected("private transaction manager is not in use".into()))
}

/// The privacy marker transaction of a signed private transaction ([`pmt::wrap`]).
pub(crate) fn privacy_marker(
    c: &RpcContext,
    inner: &TxEnvelope,
    from: Address,
    req: &CallRequest,
    password: Option<&str>,
) -> RpcResult<TxEnvelope> {
    pmt::wrap(c, inner, from, &PrivateArgs::of(req), password)
}

fn tm_hash_arg(text: &str) -> RpcResult<TmHash> {
    let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| RpcError::arg(0, e))?;
    tm_digest(&bytes)
}

/// A 64-byte TM payload hash, with GoQuorum's message for any other length.
fn tm_digest(bytes: &[u8]) -> RpcResult<TmHash> {
    TmHash::from_slice(bytes).ok_or_else(|| {
        RpcError::Rejected(format!(
            "Expected a Quorum digest of length 64, but got {}",
            bytes.len()
        ))
    })
}

/// The TM for the payload-reading methods, with GoQuorum's message when there is none.
fn ptm_for_reading(c: &RpcContext) -> RpcResult<&PtmClient> {
    c.ptm
        .as_ref()
        .ok_or_else(|| RpcError::Rejected("PrivateTransactionManager is not enabled".into()))
}

/// A raw signed private transaction: decoded, `v` 37/38 checked, sender recovered.
fn decode_private_raw(raw: &[u8]) -> RpcResult<(TxEnvelope, Address)> {
    let tx = qrs_primitives::recover_transaction(raw).map_err(|e| match e {
        qrs_primitives::DecodeTxError::Signature(_) => RpcError::Rejected("invalid sender".into()),
        other => RpcError::Rejected(other.to_string()),
    })?;
    let (envelope, sender) = (tx.inner().clone(), tx.signer());
    if !qrs_primitives::is_private(&envelope) {
        return Err(RpcError::Rejected("transaction is not private".into()));
    }
    Ok((envelope, sender))
}

/// The raw path: the payload stored with `/storeraw` is distributed with `/sendsignedtx`.
fn distribute_signed(
    c: &RpcContext,
    tx: &TxEnvelope,
    sender: Address,
    args: &PrivateArgs,
) -> RpcResult<()> {
    ptm(c)?;
    check_flag(c, args.privacy_flag, args.mandatory_for.as_ref())?;
    if !tx.value().is_zero() {
        return Err(RpcError::Rejected(
            "ether value is not supported for private transactions".into(),
        ));
    }
    let hash = tm_digest(tx.input())?;
    let flag = flag_u8(args.privacy_flag);
    let enhancement = if c.chain.spec().privacy_enhancements_at(c.chain.head().header.number) {
        // GoQuorum's raw path simulates the payload stored with /storeraw
        let payload =
            block_on(ptm(c)?.receive(&hash, true))?.map(|r| r.payload).unwrap_or_default();
        crate::privacy_enhancements::enhance(
            c,
            &crate::privacy_enhancements::Simulated {
                from: sender,
                to: tx.to(),
                payload: &payload,
                gas: tx.gas_limit(),
                flag,
            },
        )?
    } else {
        Default::default()
    };
    block_on(ptm(c)?.send_signed(&SendSignedRequest {
        hash,
        to: args.private_for.clone().unwrap_or_default(),
        affected_contract_transactions: enhancement.affected_contract_transactions,
        exec_hash: enhancement.exec_hash,
        privacy_flag: flag,
        mandatory_recipients: args.mandatory_for.clone().unwrap_or_default(),
    }))?;
    Ok(())
}

fn flag_u8(flag: Option<u64>) -> u8 {
    u8::try_from(flag.unwrap_or_default()).unwrap_or(u8::MAX)
}

/// GoQuorum's privacy flag checks ([`crate::privacy_enhancements::check_flag`]).
fn check_flag(c: &RpcContext, flag: Option<u64>, mandatory: Option<&Vec<String>>) -> RpcResult<()> {
    crate::privacy_enhancements::check_flag(c, flag, mandatory)
}

/// Where the payload goes before the transaction is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `/send`: encrypted for the recipients and pushed (node-signed sending).
    Send,
    /// `/storeraw`: stored for the sender only (`eth_fillTransaction`).
    StoreRaw,
}

/// GoQuorum's private `setDefaults` + `checkAndHandlePrivateTransaction`: a legacy transaction
/// without chain id whose data is the TM hash (when there was data).
pub(crate) fn private_legacy(
    c: &RpcContext,
    req: &CallRequest,
    stage: Stage,
) -> RpcResult<(Address, TxLegacy)> {
    let ptm = ptm(c)?;
    let args = PrivateArgs::of(req);
    check_flag(c, args.privacy_flag, args.mandatory_for.as_ref())?;
    let value = req.value.unwrap_or_default();
    if !value.is_zero() {
        return Err(RpcError::Rejected(
            "ether value is not supported for private transactions".into(),
        ));
    }
    // nonce and gas exactly as for a public transaction, on the real payload
    let (from, filled) = crate::send::fill_public(c, req)?;
    let payload = req.calldata()?;
    let mut gas_limit = filled.gas_limit();
    if req.gas_limit().is_none() && req.value.is_some() {
        // GoQuorum: the 64-byte hash may cost more intrinsic gas than the payload did
        let hash_cost = intrinsic_data_gas(&[0x11; 64]);
        let payload_cost = intrinsic_data_gas(&payload);
        gas_limit = gas_limit.saturating_add(hash_cost.saturating_sub(payload_cost));
    }
    let input = if payload.is_empty() {
        payload
    } else {
        let key = match stage {
            Stage::Send => {
                let flag = flag_u8(args.privacy_flag);
                let enhancement = crate::privacy_enhancements::enhance(
                    c,
                    &crate::privacy_enhancements::Simulated {
                        from,
                        to: req.to,
                        payload: &payload,
                        gas: gas_limit,
                        flag,
                    },
                )?;
                block_on(ptm.send(&SendRequest {
                    payload: payload.to_vec(),
                    from: args.private_from.clone(),
                    to: args.private_for.clone().unwrap_or_default(),
                    affected_contract_transactions: enhancement.affected_contract_transactions,
                    exec_hash: enhancement.exec_hash,
                    privacy_flag: flag,
                    mandatory_recipients: args.mandatory_for.clone().unwrap_or_default(),
                }))?
                .key
            }
            Stage::StoreRaw => block_on(ptm.store_raw(&payload, args.private_from.as_deref()))?,
        };
        Bytes::copy_from_slice(&key.0)
    };
    let to = req.to.map(TxKind::Call).unwrap_or(TxKind::Create);
    Ok((
        from,
        TxLegacy {
            chain_id: None,
            nonce: filled.nonce(),
            gas_price: 0,
            gas_limit,
            to,
            value: U256::ZERO,
            input,
        },
    ))
}

/// Data gas of calldata (4 per zero byte, 16 per non-zero byte).
fn intrinsic_data_gas(data: &[u8]) -> u64 {
    data.iter().map(|b| if *b == 0 { 4u64 } else { 16 }).sum()
}

/// An unsigned private transaction as `eth_fillTransaction` returns it: `v` 0x25, `r` = `s` = 0.
fn unsigned_private(mut tx: TxLegacy) -> TxEnvelope {
    // chain id 1 in the envelope = `v` 35 + 2 + parity: GoQuorum's private marker
    tx.chain_id = Some(1);
    let sig = alloy_primitives::Signature::new(U256::ZERO, U256::ZERO, false);
    TxEnvelope::Legacy(alloy_consensus::Signed::new_unhashed(tx, sig))
}

/// GoQuorum's `engine.QuorumPayloadExtra` (its Go field names are not json-tagged, so the keys
/// are capitalised): `ACHashes` base64 (`EncryptedPayloadHashes.MarshalJSON`), `ACMerkleRoot` a
/// 32-byte `common.Hash` in hex (zero when the payload has none). `MandatoryRecipients` is always
/// null: GoQuorum's Tessera client never fills it on receive (only `eth_getContractPrivacyMetadata`
/// asks the TM for a contract's mandatory recipients).
fn quorum_payload_extra(r: &Received, is_sender: bool) -> Value {
    let list = |v: &[String]| if v.is_empty() { Value::Null } else { json!(v) };
    json!({
        "Payload": format!("0x{}", hex::encode(&r.payload)),
        "ExtraMetaData": {
            "ACHashes": r.affected_contract_transactions,
            "ACMerkleRoot": format!("0x{}", hex::encode(r.exec_hash_bytes())),
            "PrivacyFlag": r.privacy_flag,
            "ManagedParties": list(&r.managed_parties),
            "Sender": r.sender_key.clone().unwrap_or_default(),
            "MandatoryRecipients": Value::Null,
        },
        "IsSender": is_sender,
    })
}

/// `eth_decryptQuorumPayload`'s argument: hex (`0x` optional) of the JSON of an encrypted
/// payload (what `/encodedpayload/create` returns), with GoQuorum's messages.
fn encoded_payload_arg(text: &str) -> Result<EncodedPayload, RpcError> {
    if text.len() < 3 {
        return Err(RpcError::Rejected("Invalid payload hex".into()));
    }
    let digits = text.strip_prefix("0x").unwrap_or(text);
    let bytes = hex::decode(digits).map_err(|e| RpcError::Rejected(e.to_string()))?;
    serde_json::from_slice(&bytes).map_err(|e| RpcError::Rejected(e.to_string()))
}
