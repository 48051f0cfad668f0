//! `eth_call` and `eth_estimateGas`.

use std::collections::BTreeMap;

use alloy_primitives::Address;
use qrs_evm::{
    BlockContext, CallError, EvmConfig, StateDb, StateView, revm::context::result::ExecutionResult,
};
use serde_json::Value;

use crate::{
    Module, RegisterResult, blocking,
    call::{CallRequest, OverrideJson, overrides},
    ctx::RpcContext,
    error::{RpcError, RpcResult},
    json::{data, q},
    params::{Args, BlockSel},
};

pub(crate) fn register(m: &mut Module) -> RegisterResult {
    blocking(m, "eth_call", eth_call)?;
    blocking(m, "eth_estimateGas", eth_estimate_gas)?;
    Ok(())
}

/// The state and block context a call at `sel` runs in.
struct CallSite {
    number: u64,
    view: StateView,
    /// This node's private state at the block: read first (GoQuorum's `EthAPIState`).
    private_root: alloy_primitives::B256,
    ctx: BlockContext,
    cfg: EvmConfig,
}

fn call_site(c: &RpcContext, sel: BlockSel) -> RpcResult<CallSite> {
    let reader = c.chain.reader()?;
    let number = c.resolve_existing(&reader, sel)?;
    let header = reader.header(number)?.ok_or(RpcError::HeaderNotFound)?;
    let head = reader.head_number()?.unwrap_or_default();
    let view = if number == head { StateView::Latest } else { StateView::Root(header.state_root) };
    let cfg = EvmConfig::at(c.chain.spec(), number, header.timestamp);
    let private_root = reader.private_state_root(&header.state_root)?;
    Ok(CallSite { number, view, private_root, ctx: BlockContext::from_header(&header), cfg })
}

fn db(
    c: &RpcContext,
    view: StateView,
    private_root: alloy_primitives::B256,
) -> Result<StateDb, CallError> {
    let reader = c.chain.reader().map_err(|e| CallError::Invalid(e.to_string()))?;
    Ok(StateDb::new(reader, view).with_private_root(private_root))
}

fn call_error(e: CallError) -> RpcError {
    match e {
        CallError::Invalid(msg) => RpcError::Rejected(msg),
        CallError::Storage(s) => RpcError::Internal(s.to_string()),
    }
}

/// Maps a failed execution to geth's error.
pub(crate) fn failure(result: ExecutionResult) -> RpcError {
    match result {
        ExecutionResult::Revert { output, .. } => RpcError::Reverted { data: output },
        ExecutionResult::Halt { reason, .. } => {
            RpcError::Rejected(halt_message(&format!("{reason:?}")))
        }
        ExecutionResult::Success { .. } => RpcError::Internal("unexpected success".into()),
    }
}

fn halt_message(reason: &str) -> String {
    if reason.contains("OutOfGas") {
        "out of gas".into()
    } else if reason.contains("InvalidFEOpcode") || reason.contains("OpcodeNotFound") {
        "invalid opcode".into()
    } else if reason.contains("StackUnderflow") {
        "stack underflow".into()
    } else if reason.contains("OutOfFunds") {
        "insufficient balance for transfer".into()
    } else {
        format!("execution halted: {reason}")
    }
}

fn eth_call(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let a = a.at_most(4)?;
    let req: CallRequest = a.req(0)?;
    let sel = a.opt::<BlockSel>(1)?.unwrap_or_default();
    let ov = overrides(a.opt::<BTreeMap<Address, OverrideJson>>(2)?)?;
    let site = call_site(c, sel)?;
    let tx = req.to_tx_env(c.gas_cap.min(site.ctx.gas_limit.max(c.gas_cap)))?;
    let result = qrs_evm::simulate(
        db(c, site.view, site.private_root).map_err(call_error)?,
        &site.cfg,
        &site.ctx,
        tx,
        &ov,
    )
    .map_err(call_error)?;
    tracing::trace!(target: "rpc::eth", block = site.number, success = result.is_success(), "eth_call");
    match result {
        ExecutionResult::Success { output, .. } => Ok(data(output.data())),
        other => Err(failure(other)),
    }
}

fn eth_estimate_gas(c: &RpcContext, a: Args) -> RpcResult<Value> {
    let a = a.at_most(3)?;
    let req: CallRequest = a.req(0)?;
    let sel = a.opt::<BlockSel>(1)?.unwrap_or(BlockSel::Pending);
    let ov = overrides(a.opt::<BTreeMap<Address, OverrideJson>>(2)?)?;
    Ok(q(estimate(c, &req, sel, &ov)?))
}

/// `eth_estimateGas`, also used to fill `eth_sendTransaction`.
pub(crate) fn estimate(
    c: &RpcContext,
    req: &CallRequest,
    sel: BlockSel,
    ov: &qrs_evm::StateOverrides,
) -> RpcResult<u64> {
    let site = call_site(c, sel)?;
    let cap = req.gas_limit().unwrap_or(site.ctx.gas_limit).min(c.gas_cap);
    let tx = req.to_tx_env(cap)?;
    let (view, private_root) = (site.view, site.private_root);
    let make_db = || db(c, view, private_root);
    match qrs_evm::estimate_gas(&make_db, &site.cfg, &site.ctx, tx, ov, cap).map_err(call_error)? {
        Ok(gas) => Ok(gas),
        Err(ExecutionResult::Halt { reason, .. }) if format!("{reason:?}").contains("OutOfGas") => {
            Err(RpcError::Rejected(format!("gas required exceeds allowance ({cap})")))
        }
        Err(other) => Err(failure(other)),
    }
}
