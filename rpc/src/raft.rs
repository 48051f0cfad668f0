//! `raft_*`: Raft cluster queries and membership changes with GoQuorum's result shapes
//! (`raft/api.go`; goquorum.md §2.3). Registered only when the node runs the Raft engine
//! ([`RpcContext::raft`]).
//!
//! - `raft_leader` → the leader's node id (128 hex characters), or `no leader is currently elected`;
//! - `raft_role` → `"minter"`, `"verifier"`, `"learner"`, or `""` (removed / no leader);
//! - `raft_cluster` → `[{raftId, nodeId, p2pPort, raftPort, hostname, role, nodeActive}]`;
//! - `raft_getRaftId(enode)` → raft id (a full enode URL, `enode://<id>` or the bare node id);
//! - `raft_addPeer(enode)` / `raft_addLearner(enode)` → the new raft id (the URL needs
//!   `?raftport=`); `raft_promoteToPeer(id)` → `true`; `raft_removePeer(id)` → `null`.

use std::future::Future;

use jsonrpsee::{Extensions, types::ErrorObjectOwned, types::Params};
use qrs_consensus::raft::RaftHandle;
use serde_json::{Value, json};

use crate::{Args, Module, RegisterResult, RpcContext, error::RpcError, error::RpcResult, method};

fn engine(ctx: &RpcContext) -> RpcResult<&RaftHandle> {
    ctx.raft.as_ref().ok_or_else(|| RpcError::Rejected("raft is not running".into()))
}

/// Registers an async method taking the handle and the parsed arguments.
fn async_method<F, Fut>(m: &mut Module, name: &'static str, f: F) -> RegisterResult
where
    F: Fn(RaftHandle, Args) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = RpcResult<Value>> + Send + 'static,
{
    m.register_async_method(name, move |params: Params<'static>, ctx, _: Extensions| {
        let f = f.clone();
        async move {
            let args = Args::parse(params.as_str())?;
            let handle = engine(&ctx)?.clone();
            f(handle, args).await.map_err(ErrorObjectOwned::from)
        }
    })?;
    Ok(())
}

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    method(m, "raft_leader", |c, a| {
        a.at_most(0)?;
        Ok(Value::String(engine(c)?.leader()?))
    })?;
    method(m, "raft_role", |c, a| {
        a.at_most(0)?;
        Ok(Value::String(engine(c)?.role().to_string()))
    })?;
    method(m, "raft_cluster", |c, a| {
        a.at_most(0)?;
        serde_json::to_value(engine(c)?.cluster()).map_err(|e| RpcError::Internal(e.to_string()))
    })?;
    method(m, "raft_getRaftId", |c, a| {
        let enode: String = a.at_most(1)?.req(0)?;
        Ok(json!(engine(c)?.get_raft_id(&enode)?))
    })?;
    async_method(m, "raft_addPeer", |h, a| async move {
        let enode: String = a.at_most(1)?.req(0)?;
        Ok(json!(h.add_peer(&enode).await?))
    })?;
    async_method(m, "raft_addLearner", |h, a| async move {
        let enode: String = a.at_most(1)?.req(0)?;
        Ok(json!(h.add_learner(&enode).await?))
    })?;
    async_method(m, "raft_promoteToPeer", |h, a| async move {
        let id: u16 = a.at_most(1)?.req(0)?;
        Ok(json!(h.promote_to_peer(id).await?))
    })?;
    async_method(m, "raft_removePeer", |h, a| async move {
        let id: u16 = a.at_most(1)?.req(0)?;
        h.remove_peer(id).await?;
        Ok(Value::Null)
    })?;
    Ok(())
}
