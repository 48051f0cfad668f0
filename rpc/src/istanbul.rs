//! `istanbul_*`: QBFT validators, snapshots, votes and signers, with GoQuorum's result shapes
//! (`consensus/istanbul/backend/api.go`; goquorum.md §2.4). Registered only when the node runs
//! the QBFT engine ([`RpcContext::qbft`]).

use alloy_primitives::{Address, B256};
use qrs_consensus::qbft::{BlockSigners, QbftHandle, Snapshot};
use serde_json::{Map, Value, json};

use crate::{
    Args, BlockSel, Module, RegisterResult, RpcContext,
    error::{RpcError, RpcResult},
    json::{addr, hash},
    method,
};

fn engine(ctx: &RpcContext) -> RpcResult<&QbftHandle> {
    ctx.qbft.as_ref().ok_or_else(|| RpcError::Rejected("istanbul is not running".into()))
}

/// The block an optional `blockNumber` argument names (absent = latest).
fn number_arg(ctx: &RpcContext, args: &Args, index: usize) -> RpcResult<u64> {
    let sel = args.opt::<BlockSel>(index)?.unwrap_or_default();
    let reader = ctx.chain.reader()?;
    ctx.resolve(&reader, sel)?.ok_or(RpcError::UnknownBlock)
}

fn addresses(list: &[Address]) -> Value {
    Value::Array(list.iter().map(addr).collect())
}

fn snapshot_json(s: &Snapshot) -> Value {
    let votes: Vec<Value> = s
        .votes
        .iter()
        .map(|v| {
            json!({
                "validator": addr(&v.validator),
                "block": v.block,
                "address": addr(&v.address),
                "authorize": v.authorize,
            })
        })
        .collect();
    let tally: Map<String, Value> = s
        .tally
        .iter()
        .map(|(a, t)| (format!("{a:#x}"), json!({ "authorize": t.authorize, "votes": t.votes })))
        .collect();
    json!({
        "epoch": s.epoch,
        "number": s.number,
        "hash": hash(&s.hash),
        "votes": votes,
        "tally": tally,
        "validators": addresses(s.validators.list()),
        "policy": s.validators.policy().id(),
    })
}

/// GoQuorum's `BlockSigners` has no json tags: the keys are capitalised.
fn signers_json(s: &BlockSigners) -> Value {
    json!({
        "Number": s.number,
        "Hash": hash(&s.hash),
        "Author": addr(&s.author),
        "Committers": addresses(&s.committers),
    })
}

fn bool_map(entries: impl IntoIterator<Item = (Address, Value)>) -> Value {
    Value::Object(entries.into_iter().map(|(a, v)| (format!("{a:#x}"), v)).collect())
}

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    method(m, "istanbul_getValidators", |c, a| {
        let n = number_arg(c, &a.at_most(1)?, 0)?;
        Ok(addresses(&engine(c)?.validators(n)?))
    })?;
    method(m, "istanbul_getValidatorsAtHash", |c, a| {
        let h: B256 = a.at_most(1)?.req(0)?;
        Ok(addresses(&engine(c)?.validators_at_hash(h)?))
    })?;
    method(m, "istanbul_getSnapshot", |c, a| {
        let n = number_arg(c, &a.at_most(1)?, 0)?;
        Ok(snapshot_json(&engine(c)?.snapshot(n)?))
    })?;
    method(m, "istanbul_getSnapshotAtHash", |c, a| {
        let h: B256 = a.at_most(1)?.req(0)?;
        Ok(snapshot_json(&engine(c)?.snapshot_at_hash(h)?))
    })?;
    method(m, "istanbul_propose", |c, a| {
        let a = a.at_most(2)?;
        let (address, auth): (Address, bool) = (a.req(0)?, a.req(1)?);
        engine(c)?.propose(address, auth);
        Ok(Value::Null)
    })?;
    method(m, "istanbul_discard", |c, a| {
        let address: Address = a.at_most(1)?.req(0)?;
        engine(c)?.discard(&address);
        Ok(Value::Null)
    })?;
    method(m, "istanbul_candidates", |c, _| {
        Ok(bool_map(engine(c)?.candidates().into_iter().map(|(a, b)| (a, Value::Bool(b)))))
    })?;
    method(m, "istanbul_status", |c, a| {
        let a = a.at_most(2)?;
        let start = a.opt::<BlockSel>(0)?;
        let end = a.opt::<BlockSel>(1)?;
        let reader = c.chain.reader()?;
        let range = match (start, end) {
            (None, None) => None,
            (Some(s), Some(e)) => Some((
                c.resolve(&reader, s)?.unwrap_or(u64::MAX),
                c.resolve(&reader, e)?.unwrap_or(u64::MAX),
            )),
            (Some(_), None) => return Err(RpcError::Rejected("pass the end block number".into())),
            (None, Some(_)) => {
                return Err(RpcError::Rejected("pass the start block number".into()));
            }
        };
        let status = engine(c)?.status(range)?;
        Ok(json!({
            "sealerActivity": bool_map(status.sealer_activity.into_iter().map(|(a, n)| (a, json!(n)))),
            "numBlocks": status.num_blocks,
        }))
    })?;
    method(m, "istanbul_nodeAddress", |c, _| Ok(addr(&engine(c)?.node_address())))?;
    method(m, "istanbul_getSignersFromBlock", |c, a| {
        let n = number_arg(c, &a.at_most(1)?, 0)?;
        Ok(signers_json(&engine(c)?.signers(n)?))
    })?;
    method(m, "istanbul_getSignersFromBlockByHash", |c, a| {
        let h: B256 = a.at_most(1)?.req(0)?;
        Ok(signers_json(&engine(c)?.signers_by_hash(h)?))
    })?;
    method(m, "istanbul_isValidator", |c, a| {
        let n = number_arg(c, &a.at_most(1)?, 0)?;
        Ok(Value::Bool(engine(c)?.is_validator(n)?))
    })?;
    Ok(())
}
