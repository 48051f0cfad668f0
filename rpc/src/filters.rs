//! Log filters: `eth_getLogs` and the polling filters (`eth_newFilter` & co).

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use alloy_primitives::{Address, B256, Bloom, BloomInput, Log};
use parking_lot::Mutex;
use qrs_storage::ReadTx;
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::{
    Module, RegisterResult,
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{hash, log_json},
    method,
    params::BlockSel,
};

/// Filters not polled for this long are removed (geth: 5 minutes).
const FILTER_TIMEOUT: Duration = Duration::from_secs(300);
/// The largest block range one `eth_getLogs` may scan.
const MAX_LOG_RANGE: u64 = 100_000;

/// One element of `topics`: any, one topic, or one of several.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicSet(pub Option<Vec<B256>>);

impl<'de> Deserialize<'de> for TopicSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Option::<Value>::deserialize(d)?;
        Ok(Self(match v {
            None | Some(Value::Null) => None,
            Some(Value::Array(items)) => {
                let mut out = Vec::new();
                for i in items {
                    if i.is_null() {
                        return Ok(Self(None));
                    }
                    out.push(serde_json::from_value(i).map_err(serde::de::Error::custom)?);
                }
                Some(out)
            }
            Some(other) => {
                Some(vec![serde_json::from_value(other).map_err(serde::de::Error::custom)?])
            }
        }))
    }
}

/// One address or several.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum AddressSet {
    /// One address.
    One(Address),
    /// Any of these.
    Many(Vec<Address>),
}

/// A log filter (`eth_getLogs`, `eth_newFilter`, `logs` subscriptions).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogFilter {
    /// First block.
    pub from_block: Option<BlockSel>,
    /// Last block.
    pub to_block: Option<BlockSel>,
    /// Only this block (excludes the range).
    pub block_hash: Option<B256>,
    /// Emitting contracts.
    pub address: Option<AddressSet>,
    /// Topic constraints by position.
    #[serde(default)]
    pub topics: Vec<TopicSet>,
}

impl LogFilter {
    fn addresses(&self) -> Option<Vec<Address>> {
        match &self.address {
            None => None,
            Some(AddressSet::One(a)) => Some(vec![*a]),
            Some(AddressSet::Many(v)) if v.is_empty() => None,
            Some(AddressSet::Many(v)) => Some(v.clone()),
        }
    }

    /// True if the log matches.
    pub fn matches(&self, log: &Log) -> bool {
        if let Some(addrs) = self.addresses()
            && !addrs.contains(&log.address)
        {
            return false;
        }
        let topics = log.topics();
        if self.topics.len() > topics.len() {
            return false;
        }
        self.topics.iter().zip(topics).all(|(set, t)| set.0.as_ref().is_none_or(|s| s.contains(t)))
    }

    /// True if a block with this bloom may contain a match.
    pub fn may_match(&self, bloom: &Bloom) -> bool {
        if let Some(addrs) = self.addresses()
            && !addrs.iter().any(|a| bloom.contains_input(BloomInput::Raw(a.as_slice())))
        {
            return false;
        }
        self.topics.iter().all(|set| match &set.0 {
            None => true,
            Some(ts) => ts.iter().any(|t| bloom.contains_input(BloomInput::Raw(t.as_slice()))),
        })
    }
}

/// Matching logs of blocks `from..=to`, as JSON.
pub fn logs_in_range(
    reader: &ReadTx,
    filter: &LogFilter,
    from: u64,
    to: u64,
) -> RpcResult<Vec<Value>> {
    let mut out = Vec::new();
    for n in from..=to {
        let Some(header) = reader.header(n)? else { break };
        // private logs (this node's private receipts) count too, as in GoQuorum
        if !filter.may_match(&header.logs_bloom) && !filter.may_match(&reader.private_bloom(n)?) {
            continue;
        }
        let (Some(block), Some(mut receipts)) = (reader.block(n)?, reader.receipts(n)?) else {
            continue;
        };
        crate::eth::merge_private_receipts(
            reader,
            &block,
            &mut receipts,
            crate::eth::MergeFor::Logs,
        )?;
        out.extend(block_logs(&block, &receipts, filter));
    }
    Ok(out)
}

/// Matching logs of one block.
pub fn block_logs(
    block: &qrs_storage::StoredBlock,
    receipts: &[qrs_storage::StoredReceipt],
    filter: &LogFilter,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut log_index = 0u64;
    for (i, (r, tx)) in receipts.iter().zip(&block.transactions).enumerate() {
        for log in &r.logs {
            if filter.matches(log) {
                out.push(log_json(
                    log,
                    &block.hash,
                    block.header.number,
                    tx.tx_hash(),
                    i as u64,
                    log_index,
                ));
            }
            log_index += 1;
        }
    }
    out
}

fn range(c: &RpcContext, reader: &ReadTx, filter: &LogFilter) -> RpcResult<Option<(u64, u64)>> {
    if let Some(h) = filter.block_hash {
        if filter.from_block.is_some() || filter.to_block.is_some() {
            return Err(RpcError::InvalidParams(
                "cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other"
                    .into(),
            ));
        }
        let n =
            reader.block_number(&h)?.ok_or_else(|| RpcError::Rejected("unknown block".into()))?;
        return Ok(Some((n, n)));
    }
    let head = reader.head_number()?.unwrap_or_default();
    let from =
        c.resolve(reader, filter.from_block.unwrap_or_default())?.unwrap_or(head.saturating_add(1));
    let to = c.resolve(reader, filter.to_block.unwrap_or_default())?.unwrap_or(head);
    if from > to {
        return Ok(None);
    }
    if to - from > MAX_LOG_RANGE {
        return Err(RpcError::Rejected(format!("query exceeds max block range {MAX_LOG_RANGE}")));
    }
    Ok(Some((from, to)))
}

#[derive(Debug)]
enum FilterKind {
    Blocks { next: u64 },
    Logs { filter: LogFilter, next: u64 },
    Pending { rx: broadcast::Receiver<B256> },
}

#[derive(Debug)]
struct Installed {
    kind: FilterKind,
    last_poll: Instant,
}

/// Installed polling filters.
#[derive(Debug, Default)]
pub struct Filters {
    map: Mutex<HashMap<String, Installed>>,
}

impl Filters {
    fn install(&self, kind: FilterKind) -> String {
        let id = format!("0x{:032x}", rand::random::<u128>());
        let mut map = self.map.lock();
        map.retain(|_, f| f.last_poll.elapsed() < FILTER_TIMEOUT);
        map.insert(id.clone(), Installed { kind, last_poll: Instant::now() });
        id
    }
}

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    method(m, "eth_getLogs", |c, a| {
        let filter: LogFilter = a.at_most(1)?.req(0)?;
        let reader = c.chain.reader()?;
        match range(c, &reader, &filter)? {
            Some((from, to)) => Ok(Value::Array(logs_in_range(&reader, &filter, from, to)?)),
            None => Ok(Value::Array(Vec::new())),
        }
    })?;
    method(m, "eth_newFilter", |c, a| {
        let filter: LogFilter = a.req(0)?;
        let next = c.chain.head().header.number.saturating_add(1);
        Ok(Value::String(c.filters.install(FilterKind::Logs { filter, next })))
    })?;
    method(m, "eth_newBlockFilter", |c, _| {
        let next = c.chain.head().header.number.saturating_add(1);
        Ok(Value::String(c.filters.install(FilterKind::Blocks { next })))
    })?;
    method(m, "eth_newPendingTransactionFilter", |c, _| {
        Ok(Value::String(c.filters.install(FilterKind::Pending { rx: c.chain.pool().subscribe() })))
    })?;
    method(m, "eth_uninstallFilter", |c, a| {
        let id: String = a.req(0)?;
        Ok(Value::Bool(c.filters.map.lock().remove(&id).is_some()))
    })?;
    method(m, "eth_getFilterChanges", |c, a| {
        let id: String = a.req(0)?;
        let reader = c.chain.reader()?;
        let head = reader.head_number()?.unwrap_or_default();
        let mut map = c.filters.map.lock();
        let f = map.get_mut(&id).ok_or_else(|| RpcError::Rejected("filter not found".into()))?;
        f.last_poll = Instant::now();
        let out = match &mut f.kind {
            FilterKind::Blocks { next } => {
                let mut hashes = Vec::new();
                while *next <= head {
                    if let Some(h) = reader.canonical_hash(*next)? {
                        hashes.push(hash(&h));
                    }
                    *next += 1;
                }
                hashes
            }
            FilterKind::Logs { filter, next } => {
                let logs = if *next <= head {
                    logs_in_range(&reader, filter, *next, head)?
                } else {
                    Vec::new()
                };
                *next = head.saturating_add(1).max(*next);
                logs
            }
            FilterKind::Pending { rx } => {
                let mut hashes = Vec::new();
                loop {
                    match rx.try_recv() {
                        Ok(h) => hashes.push(hash(&h)),
                        Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    }
                }
                hashes
            }
        };
        Ok(Value::Array(out))
    })?;
    method(m, "eth_getFilterLogs", |c, a| {
        let id: String = a.req(0)?;
        let filter = {
            let mut map = c.filters.map.lock();
            let f =
                map.get_mut(&id).ok_or_else(|| RpcError::Rejected("filter not found".into()))?;
            f.last_poll = Instant::now();
            match &f.kind {
                FilterKind::Logs { filter, .. } => filter.clone(),
                _ => return Err(RpcError::Rejected("filter not found".into())),
            }
        };
        let reader = c.chain.reader()?;
        match range(c, &reader, &filter)? {
            Some((from, to)) => Ok(Value::Array(logs_in_range(&reader, &filter, from, to)?)),
            None => Ok(Value::Array(Vec::new())),
        }
    })?;
    Ok(())
}
