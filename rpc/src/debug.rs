//! `debug_traceTransaction`, `debug_traceBlockByNumber/Hash` and `debug_traceCall` with geth's
//! struct logger and `callTracer` (what explorers use).

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256};
use alloy_rpc_types_trace::geth::{
    GethDebugBuiltInTracerType, GethDebugTracerType, GethDebugTracingOptions,
};
use qrs_evm::{
    BlockContext, EvmConfig, StateDb, StateView, revm::context::result::ExecutionResult,
};
use qrs_storage::StoredBlock;
use revm_inspectors::tracing::{TracingInspector, TracingInspectorConfig};
use serde_json::{Value, json};

use crate::{
    Module, RegisterResult, blocking,
    call::{CallRequest, OverrideJson, overrides},
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::hash,
    method,
    params::{Args, BlockSel},
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    method(m, "debug_privateStateRoot", |c, a| {
        // GoQuorum: this node's private state root at a block (the empty root if none)
        let a = a.at_most(1)?;
        let sel = a.opt::<BlockSel>(0)?.unwrap_or_default();
        let reader = c.chain.reader()?;
        let n = c.resolve_existing(&reader, sel)?;
        let header = reader.header(n)?.ok_or(RpcError::HeaderNotFound)?;
        Ok(hash(&reader.private_state_root(&header.state_root)?))
    })?;
    blocking(m, "debug_traceTransaction", |c, a| {
        let h: B256 = a.req(0)?;
        let opts: GethDebugTracingOptions = a.opt(1)?.unwrap_or_default();
        let reader = c.chain.reader()?;
        let (block, index) = c
            .mined_tx(&reader, &h)?
            .ok_or_else(|| RpcError::Rejected(format!("transaction {h:#x} not found")))?;
        trace_in_block(c, &block, index, &opts)
    })?;
    blocking(m, "debug_traceBlockByNumber", |c, a| {
        let sel: BlockSel = a.req(0)?;
        trace_block(c, sel, a.opt(1)?.unwrap_or_default())
    })?;
    blocking(m, "debug_traceBlockByHash", |c, a| {
        let h: B256 = a.req(0)?;
        trace_block(c, BlockSel::Hash(h), a.opt(1)?.unwrap_or_default())
    })?;
    blocking(m, "debug_traceCall", trace_call)?;
    Ok(())
}

enum Tracer {
    StructLogs,
    Call(alloy_rpc_types_trace::geth::CallConfig),
}

fn tracer(opts: &GethDebugTracingOptions) -> RpcResult<Tracer> {
    match &opts.tracer {
        None => Ok(Tracer::StructLogs),
        Some(GethDebugTracerType::BuiltInTracer(GethDebugBuiltInTracerType::CallTracer)) => {
            let cfg = opts
                .tracer_config
                .clone()
                .into_call_config()
                .map_err(|e| RpcError::InvalidParams(e.to_string()))?;
            Ok(Tracer::Call(cfg))
        }
        Some(other) => Err(RpcError::Rejected(format!(
            "tracer {other:?} is not supported (use the default struct logger or callTracer)"
        ))),
    }
}

fn inspector(t: &Tracer, opts: &GethDebugTracingOptions) -> TracingInspector {
    match t {
        Tracer::StructLogs => {
            TracingInspector::new(TracingInspectorConfig::from_geth_config(&opts.config))
        }
        Tracer::Call(cfg) => {
            TracingInspector::new(TracingInspectorConfig::from_geth_call_config(cfg))
        }
    }
}

/// The trace result. geth's callTracer reports the transaction's gas limit as the top frame's
/// `gas` (`callTracer.OnEnter`: `if depth == 0 { call.Gas = t.gasLimit }`).
fn frame(
    t: &Tracer,
    opts: &GethDebugTracingOptions,
    insp: TracingInspector,
    result: &ExecutionResult,
    gas_limit: u64,
) -> RpcResult<Value> {
    let gas = result.tx_gas_used();
    let output = result.output().cloned().unwrap_or_default();
    let builder = insp.into_geth_builder();
    let v = match t {
        Tracer::StructLogs => serde_json::to_value(builder.geth_traces(gas, output, opts.config)),
        Tracer::Call(cfg) => {
            let mut top = builder.geth_call_traces(*cfg, gas);
            top.gas = alloy_primitives::U256::from(gas_limit);
            serde_json::to_value(top)
        }
    };
    v.map_err(|e| RpcError::Internal(e.to_string()))
}

fn trace_in_block(
    c: &RpcContext,
    block: &StoredBlock,
    index: usize,
    opts: &GethDebugTracingOptions,
) -> RpcResult<Value> {
    let t = tracer(opts)?;
    let n = block.header.number;
    if n == 0 {
        return Err(RpcError::Rejected("genesis is not traceable".into()));
    }
    let reader = c.chain.reader()?;
    let parent_root = reader.header(n - 1)?.ok_or(RpcError::HeaderNotFound)?.state_root;
    let db = StateDb::new(reader, StateView::Root(parent_root));
    let cfg = EvmConfig::at(c.chain.spec(), n, block.header.timestamp);
    let ctx = BlockContext::from_header(&block.header);
    let prior = block.transactions[..index].iter().zip(block.senders.iter().copied());
    let gas_limit = alloy_consensus::Transaction::gas_limit(&block.transactions[index]);
    let target = qrs_evm::tx_env(&block.transactions[index], block.senders[index])
        .map_err(|e| RpcError::Rejected(e.to_string()))?;
    let (result, insp) =
        qrs_evm::replay_and_inspect(db, &cfg, &ctx, prior, target, inspector(&t, opts))
            .map_err(|e| RpcError::Internal(e.to_string()))?;
    frame(&t, opts, insp, &result, gas_limit)
}

fn trace_block(c: &RpcContext, sel: BlockSel, opts: GethDebugTracingOptions) -> RpcResult<Value> {
    let reader = c.chain.reader()?;
    let n = c.resolve_existing(&reader, sel)?;
    let block = reader.block(n)?.ok_or(RpcError::HeaderNotFound)?;
    let mut out = Vec::with_capacity(block.transactions.len());
    for (i, tx) in block.transactions.iter().enumerate() {
        out.push(
            json!({ "txHash": hash(tx.tx_hash()), "result": trace_in_block(c, &block, i, &opts)? }),
        );
    }
    Ok(Value::Array(out))
}

fn trace_call(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let req: CallRequest = a.req(0)?;
    let sel = a.opt::<BlockSel>(1)?.unwrap_or_default();
    let raw_opts = a.raw(2).cloned().unwrap_or(Value::Null);
    let ov = overrides(
        raw_opts
            .get("stateOverrides")
            .cloned()
            .map(serde_json::from_value::<BTreeMap<Address, OverrideJson>>)
            .transpose()
            .map_err(|e| RpcError::arg(2, e))?,
    )?;
    let opts: GethDebugTracingOptions = a.opt(2)?.unwrap_or_default();
    let t = tracer(&opts)?;
    let reader = c.chain.reader()?;
    let n = c.resolve_existing(&reader, sel)?;
    let header = reader.header(n)?.ok_or(RpcError::HeaderNotFound)?;
    let view = if reader.head_number()? == Some(n) {
        StateView::Latest
    } else {
        StateView::Root(header.state_root)
    };
    let cfg = EvmConfig::at(c.chain.spec(), n, header.timestamp);
    let ctx = BlockContext::from_header(&header);
    let tx = req.to_tx_env(c.gas_cap)?;
    let gas_limit = tx.gas_limit;
    let (result, insp) = qrs_evm::inspect_call(
        StateDb::new(reader, view),
        &cfg,
        &ctx,
        tx,
        &ov,
        inspector(&t, &opts),
    )
    .map_err(|e| RpcError::Rejected(e.to_string()))?;
    frame(&t, &opts, insp, &result, gas_limit)
}
