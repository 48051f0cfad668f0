//! Quorum private transactions inside a block (GoQuorum `TransitionDb` for private messages).
//!
//! A private transaction (`v` 37/38) carries the 64-byte TM hash of its payload as `data`. Its
//! public effect is the sender's nonce bump only (status 1, gas used 0). Its private effect
//! depends on this node:
//! - **party** (the TM returned the payload): the payload runs (init code for a creation,
//!   calldata for a call) on a dual state ([`DualDb`]): an address is read from the private state
//!   if it exists there, otherwise from the public state as of this point in the block; writes
//!   and creations land in the private state only; a call into a public-state account runs
//!   read-only ([`ReadOnlyGuard`]): a state change fails the private transaction (status 0) and a
//!   non-zero value transfer into it fails. The sender's nonce is never written to the private
//!   state.
//! - **non-party** (404): a creation leaves an empty account with nonce 1 at the contract address
//!   in the private state; a call does nothing.

use std::collections::{HashMap, HashSet};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, B256, B512, Bloom, Bytes, KECCAK256_EMPTY, Log, U256};
use qrs_storage::{StateChanges, StoredReceipt};
use revm::{
    Context, Database, DatabaseCommit, DatabaseRef, InspectEvm, Inspector, MainBuilder,
    MainContext,
    bytecode::Bytecode,
    context::{
        BlockEnv, TxEnv,
        result::{EVMError, ExecutionResult},
    },
    database::CacheDB,
    handler::MainnetContext,
    interpreter::{
        CallInputs, CallOutcome, CreateInputs, CreateOutcome, Gas, InstructionResult,
        InterpreterResult,
    },
    primitives::hardfork::SpecId,
    state::{Account, AccountInfo, EvmState},
};

use crate::{
    config::EvmConfig,
    db::{EvmDbError, StateDb},
    executor::{ExecError, accumulate},
};

/// The TM hash a private transaction carries (its 64-byte `data`), if `tx` is private.
pub fn private_payload_hash(tx: &TxEnvelope) -> Option<B512> {
    if !qrs_primitives::is_private(tx) {
        return None;
    }
    let input = tx.input();
    (input.len() == 64).then(|| B512::from_slice(input))
}

/// Payloads of a block's private transactions by TM hash: `Some` = this node is a party,
/// `None` = not a party. A hash missing from the map is treated as "not a party".
pub type PrivatePayloads = HashMap<B512, Option<Bytes>>;

/// What a block's private execution needs.
#[derive(Debug)]
pub struct PrivateInputs {
    /// The private state before the block (`StateView::Root(parent private root)`).
    pub state: StateDb,
    /// The block's payloads, fetched before execution.
    pub payloads: PrivatePayloads,
}

/// The private result of a block on this node.
#[derive(Debug, Clone, Default)]
pub struct PrivateOutcome {
    /// Every private state change.
    pub changes: StateChanges,
    /// Private receipts by transaction hash, in block order.
    pub receipts: Vec<(B256, StoredReceipt)>,
    /// Bloom of the private logs.
    pub logs_bloom: Bloom,
}

/// The private state of a block being executed.
#[derive(Debug)]
pub(crate) struct PrivateExec {
    db: CacheDB<StateDb>,
    payloads: PrivatePayloads,
    pub(crate) outcome: PrivateOutcome,
}

/// The facts of one private transaction the private side needs.
pub(crate) struct PrivateTx<'a> {
    pub tx: &'a TxEnvelope,
    pub sender: Address,
    /// The sender's public nonce before this transaction.
    pub nonce: u64,
    /// The contract address of a creation.
    pub created: Option<Address>,
    /// Gas left for execution after the intrinsic gas of the hash.
    pub exec_gas: u64,
    /// The block's cumulative gas (a private transaction adds 0).
    pub cumulative_gas: u64,
}

impl PrivateExec {
    pub(crate) fn new(inputs: PrivateInputs) -> Self {
        Self {
            db: CacheDB::new(inputs.state),
            payloads: inputs.payloads,
            outcome: PrivateOutcome::default(),
        }
    }

    /// Applies the private side of `p`, reading the public state `public`, and records the
    /// private receipt.
    pub(crate) fn apply(
        &mut self,
        public: &CacheDB<StateDb>,
        cfg: &EvmConfig,
        block: &BlockEnv,
        p: PrivateTx<'_>,
    ) -> Result<(), ExecError> {
        let payload = private_payload_hash(p.tx).and_then(|h| self.payloads.get(&h).cloned());
        let (state, result) = match payload.flatten() {
            Some(payload) => self.run_party(public, cfg, block, &p, payload)?,
            None => (self.non_party(cfg.spec, &p), None),
        };
        accumulate(&mut self.outcome.changes, &state, cfg.spec);
        self.db.commit(state);
        let mut receipt = StoredReceipt {
            tx_type: 0,
            success: true,
            cumulative_gas_used: p.cumulative_gas,
            gas_used: 0,
            logs: Vec::new(),
            // set for a creation whatever its status (GoQuorum's applyTransaction)
            contract_address: p
                .created
                .map(|a| Bytes::copy_from_slice(a.as_slice()))
                .unwrap_or_default(),
            revert_data: Bytes::new(),
        };
        if let Some(result) = result {
            receipt.success = result.is_success();
            match result {
                ExecutionResult::Success { logs, .. } => receipt.logs = logs,
                ExecutionResult::Revert { output, .. } => receipt.revert_data = output,
                ExecutionResult::Halt { .. } => {}
            }
        }
        for log in &receipt.logs {
            self.outcome.logs_bloom.accrue_log(log);
        }
        self.outcome.receipts.push((*p.tx.tx_hash(), receipt));
        Ok(())
    }

    /// A non-party's private effect: a creation leaves an empty account with nonce 1.
    fn non_party(&self, spec: SpecId, p: &PrivateTx<'_>) -> EvmState {
        let mut state = EvmState::default();
        if let Some(address) = p.created {
            let nonce = u64::from(spec >= SpecId::SPURIOUS_DRAGON);
            let mut account = Account::from(AccountInfo {
                nonce,
                code_hash: KECCAK256_EMPTY,
                code: Some(Bytecode::default()),
                ..Default::default()
            });
            account.mark_touch();
            account.mark_created();
            state.insert(address, account);
        }
        state
    }

    /// Runs the payload as a party on the dual state; returns the private writes and the result.
    fn run_party(
        &mut self,
        public: &CacheDB<StateDb>,
        cfg: &EvmConfig,
        block: &BlockEnv,
        p: &PrivateTx<'_>,
        payload: Bytes,
    ) -> Result<(EvmState, Option<ExecutionResult>), ExecError> {
        let is_create = p.created.is_some();
        // only the hash's intrinsic gas is charged: give the payload the gas left after it (and
        // at least its EIP-7623 floor, which GoQuorum does not have)
        let payload_gas = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
            cfg.spec, &payload, is_create, 0, 0, 0, None,
        );
        let mut cfg_env = cfg.cfg_env();
        cfg_env.disable_nonce_check = true;
        cfg_env.disable_fee_charge = true;
        cfg_env.disable_block_gas_limit = true;
        cfg_env.disable_eip3607 = true;
        cfg_env.disable_base_fee = true;
        cfg_env.tx_chain_id_check = false;
        let env = TxEnv {
            tx_type: 0,
            caller: p.sender,
            gas_limit: p
                .exec_gas
                .saturating_add(payload_gas.initial_regular_gas)
                .max(payload_gas.floor_gas),
            gas_price: 0,
            kind: p.tx.kind(),
            value: U256::ZERO,
            data: payload,
            nonce: p.nonce,
            chain_id: None,
            ..Default::default()
        };
        let dual = DualDb {
            public,
            private: &mut self.db,
            sender: p.sender,
            private_seen: HashSet::new(),
        };
        let mut evm = Context::mainnet()
            .with_db(dual)
            .with_cfg(cfg_env)
            .with_block(block.clone())
            .build_mainnet_with_inspector(ReadOnlyGuard::default());
        let outcome = match evm.inspect_tx(env) {
            Ok(r) => r,
            Err(EVMError::Database(EvmDbError(e))) => return Err(ExecError::Storage(e)),
            Err(other) => {
                // GoQuorum: the public side still applies; the private transaction failed
                tracing::debug!(target: "evm::private", hash = %p.tx.tx_hash(), error = %other,
                    "private transaction invalid on the private state");
                return Ok((EvmState::default(), Some(failed())));
            }
        };
        if let Some(e) = evm.inspector.error.take() {
            return Err(ExecError::Storage(e.0));
        }
        let seen = std::mem::take(&mut evm.ctx.journaled_state.database.private_seen);
        let mut state = outcome.state;
        state.retain(|address, account| {
            *address != p.sender && (account.is_created() || seen.contains(address))
        });
        Ok((state, Some(outcome.result)))
    }
}

/// The public effect of a private transaction outside block execution (replays for tracing):
/// the sender's nonce moves by one.
pub(crate) fn bump_nonce(db: &mut CacheDB<StateDb>, sender: Address) -> Result<(), EvmDbError> {
    let info = db.basic(sender)?.unwrap_or_default();
    let mut account = Account::from(AccountInfo { nonce: info.nonce.saturating_add(1), ..info });
    account.mark_touch();
    let mut state = EvmState::default();
    state.insert(sender, account);
    db.commit(state);
    Ok(())
}

/// A failed private execution with nothing to report.
fn failed() -> ExecutionResult {
    ExecutionResult::Halt {
        reason: revm::context::result::HaltReason::OutOfGas(
            revm::context::result::OutOfGasError::Basic,
        ),
        gas: Default::default(),
        logs: Vec::<Log>::new(),
    }
}

/// Intrinsic gas of `input` (no access list: private transactions are legacy).
pub(crate) fn intrinsic_gas(spec: SpecId, input: &[u8], is_create: bool) -> u64 {
    revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        spec, input, is_create, 0, 0, 0, None,
    )
    .initial_regular_gas
}

/// GoQuorum's dual state for a private transaction: the private state if the account exists
/// there, otherwise the public state as of this point in the block (read-only).
pub(crate) struct DualDb<'a> {
    public: &'a CacheDB<StateDb>,
    private: &'a mut CacheDB<StateDb>,
    /// The sender is always read from the public state (its public nonce).
    sender: Address,
    /// Accounts served from the private state.
    private_seen: HashSet<Address>,
}

impl DualDb<'_> {
    /// True when `address` lives in the private state.
    fn is_private(&mut self, address: Address) -> Result<bool, EvmDbError> {
        if address == self.sender {
            return Ok(false);
        }
        if self.private_seen.contains(&address) {
            return Ok(true);
        }
        let found = self.private.basic(address)?.is_some();
        if found {
            self.private_seen.insert(address);
        }
        Ok(found)
    }
}

impl Database for DualDb<'_> {
    type Error = EvmDbError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Self::Error> {
        if address != self.sender
            && let Some(info) = self.private.basic(address)?
        {
            self.private_seen.insert(address);
            return Ok(Some(info));
        }
        self.public.basic_ref(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Self::Error> {
        if let Some(code) = self.private.cache.contracts.get(&code_hash) {
            return Ok(code.clone());
        }
        if let Some(code) = self.public.cache.contracts.get(&code_hash) {
            return Ok(code.clone());
        }
        self.private.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, Self::Error> {
        if self.private_seen.contains(&address) {
            self.private.storage(address, index)
        } else {
            self.public.storage_ref(address, index)
        }
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Self::Error> {
        self.public.block_hash_ref(number)
    }
}

/// Makes every call into a public-state account read-only (GoQuorum's `quorumReadOnly`), and
/// fails non-zero value transfers into one.
#[derive(Debug, Default)]
pub(crate) struct ReadOnlyGuard {
    /// Contracts created by this transaction (private, not yet in any database).
    created: HashSet<Address>,
    /// A storage failure while classifying an address.
    error: Option<EvmDbError>,
}

impl ReadOnlyGuard {
    fn is_public(&mut self, db: &mut DualDb<'_>, address: Address) -> Result<bool, EvmDbError> {
        Ok(!self.created.contains(&address) && !db.is_private(address)?)
    }
}

fn refuse(inputs: &CallInputs) -> CallOutcome {
    CallOutcome::new(
        InterpreterResult::new(
            InstructionResult::CallNotAllowedInsideStatic,
            Bytes::new(),
            Gas::new(inputs.gas_limit),
        ),
        inputs.return_memory_offset.clone(),
    )
}

impl<'a> Inspector<MainnetContext<DualDb<'a>>> for ReadOnlyGuard {
    fn call(
        &mut self,
        context: &mut MainnetContext<DualDb<'a>>,
        inputs: &mut CallInputs,
    ) -> Option<CallOutcome> {
        if inputs.is_static {
            return None;
        }
        let db = &mut context.journaled_state.database;
        let public = self
            .is_public(db, inputs.target_address)
            .and_then(|target| Ok(target || self.is_public(db, inputs.bytecode_address)?));
        match public {
            Err(e) => {
                self.error = Some(e);
                Some(refuse(inputs))
            }
            Ok(false) => None,
            Ok(true) if inputs.transfers_value() => Some(refuse(inputs)),
            Ok(true) => {
                inputs.is_static = true;
                None
            }
        }
    }

    fn create_end(
        &mut self,
        _context: &mut MainnetContext<DualDb<'a>>,
        _inputs: &CreateInputs,
        outcome: &mut CreateOutcome,
    ) {
        if let Some(address) = outcome.address {
            self.created.insert(address);
        }
    }
}
