//! Privacy marker transactions over RPC (`--privacymarker.enable`; GoQuorum's
//! `createPrivacyMarkerTransaction`, `eth_getPrivateTransactionByHash`,
//! `eth_getPrivateTransactionReceipt`).

use alloy_consensus::{Transaction as _, TxEnvelope, TxLegacy, TypedTransaction};
use alloy_primitives::{Address, B256, Bytes, TxKind};
use qrs_evm::pmt::{PRIVACY_PRECOMPILE, decode_tx_json, encode_tx_json};
use qrs_primitives::RecoveredTx;
use qrs_ptm::SendRequest;
use serde_json::Value;

use super::{PrivateArgs, block_on, ptm, ptm_for_reading, tm_digest};
use crate::{
    Module, RegisterResult, blocking,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{addr, q, receipt_json, tx_json},
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    blocking(m, "eth_getPrivateTransactionByHash", |c, a| {
        let hash: B256 = a.at_most(1)?.req(0)?;
        ptm_for_reading(c)?;
        let reader = c.chain.reader()?;
        let Some((block, i)) = c.mined_tx(&reader, &hash)? else { return Ok(Value::Null) };
        let Some((inner, from)) = fetch_inner(c, &block.transactions[i])? else {
            return Ok(Value::Null);
        };
        let location = (block.hash, block.header.number, i as u64, block.header.base_fee_per_gas);
        Ok(tx_json(&inner, from, Some(location)))
    })?;
    blocking(m, "eth_getPrivateTransactionReceipt", |c, a| {
        let hash: B256 = a.at_most(1)?.req(0)?;
        let reader = c.chain.reader()?;
        let Some((block, i)) = c.mined_tx(&reader, &hash)? else {
            return Err(RpcError::Rejected("privacy marker transaction not found".into()));
        };
        let Some((inner, from)) = fetch_inner(c, &block.transactions[i])? else {
            return Err(RpcError::Rejected(
                "private transaction not found for this participant".into(),
            ));
        };
        let not_found =
            || RpcError::Rejected("could not find receipt for private transaction".into());
        let receipt = reader.private_receipt(&hash)?.ok_or_else(not_found)?;
        let mut receipts = reader.receipts(block.header.number)?.ok_or_else(not_found)?;
        crate::eth::merge_private_receipts(
            &reader,
            &block,
            &mut receipts,
            crate::eth::MergeFor::Receipts,
        )?;
        let first_log: u64 = receipts.iter().take(i).map(|r| r.logs.len() as u64).sum();
        let free_gas = !c.chain.spec().gas_price_enabled_at(block.header.number);
        // GoQuorum's getTransactionReceiptCommonCode(innerTx, ..., pmtHash, index, receipt)
        let mut json = receipt_json(&block, i, &receipt, 0, first_log, free_gas);
        json["from"] = addr(&from);
        json["to"] = inner.to().map(|a| addr(&a)).unwrap_or(Value::Null);
        json["gasUsed"] = q(receipt.gas_used);
        json["type"] = q(alloy_consensus::Typed2718::ty(&inner));
        json["isPrivacyMarkerTransaction"] = Value::Bool(false);
        Ok(json)
    })?;
    Ok(())
}

/// The inner transaction of `pmt` from this node's TM: `None` when this node is not a party
/// (or has no TM, as GoQuorum's no-op privacy manager answers).
fn fetch_inner(c: &RpcContext, pmt: &TxEnvelope) -> RpcResult<Option<(TxEnvelope, Address)>> {
    let Some(ptm) = c.ptm.as_ref() else { return Ok(None) };
    let hash = tm_digest(pmt.input())?;
    let Some(received) = block_on(ptm.receive(&hash, false))? else {
        return Ok(None);
    };
    decode_tx_json(&received.payload).map(Some).map_err(|e| RpcError::Rejected(e.to_string()))
}

/// GoQuorum's pool check of a privacy marker transaction (`validateTx`): see
/// `Chain::check_marker` (the same check as for PMTs from peers). It waits for the TM on a
/// blocking thread.
pub(crate) async fn check_marker_inner(c: &RpcContext, tx: &RecoveredTx) -> RpcResult<()> {
    if !qrs_evm::pmt::is_privacy_marker(tx.inner()) {
        return Ok(());
    }
    let (chain, tx) = (c.chain.clone(), tx.clone());
    tokio::task::spawn_blocking(move || chain.check_marker(&tx))
        .await
        .map_err(|e| RpcError::Internal(format!("privacy marker check: {e}")))??;
    Ok(())
}

/// GoQuorum's `createPrivacyMarkerTransaction`: the signed inner private transaction goes to
/// the TM as geth JSON (same `privateFrom`/`privateFor`, empty metadata); the PMT carries its
/// hash to the precompile with the inner nonce, value and gas price, the intrinsic gas of the
/// hash, signed EIP-155 by the same account.
pub(crate) fn wrap(
    c: &RpcContext,
    inner: &TxEnvelope,
    from: Address,
    args: &PrivateArgs,
    password: Option<&str>,
) -> RpcResult<TxEnvelope> {
    let sent = block_on(ptm(c)?.send(&SendRequest {
        payload: encode_tx_json(inner),
        from: args.private_from.clone(),
        to: args.private_for.clone().unwrap_or_default(),
        ..Default::default()
    }))?;
    let spec = c.chain.spec();
    let head = c.chain.head();
    let next = head.header.number.saturating_add(1);
    let evm = qrs_evm::EvmConfig::at(spec, next, qrs_chain::now_secs().max(head.header.timestamp));
    let tx = TxLegacy {
        chain_id: Some(spec.chain_id),
        nonce: inner.nonce(),
        gas_price: inner.gas_price().unwrap_or_default(),
        gas_limit: qrs_evm::pmt::marker_gas(evm.spec, &sent.key.0),
        to: TxKind::Call(PRIVACY_PRECOMPILE),
        value: inner.value(),
        input: Bytes::copy_from_slice(&sent.key.0),
    };
    let keystore = c.keystore()?;
    let tx = TypedTransaction::Legacy(tx);
    let signed = match password {
        Some(p) => keystore.sign_transaction_with_password(&from, p, tx, spec.chain_id)?,
        None => keystore.sign_transaction(&from, tx, spec.chain_id)?,
    };
    tracing::debug!(target: "rpc::pmt", inner = %inner.tx_hash(), pmt = %signed.tx_hash(),
        "privacy marker transaction created");
    Ok(signed)
}
