//! JSON shapes of blocks, transactions, receipts and logs, as geth/GoQuorum return them.

use alloy_consensus::{Header, Transaction as _, TxEnvelope, Typed2718};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Log, U256};
use qrs_storage::{StoredBlock, StoredReceipt};
use serde_json::{Map, Value, json};

/// `0x`-hex quantity.
pub fn q(n: impl Into<u128>) -> Value {
    Value::String(format!("{:#x}", n.into()))
}

/// `0x`-hex of a U256 quantity.
pub fn qu(n: U256) -> Value {
    Value::String(format!("{n:#x}"))
}

/// Lowercase `0x` address.
pub fn addr(a: &Address) -> Value {
    Value::String(format!("{a:#x}"))
}

/// `0x` data.
pub fn data(b: &[u8]) -> Value {
    Value::String(alloy_primitives::hex::encode_prefixed(b))
}

/// `0x` 32-byte hash.
pub fn hash(h: &B256) -> Value {
    Value::String(format!("{h:#x}"))
}

/// Header fields (also the `newHeads` subscription payload).
pub fn header_json(
    h: &Header,
    block_hash: &B256,
    total_difficulty: Option<U256>,
    size: Option<usize>,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("number".into(), q(h.number));
    m.insert("hash".into(), hash(block_hash));
    m.insert("parentHash".into(), hash(&h.parent_hash));
    m.insert("nonce".into(), data(h.nonce.as_slice()));
    m.insert("mixHash".into(), hash(&h.mix_hash));
    m.insert("sha3Uncles".into(), hash(&h.ommers_hash));
    m.insert("logsBloom".into(), data(h.logs_bloom.as_slice()));
    m.insert("stateRoot".into(), hash(&h.state_root));
    m.insert("miner".into(), addr(&h.beneficiary));
    m.insert("difficulty".into(), qu(h.difficulty));
    if let Some(td) = total_difficulty {
        m.insert("totalDifficulty".into(), qu(td));
    }
    m.insert("extraData".into(), data(&h.extra_data));
    if let Some(size) = size {
        m.insert("size".into(), q(size as u64));
    }
    m.insert("gasLimit".into(), q(h.gas_limit));
    m.insert("gasUsed".into(), q(h.gas_used));
    m.insert("timestamp".into(), q(h.timestamp));
    m.insert("transactionsRoot".into(), hash(&h.transactions_root));
    m.insert("receiptsRoot".into(), hash(&h.receipts_root));
    if let Some(fee) = h.base_fee_per_gas {
        m.insert("baseFeePerGas".into(), q(fee));
    }
    if let Some(root) = h.withdrawals_root {
        m.insert("withdrawalsRoot".into(), hash(&root));
    }
    if let Some(v) = h.blob_gas_used {
        m.insert("blobGasUsed".into(), q(v));
    }
    if let Some(v) = h.excess_blob_gas {
        m.insert("excessBlobGas".into(), q(v));
    }
    if let Some(v) = h.parent_beacon_block_root {
        m.insert("parentBeaconBlockRoot".into(), hash(&v));
    }
    if let Some(v) = h.requests_hash {
        m.insert("requestsHash".into(), hash(&v));
    }
    m
}

/// RLP size of a block (header + transactions + empty uncles [+ empty withdrawals]).
fn block_size(b: &StoredBlock) -> usize {
    let header_len = alloy_rlp::Encodable::length(&b.header);
    let txs: usize = b
        .transactions
        .iter()
        .map(|t| {
            let l = t.encode_2718_len();
            if t.is_legacy() {
                l
            } else {
                alloy_rlp::Header { list: false, payload_length: l }.length() + l
            }
        })
        .sum();
    let txs_list = alloy_rlp::Header { list: true, payload_length: txs }.length() + txs;
    let mut payload = header_len + txs_list + 1;
    if b.header.withdrawals_root.is_some() {
        payload += 1;
    }
    alloy_rlp::Header { list: true, payload_length: payload }.length() + payload
}

/// A block with transaction hashes or full transactions.
pub fn block_json(b: &StoredBlock, total_difficulty: Option<U256>, full: bool) -> Value {
    let mut m = header_json(&b.header, &b.hash, total_difficulty, Some(block_size(b)));
    let txs: Vec<Value> = if full {
        b.transactions
            .iter()
            .zip(&b.senders)
            .enumerate()
            .map(|(i, (tx, from))| {
                tx_json(
                    tx,
                    *from,
                    Some((b.hash, b.header.number, i as u64, b.header.base_fee_per_gas)),
                )
            })
            .collect()
    } else {
        b.transactions.iter().map(|tx| hash(tx.tx_hash())).collect()
    };
    m.insert("transactions".into(), Value::Array(txs));
    m.insert("uncles".into(), Value::Array(Vec::new()));
    if b.header.withdrawals_root.is_some() {
        m.insert("withdrawals".into(), Value::Array(Vec::new()));
    }
    Value::Object(m)
}

/// `v` as geth shows it: 27/28, EIP-155 `chainId*2+35+parity`, or 37/38 for private txs.
fn legacy_v(chain_id: Option<u64>, parity: bool) -> u64 {
    let p = u64::from(parity);
    match chain_id {
        Some(c) => c.saturating_mul(2).saturating_add(35 + p),
        None => 27 + p,
    }
}

/// A transaction; `location` = (block hash, number, index, base fee) once mined.
pub fn tx_json(
    tx: &TxEnvelope,
    from: Address,
    location: Option<(B256, u64, u64, Option<u64>)>,
) -> Value {
    let private = qrs_primitives::is_private(tx);
    let sig = tx.signature();
    let mut m = Map::new();
    let (bh, bn, ti) = match location {
        Some((h, n, i, _)) => (hash(&h), q(n), q(i)),
        None => (Value::Null, Value::Null, Value::Null),
    };
    m.insert("blockHash".into(), bh);
    m.insert("blockNumber".into(), bn);
    m.insert("from".into(), addr(&from));
    m.insert("gas".into(), q(tx.gas_limit()));
    let base_fee = location.and_then(|l| l.3);
    let gas_price = match tx {
        TxEnvelope::Legacy(_) | TxEnvelope::Eip2930(_) => tx.gas_price().unwrap_or_default(),
        _ => match (location, base_fee) {
            (Some(_), Some(fee)) => tx.effective_gas_price(Some(fee)),
            _ => tx.max_fee_per_gas(),
        },
    };
    m.insert("gasPrice".into(), q(gas_price));
    if tx.is_dynamic_fee() {
        m.insert("maxFeePerGas".into(), q(tx.max_fee_per_gas()));
        m.insert(
            "maxPriorityFeePerGas".into(),
            q(tx.max_priority_fee_per_gas().unwrap_or_default()),
        );
    }
    m.insert("hash".into(), hash(tx.tx_hash()));
    m.insert("input".into(), data(tx.input()));
    m.insert("nonce".into(), q(tx.nonce()));
    m.insert("to".into(), tx.to().map(|a| addr(&a)).unwrap_or(Value::Null));
    m.insert("transactionIndex".into(), ti);
    m.insert("value".into(), qu(tx.value()));
    m.insert("type".into(), q(tx.ty()));
    if let Some(list) = tx.access_list() {
        m.insert("accessList".into(), serde_json::to_value(list).unwrap_or(Value::Null));
    }
    if let Some(list) = tx.authorization_list() {
        m.insert("authorizationList".into(), serde_json::to_value(list).unwrap_or(Value::Null));
    }
    match tx {
        TxEnvelope::Legacy(signed) => {
            let chain_id = signed.tx().chain_id;
            if let Some(c) = chain_id.filter(|_| !private) {
                m.insert("chainId".into(), q(c));
            }
            m.insert("v".into(), q(legacy_v(chain_id, sig.v())));
        }
        _ => {
            if let Some(c) = tx.chain_id() {
                m.insert("chainId".into(), q(c));
            }
            m.insert("v".into(), q(u64::from(sig.v())));
            m.insert("yParity".into(), q(u64::from(sig.v())));
        }
    }
    m.insert("r".into(), qu(sig.r()));
    m.insert("s".into(), qu(sig.s()));
    Value::Object(m)
}

/// A log with its position.
pub fn log_json(
    log: &Log,
    block_hash: &B256,
    block_number: u64,
    tx_hash: &B256,
    tx_index: u64,
    log_index: u64,
) -> Value {
    json!({
        "address": addr(&log.address),
        "topics": log.topics().iter().map(hash).collect::<Vec<_>>(),
        "data": data(&log.data.data),
        "blockNumber": q(block_number),
        "transactionHash": hash(tx_hash),
        "transactionIndex": q(tx_index),
        "blockHash": hash(block_hash),
        "logIndex": q(log_index),
        "removed": false,
    })
}

/// A receipt. `first_log_index` is the block-wide index of its first log.
/// On free-gas chains nothing is charged, so `effectiveGasPrice` is 0 whatever the fee fields.
pub fn receipt_json(
    block: &StoredBlock,
    index: usize,
    receipt: &StoredReceipt,
    prev_cumulative: u64,
    first_log_index: u64,
    free_gas: bool,
) -> Value {
    let tx = &block.transactions[index];
    let from = block.senders.get(index).copied().unwrap_or_default();
    let tx_hash = *tx.tx_hash();
    let logs: Vec<Value> = receipt
        .logs
        .iter()
        .enumerate()
        .map(|(i, l)| {
            log_json(
                l,
                &block.hash,
                block.header.number,
                &tx_hash,
                index as u64,
                first_log_index + i as u64,
            )
        })
        .collect();
    let mut bloom = alloy_primitives::Bloom::default();
    for l in &receipt.logs {
        bloom.accrue_log(l);
    }
    let effective_price =
        if free_gas { 0 } else { tx.effective_gas_price(block.header.base_fee_per_gas) };
    let mut m = Map::new();
    m.insert("blockHash".into(), hash(&block.hash));
    m.insert("blockNumber".into(), q(block.header.number));
    m.insert("contractAddress".into(), receipt.created().map(|a| addr(&a)).unwrap_or(Value::Null));
    m.insert("cumulativeGasUsed".into(), q(receipt.cumulative_gas_used));
    m.insert("effectiveGasPrice".into(), q(effective_price));
    m.insert("from".into(), addr(&from));
    m.insert("gasUsed".into(), q(receipt.cumulative_gas_used.saturating_sub(prev_cumulative)));
    m.insert("logs".into(), Value::Array(logs));
    m.insert("logsBloom".into(), data(bloom.as_slice()));
    m.insert("status".into(), q(u64::from(receipt.success)));
    m.insert("to".into(), tx.to().map(|a| addr(&a)).unwrap_or(Value::Null));
    m.insert("transactionHash".into(), hash(&tx_hash));
    m.insert("transactionIndex".into(), q(index as u64));
    m.insert("type".into(), q(tx.ty()));
    // GoQuorum: on every receipt
    m.insert(
        "isPrivacyMarkerTransaction".into(),
        Value::Bool(tx.to() == Some(qrs_evm::pmt::PRIVACY_PRECOMPILE)),
    );
    if !receipt.success && !receipt.revert_data.is_empty() {
        m.insert("revertReason".into(), data(&receipt.revert_data));
    }
    Value::Object(m)
}
