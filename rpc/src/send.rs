//! Sending and signing: `eth_sendRawTransaction`, `eth_sendTransaction`, `eth_sign`,
//! `eth_signTransaction` and the `personal_` namespace.

use std::time::Duration;

use alloy_consensus::{TxEip1559, TxEip2930, TxEnvelope, TxLegacy, TypedTransaction};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{
    Address, B256, Bytes, Signature, TxKind, U256, eip191_hash_message, keccak256,
};
use qrs_chainspec::Hardfork;
use qrs_primitives::RecoveredTx;
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult, blocking,
    call::CallRequest,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{addr, data, hash, tx_json},
    method,
    params::{Args, BlockSel},
    privacy::Stage,
};

pub(crate) fn register_eth(m: &mut Module) -> RegisterResult {
    // async: a privacy marker transaction's inner transaction is fetched from the TM first
    m.register_async_method("eth_sendRawTransaction", |params, c, _| async move {
        let send = async {
            let raw: Bytes = Args::parse(params.as_str())?.at_most(1)?.req(0)?;
            let tx = qrs_primitives::recover_transaction(&raw).map_err(|e| match e {
                qrs_primitives::DecodeTxError::Signature(_) => {
                    RpcError::Rejected("invalid sender".into())
                }
                other => RpcError::Rejected(other.to_string()),
            })?;
            crate::privacy::check_marker_inner(&c, &tx).await?;
            submit(&c, tx)?;
            Ok::<_, RpcError>(hash(&keccak256(&raw)))
        };
        send.await.map_err(jsonrpsee::types::ErrorObjectOwned::from)
    })?;
    blocking(m, "eth_sendTransaction", |c, a| {
        let req: CallRequest = a.at_most(1)?.req(0)?;
        let (signed, from) = sign_request(c, &req, None, Stage::Send)?;
        send_signed(c, signed, from)
    })?;
    blocking(m, "eth_signTransaction", |c, a| {
        let req: CallRequest = a.at_most(1)?.req(0)?;
        let (signed, from) = sign_request(c, &req, None, Stage::StoreRaw)?;
        Ok(signed_json(&signed, from))
    })?;
    method(m, "eth_sign", |c, a| {
        let (address, message): (Address, Bytes) = (a.req(0)?, a.req(1)?);
        Ok(signature_json(&c.keystore()?.sign_message(&address, &message)?))
    })?;
    Ok(())
}

pub(crate) fn register_personal(m: &mut Module) -> RegisterResult {
    method(m, "personal_listAccounts", |c, _| Ok(accounts_json(c)))?;
    blocking(m, "personal_newAccount", |c, a| {
        let password: String = a.req(0)?;
        Ok(addr(&c.keystore()?.new_account(&password)?))
    })?;
    blocking(m, "personal_importRawKey", |c, a| {
        let (key, password): (String, String) = (a.req(0)?, a.req(1)?);
        let key: B256 = key.trim_start_matches("0x").parse().map_err(|e| RpcError::arg(0, e))?;
        Ok(addr(&c.keystore()?.import_raw_key(&key, &password)?))
    })?;
    blocking(m, "personal_unlockAccount", |c, a| {
        let (address, password): (Address, String) = (a.req(0)?, a.req(1)?);
        let seconds: Option<u64> = a.opt(2)?;
        // geth: no duration means 300 s; 0 means until the node stops
        let duration = match seconds {
            None => Some(Duration::from_secs(300)),
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
        };
        c.keystore()?.unlock(&address, &password, duration)?;
        Ok(Value::Bool(true))
    })?;
    method(m, "personal_lockAccount", |c, a| {
        let address: Address = a.req(0)?;
        Ok(Value::Bool(c.keystore()?.lock(&address)))
    })?;
    blocking(m, "personal_sendTransaction", |c, a| {
        let (req, password): (CallRequest, String) = (a.req(0)?, a.req(1)?);
        let (signed, from) = sign_request(c, &req, Some(&password), Stage::Send)?;
        send_signed(c, signed, from)
    })?;
    blocking(m, "personal_signTransaction", |c, a| {
        let (req, password): (CallRequest, String) = (a.req(0)?, a.req(1)?);
        let (signed, from) = sign_request(c, &req, Some(&password), Stage::StoreRaw)?;
        Ok(signed_json(&signed, from))
    })?;
    blocking(m, "personal_sign", |c, a| {
        let (message, address, password): (Bytes, Address, String) =
            (a.req(0)?, a.req(1)?, a.req(2)?);
        Ok(signature_json(
            &c.keystore()?.sign_message_with_password(&address, &password, &message)?,
        ))
    })?;
    method(m, "personal_ecRecover", |_, a| {
        let (message, sig): (Bytes, Bytes) = (a.req(0)?, a.req(1)?);
        let sig = parse_signature(&sig)?;
        let signer = qrs_primitives::recover_signer_from_hash(&sig, &eip191_hash_message(&message))
            .map_err(|e| RpcError::Rejected(e.to_string()))?;
        Ok(addr(&signer))
    })?;
    Ok(())
}

/// The node's accounts (`eth_accounts`, `personal_listAccounts`).
pub(crate) fn accounts_json(c: &RpcContext) -> Value {
    Value::Array(
        c.keystore.as_ref().map(|k| k.accounts()).unwrap_or_default().iter().map(addr).collect(),
    )
}

/// Fills and signs `req` with the unlocked key, or with `password`. A private request
/// (`privateFor` present) goes through the transaction manager first ([`Stage`]) and is signed
/// as GoQuorum signs private transactions (Homestead hash, `v` 37/38).
pub(crate) fn sign_request(
    c: &RpcContext,
    req: &CallRequest,
    password: Option<&str>,
    stage: Stage,
) -> RpcResult<(TxEnvelope, Address)> {
    let keystore = c.keystore()?;
    if req.check_privacy_fields()? && req.private_for.is_some() {
        let (from, tx) = crate::privacy::private_legacy(c, req, stage)?;
        let signed = match password {
            Some(p) => keystore.sign_private_transaction_with_password(&from, p, tx)?,
            None => keystore.sign_private_transaction(&from, tx)?,
        };
        if stage == Stage::Send && c.privacy_marker {
            let marker = crate::privacy::privacy_marker(c, &signed, from, req, password)?;
            return Ok((marker, from));
        }
        return Ok((signed, from));
    }
    let (from, tx) = fill_public(c, req)?;
    let chain_id = c.chain.spec().chain_id;
    let signed = match password {
        Some(p) => keystore.sign_transaction_with_password(&from, p, tx, chain_id)?,
        None => keystore.sign_transaction(&from, tx, chain_id)?,
    };
    Ok((signed, from))
}

/// An unsigned transaction (`r` = `s` = 0) as `eth_fillTransaction` returns it.
pub(crate) fn unsigned_envelope(tx: TypedTransaction) -> TxEnvelope {
    tx.into_envelope(Signature::new(U256::ZERO, U256::ZERO, false))
}

/// `{raw, tx}` of a signed transaction.
fn signed_json(signed: &TxEnvelope, from: Address) -> Value {
    json!({ "raw": data(&signed.encoded_2718()), "tx": tx_json(signed, from, None) })
}

fn signature_json(sig: &Signature) -> Value {
    data(&sig.as_bytes())
}

fn parse_signature(b: &[u8]) -> RpcResult<Signature> {
    if b.len() != 65 {
        return Err(RpcError::Rejected("signature must be 65 bytes long".into()));
    }
    let v = b[64];
    if v != 27 && v != 28 {
        return Err(RpcError::Rejected("invalid Ethereum signature (V is not 27 or 28)".into()));
    }
    Ok(Signature::new(U256::from_be_slice(&b[..32]), U256::from_be_slice(&b[32..64]), v == 28))
}

pub(crate) fn submit(c: &RpcContext, tx: RecoveredTx) -> RpcResult<B256> {
    let hash = *tx.inner().tx_hash();
    // GoQuorum's TX-CREATED checkpoint (`to` = the new contract's address for a creation)
    let created = qrs_metrics::checkpoint::enabled().then(|| {
        use alloy_consensus::Transaction as _;
        match tx.inner().kind() {
            TxKind::Call(to) => to,
            TxKind::Create => tx.signer().create(tx.inner().nonce()),
        }
    });
    c.chain.submit(tx)?;
    tracing::debug!(target: "rpc::eth", %hash, "transaction submitted");
    if let Some(to) = created {
        qrs_metrics::checkpoint::tx_created(hash, to);
    }
    Ok(hash)
}

pub(crate) fn send_signed(c: &RpcContext, signed: TxEnvelope, from: Address) -> RpcResult<Value> {
    let h = submit(c, RecoveredTx::new_unchecked(signed, from))?;
    Ok(hash(&h))
}

/// geth's `setDefaults`: nonce from the pool, gas by estimation, fees by the chain's rules
/// (London chains get an EIP-1559 transaction with zero fees on free-gas chains).
pub(crate) fn fill_public(
    c: &RpcContext,
    req: &CallRequest,
) -> RpcResult<(Address, TypedTransaction)> {
    let from = req.from.ok_or_else(|| RpcError::Rejected("from address is required".into()))?;
    let spec = c.chain.spec();
    if let Some(id) = req.chain_id.map(|c| c.to::<u64>()).filter(|id| *id != spec.chain_id) {
        return Err(RpcError::Rejected(format!(
            "chainId does not match node's (have={id}, want={})",
            spec.chain_id
        )));
    }
    let nonce = match req.nonce {
        Some(n) => n.to::<u64>(),
        None => {
            let state_nonce = crate::eth::account(c, &from, BlockSel::Latest)?
                .map(|r| r.nonce)
                .unwrap_or_default();
            c.chain.pool().pending_nonce(from, state_nonce)
        }
    };
    let input = req.calldata()?;
    let gas_limit = match req.gas_limit() {
        Some(g) => g,
        None => estimate(c, req)?,
    };
    let to = req.to.map(TxKind::Call).unwrap_or(TxKind::Create);
    let value = req.value.unwrap_or_default();
    let head = c.chain.head();
    let next = head.header.number.saturating_add(1);
    let london =
        spec.is_active(Hardfork::London, next, qrs_chain::now_secs().max(head.header.timestamp));
    let price =
        |v: Option<U256>| v.map(|x| u128::try_from(x).unwrap_or(u128::MAX)).unwrap_or_default();
    let tx = if req.is_dynamic_fee()
        || (london && req.gas_price.is_none() && req.access_list.is_none())
    {
        TypedTransaction::Eip1559(TxEip1559 {
            chain_id: spec.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: price(req.max_fee_per_gas),
            max_priority_fee_per_gas: price(req.max_priority_fee_per_gas),
            to,
            value,
            access_list: req.access_list.clone().unwrap_or_default(),
            input,
        })
    } else if let Some(list) = req.access_list.clone() {
        TypedTransaction::Eip2930(TxEip2930 {
            chain_id: spec.chain_id,
            nonce,
            gas_price: price(req.gas_price),
            gas_limit,
            to,
            value,
            access_list: list,
            input,
        })
    } else {
        TypedTransaction::Legacy(TxLegacy {
            chain_id: Some(spec.chain_id),
            nonce,
            gas_price: price(req.gas_price),
            gas_limit,
            to,
            value,
            input,
        })
    };
    Ok((from, tx))
}

fn estimate(c: &RpcContext, req: &CallRequest) -> RpcResult<u64> {
    crate::exec::estimate(c, req, BlockSel::Pending, &qrs_evm::StateOverrides::new())
}
