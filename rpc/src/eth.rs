//! `eth_` reads: chain, blocks, transactions, receipts, state, fees.

use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U64, U256, keccak256};
use qrs_storage::{AccountRecord, ReadTx};
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult, blocking,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{addr, block_json, data, hash, q, qu, receipt_json, tx_json},
    method,
    params::{Args, BlockSel},
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    method(m, "eth_chainId", |c, _| Ok(q(c.chain.spec().chain_id)))?;
    method(m, "eth_blockNumber", |c, _| Ok(q(c.chain.head().header.number)))?;
    method(m, "eth_syncing", crate::peers::syncing)?;
    method(m, "eth_mining", |_, _| Ok(Value::Bool(true)))?;
    method(m, "eth_hashrate", |_, _| Ok(q(0u64)))?;
    method(m, "eth_coinbase", |c, _| Ok(addr(&c.chain.head().header.beneficiary)))?;
    method(m, "eth_protocolVersion", |_, _| Ok(q(65u64)))?;
    method(m, "eth_accounts", |c, _| Ok(crate::send::accounts_json(c)))?;
    method(m, "eth_gasPrice", |c, _| Ok(q(if c.free_gas() { 0u64 } else { 1_000_000_000 })))?;
    method(m, "eth_maxPriorityFeePerGas", |c, _| {
        Ok(q(if c.free_gas() { 0u64 } else { 1_000_000_000 }))
    })?;
    method(m, "eth_feeHistory", fee_history)?;
    method(m, "eth_getBlockByNumber", |c, a| {
        let a = a.at_most(2)?;
        let sel: BlockSel = a.req(0)?;
        let full = a.opt::<bool>(1)?.unwrap_or(false);
        block_by(c, sel, full)
    })?;
    method(m, "eth_getBlockByHash", |c, a| {
        let a = a.at_most(2)?;
        let h: B256 = a.req(0)?;
        let full = a.opt::<bool>(1)?.unwrap_or(false);
        block_by(c, BlockSel::Hash(h), full)
    })?;
    method(m, "eth_getBlockTransactionCountByNumber", |c, a| tx_count(c, a.req(0)?))?;
    method(m, "eth_getBlockTransactionCountByHash", |c, a| tx_count(c, BlockSel::Hash(a.req(0)?)))?;
    method(m, "eth_getUncleCountByBlockNumber", |_, _| Ok(q(0u64)))?;
    method(m, "eth_getUncleCountByBlockHash", |_, _| Ok(q(0u64)))?;
    method(m, "eth_getUncleByBlockNumberAndIndex", |_, _| Ok(Value::Null))?;
    method(m, "eth_getUncleByBlockHashAndIndex", |_, _| Ok(Value::Null))?;
    method(m, "eth_getTransactionByHash", tx_by_hash)?;
    method(m, "eth_getRawTransactionByHash", raw_tx_by_hash)?;
    method(m, "eth_getTransactionByBlockNumberAndIndex", |c, a| {
        tx_by_index(c, a.req(0)?, a.req::<U64>(1)?)
    })?;
    method(m, "eth_getTransactionByBlockHashAndIndex", |c, a| {
        tx_by_index(c, BlockSel::Hash(a.req(0)?), a.req::<U64>(1)?)
    })?;
    method(m, "eth_getTransactionReceipt", receipt_by_hash)?;
    method(m, "eth_getBlockReceipts", block_receipts)?;
    method(m, "eth_getBalance", |c, a| {
        let (address, sel) = (a.req::<Address>(0)?, a.opt::<BlockSel>(1)?.unwrap_or_default());
        Ok(qu(account(c, &address, sel)?.map(|r| r.balance).unwrap_or_default()))
    })?;
    method(m, "eth_getTransactionCount", |c, a| {
        let (address, sel) = (a.req::<Address>(0)?, a.opt::<BlockSel>(1)?.unwrap_or_default());
        let nonce = account(c, &address, sel)?.map(|r| r.nonce).unwrap_or_default();
        if sel == BlockSel::Pending {
            return Ok(q(c.chain.pool().pending_nonce(address, nonce)));
        }
        Ok(q(nonce))
    })?;
    method(m, "eth_getCode", |c, a| {
        let (address, sel) = (a.req::<Address>(0)?, a.opt::<BlockSel>(1)?.unwrap_or_default());
        let Some(record) = account(c, &address, sel)? else { return Ok(data(&[])) };
        let code = c.chain.reader()?.code(&record.code_hash)?.unwrap_or_default();
        Ok(data(&code))
    })?;
    method(m, "eth_getStorageAt", |c, a| {
        let address: Address = a.req(0)?;
        let slot: U256 = a.req(1)?;
        let sel = a.opt::<BlockSel>(2)?.unwrap_or_default();
        let slot = B256::from(slot.to_be_bytes::<32>());
        let reader = c.chain.reader()?;
        let n = c.resolve_existing(&reader, sel)?;
        if let Some(acc) = private_account(&reader, n, &address)? {
            let value = reader.storage_at(acc.storage_root, &slot)?;
            return Ok(hash(&B256::from(value.to_be_bytes::<32>())));
        }
        let value = if is_head(&reader, n)? {
            reader.storage(&address, &slot)?
        } else {
            let root = state_root(&reader, n)?;
            match reader.account_at(root, &address)? {
                Some(acc) => reader.storage_at(acc.storage_root, &slot)?,
                None => U256::ZERO,
            }
        };
        Ok(hash(&B256::from(value.to_be_bytes::<32>())))
    })?;
    blocking(m, "eth_getProof", get_proof)?;
    method(m, "eth_storageRoot", storage_root)?;
    Ok(())
}

/// The account in this node's private state after block `n`, if it exists there (GoQuorum's
/// `EthAPIState` reads private first).
fn private_account(reader: &ReadTx, n: u64, address: &Address) -> RpcResult<Option<AccountRecord>> {
    let root = reader.private_state_root(&state_root(reader, n)?)?;
    if root == alloy_trie_empty_root() {
        return Ok(None);
    }
    Ok(reader.account_at(root, address)?)
}

/// `eth_storageRoot(address, block?)`: the account's storage root, private state first; the
/// empty root for an unknown account (GoQuorum's `GetStorageRoot`).
fn storage_root(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let a = a.at_most(2)?;
    let address: Address = a.req(0)?;
    let sel = a.opt::<BlockSel>(1)?.unwrap_or_default();
    let root =
        account(c, &address, sel)?.map(|r| r.storage_root).unwrap_or(alloy_trie_empty_root());
    Ok(hash(&root))
}

fn is_head(reader: &ReadTx, n: u64) -> RpcResult<bool> {
    Ok(reader.head_number()?.unwrap_or_default() == n)
}

fn state_root(reader: &ReadTx, n: u64) -> RpcResult<B256> {
    Ok(reader.header(n)?.ok_or(RpcError::HeaderNotFound)?.state_root)
}

/// An account at a block, private state first: flat tables for the head, the trie for history.
pub(crate) fn account(
    c: &RpcContext,
    address: &Address,
    sel: BlockSel,
) -> RpcResult<Option<AccountRecord>> {
    let reader = c.chain.reader()?;
    let n = c.resolve_existing(&reader, sel)?;
    if let Some(acc) = private_account(&reader, n, address)? {
        return Ok(Some(acc));
    }
    if is_head(&reader, n)? {
        Ok(reader.account(address)?)
    } else {
        Ok(reader.account_at(state_root(&reader, n)?, address)?)
    }
}

fn block_by(c: &RpcContext, sel: BlockSel, full: bool) -> RpcResult<Value> {
    let reader = c.chain.reader()?;
    let Some(n) = c.resolve(&reader, sel)? else { return Ok(Value::Null) };
    let Some(block) = reader.block(n)? else { return Ok(Value::Null) };
    Ok(block_json(&block, reader.total_difficulty(n)?, full))
}

fn tx_count(c: &RpcContext, sel: BlockSel) -> RpcResult<Value> {
    let reader = c.chain.reader()?;
    let Some(n) = c.resolve(&reader, sel)? else { return Ok(Value::Null) };
    Ok(reader.transactions(n)?.map(|t| q(t.len() as u64)).unwrap_or(Value::Null))
}

fn tx_by_hash(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let h: B256 = a.req(0)?;
    let reader = c.chain.reader()?;
    if let Some((block, i)) = c.mined_tx(&reader, &h)? {
        return Ok(tx_json(
            &block.transactions[i],
            block.senders[i],
            Some((block.hash, block.header.number, i as u64, block.header.base_fee_per_gas)),
        ));
    }
    Ok(c.chain
        .pool()
        .get(&h)
        .map(|p| tx_json(p.envelope(), p.sender(), None))
        .unwrap_or(Value::Null))
}

fn raw_tx_by_hash(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let h: B256 = a.req(0)?;
    let reader = c.chain.reader()?;
    if let Some((block, i)) = c.mined_tx(&reader, &h)? {
        return Ok(data(&block.transactions[i].encoded_2718()));
    }
    Ok(c.chain.pool().get(&h).map(|p| data(&p.envelope().encoded_2718())).unwrap_or(Value::Null))
}

fn tx_by_index(c: &RpcContext, sel: BlockSel, index: U64) -> RpcResult<Value> {
    let reader = c.chain.reader()?;
    let Some(n) = c.resolve(&reader, sel)? else { return Ok(Value::Null) };
    let Some(block) = reader.block(n)? else { return Ok(Value::Null) };
    let i = index.to::<usize>();
    Ok(match (block.transactions.get(i), block.senders.get(i)) {
        (Some(tx), Some(from)) => {
            tx_json(tx, *from, Some((block.hash, n, i as u64, block.header.base_fee_per_gas)))
        }
        _ => Value::Null,
    })
}

/// What a block's receipts are merged for ([`merge_private_receipts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MergeFor {
    /// Receipt RPCs: private transactions only.
    Receipts,
    /// `eth_getLogs` and filters: also each privacy marker transaction's inner logs.
    Logs,
}

/// GoQuorum's `MergeReceipts`: this node's private receipt replaces the public one of each
/// private transaction (status, logs, contract address, revert data; gas used 0).
///
/// For [`MergeFor::Logs`] also GoQuorum's `GetLogs`, which adds the logs of each privacy marker
/// transaction's inner private transaction (this node's private receipt, stored under the PMT's
/// hash), so a party's `eth_getLogs` and filters see a PMT-wrapped contract's events. They are
/// reported at the PMT's position (its hash and index); GoQuorum lists them after the block's
/// other logs. A PMT's receipt itself stays its public one.
pub(crate) fn merge_private_receipts(
    reader: &ReadTx,
    block: &qrs_storage::StoredBlock,
    receipts: &mut [qrs_storage::StoredReceipt],
    merge_for: MergeFor,
) -> RpcResult<()> {
    for (tx, receipt) in block.transactions.iter().zip(receipts.iter_mut()) {
        let private = qrs_primitives::is_private(tx);
        let marker = merge_for == MergeFor::Logs && qrs_evm::pmt::is_privacy_marker(tx);
        if !private && !marker {
            continue;
        }
        let Some(stored) = reader.private_receipt(tx.tx_hash())? else { continue };
        if private {
            *receipt = qrs_storage::StoredReceipt {
                cumulative_gas_used: receipt.cumulative_gas_used,
                gas_used: 0,
                ..stored
            };
        } else {
            receipt.logs = stored.logs;
        }
    }
    Ok(())
}

fn receipts_json(
    c: &RpcContext,
    block: &qrs_storage::StoredBlock,
    receipts: &[qrs_storage::StoredReceipt],
) -> Vec<Value> {
    let free_gas = !c.chain.spec().gas_price_enabled_at(block.header.number);
    let mut prev = 0;
    let mut log_index = 0u64;
    receipts
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let v = receipt_json(block, i, r, prev, log_index, free_gas);
            prev = r.cumulative_gas_used;
            log_index += r.logs.len() as u64;
            v
        })
        .collect()
}

fn receipt_by_hash(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let h: B256 = a.req(0)?;
    let reader = c.chain.reader()?;
    let Some((block, i)) = c.mined_tx(&reader, &h)? else { return Ok(Value::Null) };
    let mut receipts = reader.receipts(block.header.number)?.unwrap_or_default();
    merge_private_receipts(&reader, &block, &mut receipts, MergeFor::Receipts)?;
    Ok(receipts_json(c, &block, &receipts[..=i.min(receipts.len().saturating_sub(1))])
        .pop()
        .unwrap_or(Value::Null))
}

fn block_receipts(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let sel: BlockSel = a.req(0)?;
    let reader = c.chain.reader()?;
    let Some(n) = c.resolve(&reader, sel)? else { return Ok(Value::Null) };
    let Some(block) = reader.block(n)? else { return Ok(Value::Null) };
    let mut receipts = reader.receipts(n)?.unwrap_or_default();
    merge_private_receipts(&reader, &block, &mut receipts, MergeFor::Receipts)?;
    Ok(Value::Array(receipts_json(c, &block, &receipts)))
}

fn fee_history(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let count: U64 = a.req(0)?;
    let newest: BlockSel = a.req(1)?;
    let percentiles: Option<Vec<f64>> = a.opt(2)?;
    let reader = c.chain.reader()?;
    let newest = c.resolve_existing(&reader, newest)?;
    let count = count.to::<u64>().clamp(1, 1024).min(newest.saturating_add(1));
    let oldest = newest.saturating_add(1).saturating_sub(count);
    let mut base_fees = Vec::new();
    let mut ratios = Vec::new();
    let mut rewards = Vec::new();
    for n in oldest..=newest {
        let h = reader.header(n)?.ok_or(RpcError::HeaderNotFound)?;
        base_fees.push(q(h.base_fee_per_gas.unwrap_or_default()));
        ratios.push(json!(if h.gas_limit == 0 {
            0.0
        } else {
            h.gas_used as f64 / h.gas_limit as f64
        }));
        if let Some(p) = &percentiles {
            rewards.push(Value::Array(p.iter().map(|_| q(0u64)).collect()));
        }
    }
    base_fees.push(q(0u64));
    let mut out =
        json!({ "oldestBlock": q(oldest), "baseFeePerGas": base_fees, "gasUsedRatio": ratios });
    if percentiles.is_some() {
        out["reward"] = Value::Array(rewards);
    }
    Ok(out)
}

fn get_proof(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let address: Address = a.req(0)?;
    let slots: Vec<U256> = a.req(1)?;
    let sel = a.opt::<BlockSel>(2)?.unwrap_or_default();
    let reader = c.chain.reader()?;
    let n = c.resolve_existing(&reader, sel)?;
    let root = state_root(&reader, n)?;
    let record = reader.account_at(root, &address)?;
    let account_proof = reader.proof(root, &keccak256(address))?;
    let storage_root = record.map(|r| r.storage_root).unwrap_or(alloy_trie_empty_root());
    let mut storage_proof = Vec::new();
    for slot in slots {
        let key = B256::from(slot.to_be_bytes::<32>());
        let value = reader.storage_at(storage_root, &key)?;
        let proof = if storage_root == alloy_trie_empty_root() {
            Vec::new()
        } else {
            reader.proof(storage_root, &keccak256(key))?
        };
        storage_proof.push(json!({ "key": hash(&key), "value": qu(value), "proof": proof }));
    }
    Ok(json!({
        "address": addr(&address),
        "accountProof": account_proof,
        "balance": qu(record.map(|r| r.balance).unwrap_or_default()),
        "codeHash": hash(&record.map(|r| r.code_hash).unwrap_or(alloy_primitives::KECCAK256_EMPTY)),
        "nonce": q(record.map(|r| r.nonce).unwrap_or_default()),
        "storageHash": hash(&storage_root),
        "storageProof": storage_proof,
    }))
}

fn alloy_trie_empty_root() -> B256 {
    qrs_storage::trie::EMPTY_ROOT_HASH
}
