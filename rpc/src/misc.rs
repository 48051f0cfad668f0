//! `net_`, `web3_`, `txpool_` and `admin_` methods.

use std::collections::BTreeMap;

use alloy_consensus::Transaction as _;
use alloy_primitives::{Bytes, keccak256};
use serde_json::{Map, Value, json};

use crate::{
    Module, RegisterResult,
    json::{hash, q, tx_json},
    method,
};

pub(crate) fn register_net(m: &mut Module) -> RegisterResult {
    method(m, "net_version", |c, _| Ok(Value::String(c.node.network_id.to_string())))?;
    crate::peers::register_net(m)
}

pub(crate) fn register_web3(m: &mut Module) -> RegisterResult {
    method(m, "web3_clientVersion", |c, _| Ok(Value::String(c.node.client_version.clone())))?;
    method(m, "web3_sha3", |_, a| {
        let input: Bytes = a.at_most(1)?.req(0)?;
        Ok(hash(&keccak256(&input)))
    })?;
    Ok(())
}

pub(crate) fn register_txpool(m: &mut Module) -> RegisterResult {
    method(m, "txpool_status", |c, _| {
        let (pending, queued) = c.chain.pool().status();
        Ok(json!({ "pending": q(pending as u64), "queued": q(queued as u64) }))
    })?;
    method(m, "txpool_content", |c, _| {
        let (pending, queued) = c.chain.pool().pending_and_queued();
        let full = |t: &qrs_txpool::PooledTx| tx_json(t.envelope(), t.sender(), None);
        Ok(json!({ "pending": by_sender(pending, full), "queued": by_sender(queued, full) }))
    })?;
    method(m, "txpool_inspect", |c, _| {
        let (pending, queued) = c.chain.pool().pending_and_queued();
        Ok(json!({ "pending": by_sender(pending, summary), "queued": by_sender(queued, summary) }))
    })?;
    Ok(())
}

/// `{sender: {nonce: f(tx)}}`, the shape of `txpool_content` and `txpool_inspect`.
fn by_sender(set: qrs_txpool::TxsBySender, f: impl Fn(&qrs_txpool::PooledTx) -> Value) -> Value {
    let mut out = Map::new();
    for (sender, txs) in set {
        let by_nonce: BTreeMap<String, Value> =
            txs.iter().map(|(n, t)| (n.to_string(), f(t))).collect();
        out.insert(format!("{sender:#x}"), json!(by_nonce));
    }
    Value::Object(out)
}

/// geth's one-line `txpool_inspect` summary of a transaction.
fn summary(t: &qrs_txpool::PooledTx) -> Value {
    let tx = t.envelope();
    let to = tx.to().map(|a| format!("{a:#x}")).unwrap_or_else(|| "contract creation".into());
    let price = tx.gas_price().unwrap_or_else(|| tx.max_fee_per_gas());
    Value::String(format!("{to}: {} wei + {} gas × {price} wei", tx.value(), tx.gas_limit()))
}

pub(crate) fn register_admin(m: &mut Module) -> RegisterResult {
    crate::peers::register_admin(m)?;
    method(m, "admin_datadir", |c, _| Ok(Value::String(c.node.datadir.clone())))?;
    Ok(())
}
