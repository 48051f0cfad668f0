//! Simulated calls (`eth_call`, `eth_estimateGas`, tracing) on a state snapshot with overrides.

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use revm::{
    Context, ExecuteEvm, InspectEvm, Inspector, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::{
        TxEnv,
        result::{EVMError, ExecutionResult},
    },
    database::CacheDB,
    handler::MainnetContext,
    state::AccountInfo,
};

use crate::{
    config::{BlockContext, EvmConfig},
    db::{EvmDbError, StateDb},
    executor::geth_message,
};

/// State overrides for a call (geth's `stateOverride` object).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountOverride {
    /// Replace the balance.
    pub balance: Option<U256>,
    /// Replace the nonce.
    pub nonce: Option<u64>,
    /// Replace the code.
    pub code: Option<Bytes>,
    /// Replace the whole storage.
    pub state: Option<BTreeMap<B256, B256>>,
    /// Patch individual slots.
    pub state_diff: Option<BTreeMap<B256, B256>>,
}

/// Overrides by address.
pub type StateOverrides = BTreeMap<Address, AccountOverride>;

/// Why a simulated call could not run (a revert is not an error: it is a result).
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The call is invalid in this state (geth's wording).
    #[error("{0}")]
    Invalid(String),
    /// Reading state failed.
    #[error(transparent)]
    Storage(#[from] qrs_storage::StorageError),
}

fn map_err(e: EVMError<EvmDbError>) -> CallError {
    match e {
        EVMError::Transaction(t) => CallError::Invalid(geth_message(&t)),
        EVMError::Database(EvmDbError(s)) => CallError::Storage(s),
        other => CallError::Invalid(other.to_string()),
    }
}

fn prepared_db(db: StateDb, overrides: &StateOverrides) -> Result<CacheDB<StateDb>, CallError> {
    let mut cache = CacheDB::new(db);
    for (address, o) in overrides {
        let mut info = revm::DatabaseRef::basic_ref(&cache.db, *address)
            .map_err(|e| CallError::Storage(e.0))?
            .unwrap_or_default();
        if let Some(b) = o.balance {
            info.balance = b;
        }
        if let Some(n) = o.nonce {
            info.nonce = n;
        }
        if let Some(code) = &o.code {
            info.code_hash = keccak256(code);
            info.code = Some(Bytecode::new_raw(code.clone()));
        }
        cache.insert_account_info(*address, AccountInfo { ..info });
        if let Some(state) = &o.state {
            let slots = state
                .iter()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .collect();
            cache.replace_account_storage(*address, slots).map_err(|e| CallError::Storage(e.0))?;
        }
        if let Some(diff) = &o.state_diff {
            for (k, v) in diff {
                cache
                    .insert_account_storage(
                        *address,
                        U256::from_be_bytes(k.0),
                        U256::from_be_bytes(v.0),
                    )
                    .map_err(|e| CallError::Storage(e.0))?;
            }
        }
    }
    Ok(cache)
}

fn call_cfg(cfg: &EvmConfig) -> revm::context::CfgEnv {
    let mut c = cfg.cfg_env();
    // like geth's eth_call: no nonce or EOA checks, gas limit may exceed the block's, no base fee
    c.disable_nonce_check = true;
    c.disable_eip3607 = true;
    c.disable_block_gas_limit = true;
    c.disable_base_fee = true;
    c.tx_chain_id_check = false;
    c
}

/// Runs `tx` without committing anything.
pub fn simulate(
    db: StateDb,
    cfg: &EvmConfig,
    ctx: &BlockContext,
    tx: TxEnv,
    overrides: &StateOverrides,
) -> Result<ExecutionResult, CallError> {
    let cache = prepared_db(db, overrides)?;
    let mut evm = Context::mainnet()
        .with_db(cache)
        .with_cfg(call_cfg(cfg))
        .with_block(cfg.block_env(ctx))
        .build_mainnet();
    evm.transact(tx).map(|r| r.result).map_err(map_err)
}

/// Replays `prior` transactions (committing them), then runs `target` under `inspector`:
/// how a mined transaction is traced (`debug_traceTransaction`), with `prior` = the
/// transactions before it in its block and `db` = the parent block's state.
pub fn replay_and_inspect<'t, I>(
    db: StateDb,
    cfg: &EvmConfig,
    ctx: &BlockContext,
    prior: impl IntoIterator<Item = (&'t alloy_consensus::TxEnvelope, Address)>,
    target: TxEnv,
    inspector: I,
) -> Result<(ExecutionResult, I), CallError>
where
    I: Inspector<MainnetContext<CacheDB<StateDb>>>,
{
    use revm::ExecuteCommitEvm;
    let mut evm = Context::mainnet()
        .with_db(CacheDB::new(db))
        .with_cfg(cfg.cfg_env())
        .with_block(cfg.block_env(ctx))
        .build_mainnet_with_inspector(inspector);
    for (tx, sender) in prior {
        if qrs_primitives::is_private(tx) {
            // publicly a private transaction only moves its sender's nonce
            crate::private::bump_nonce(&mut evm.ctx.journaled_state.database, sender)
                .map_err(|e| CallError::Storage(e.0))?;
            continue;
        }
        let env = crate::tx::tx_env(tx, sender).map_err(|e| CallError::Invalid(e.to_string()))?;
        let r = evm.transact(env).map_err(map_err)?;
        evm.commit(r.state);
    }
    let r = evm.inspect_tx(target).map_err(map_err)?;
    Ok((r.result, evm.inspector))
}

/// Runs a call (no state committed) under `inspector` (`debug_traceCall`).
pub fn inspect_call<I>(
    db: StateDb,
    cfg: &EvmConfig,
    ctx: &BlockContext,
    tx: TxEnv,
    overrides: &StateOverrides,
    inspector: I,
) -> Result<(ExecutionResult, I), CallError>
where
    I: Inspector<MainnetContext<CacheDB<StateDb>>>,
{
    let cache = prepared_db(db, overrides)?;
    let mut evm = Context::mainnet()
        .with_db(cache)
        .with_cfg(call_cfg(cfg))
        .with_block(cfg.block_env(ctx))
        .build_mainnet_with_inspector(inspector);
    let r = evm.inspect_tx(tx).map_err(map_err)?;
    Ok((r.result, evm.inspector))
}

/// geth's `eth_estimateGas`: the smallest gas limit at which the call does not fail, found by
/// binary search between the intrinsic cost and `cap`. A call that fails at `cap` returns that
/// failing result instead.
pub fn estimate_gas(
    make_db: &dyn Fn() -> Result<StateDb, CallError>,
    cfg: &EvmConfig,
    ctx: &BlockContext,
    mut tx: TxEnv,
    overrides: &StateOverrides,
    cap: u64,
) -> Result<Result<u64, ExecutionResult>, CallError> {
    tx.gas_limit = cap;
    let first = simulate(make_db()?, cfg, ctx, tx.clone(), overrides)?;
    if !first.is_success() {
        return Ok(Err(first));
    }
    let used = first.tx_gas_used();
    // Most calls succeed with the gas they used plus the 1/64 withheld by CALLs; try that first.
    let optimistic = used.saturating_add(2300).saturating_mul(64) / 63;
    let mut lo = used.saturating_sub(1);
    let mut hi = cap;
    if optimistic < hi {
        tx.gas_limit = optimistic;
        if simulate(make_db()?, cfg, ctx, tx.clone(), overrides)?.is_success() {
            hi = optimistic;
        } else {
            lo = optimistic;
        }
    }
    while lo.saturating_add(1) < hi {
        let mid = lo + (hi - lo) / 2;
        tx.gas_limit = mid;
        match simulate(make_db()?, cfg, ctx, tx.clone(), overrides) {
            Ok(r) if r.is_success() => hi = mid,
            Ok(_) | Err(CallError::Invalid(_)) => lo = mid,
            Err(e) => return Err(e),
        }
    }
    Ok(Ok(hi))
}
