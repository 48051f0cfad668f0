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
//!
//! Privacy enhancements (flags 1-3, [`crate::pe`]): a party checks the transaction's affected
//! contracts against the TM's metadata when the block has them enabled (a failure fails the
//! private transaction); a flag 1-3 payload in a block without them is a consensus error (the
//! block is invalid); contracts created by a flag 1-3 transaction get their privacy metadata.

use std::collections::{BTreeMap, HashMap, HashSet};

use alloy_consensus::{Transaction as _, TxEnvelope};
use alloy_primitives::{Address, B256, B512, Bloom, Bytes, KECCAK256_EMPTY, Log, TxKind, U256};
use qrs_storage::{ContractPrivacyMetadata, StateChanges, StoredReceipt};
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
    config::{BlockContext, EvmConfig},
    db::{EvmDbError, StateDb},
    executor::{ExecError, accumulate},
    pe::{self, Affected, ContractKind, PeView, TxPrivacyMetadata},
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
    /// The TM's privacy metadata of the payloads this node is party to (absent = flag 0, no
    /// affected contracts).
    pub metadata: HashMap<B512, TxPrivacyMetadata>,
    /// The inner transactions of the block's privacy marker transactions this node is party
    /// to, by the PMT's TM hash, with their signers ([`crate::pmt`]).
    pub markers: HashMap<B512, (TxEnvelope, Address)>,
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
    /// Privacy metadata of the contracts created by the block's flag 1-3 transactions.
    pub metadata: Vec<(Address, ContractPrivacyMetadata)>,
}

/// The private state of a block being executed.
#[derive(Debug)]
pub(crate) struct PrivateExec {
    db: CacheDB<StateDb>,
    payloads: PrivatePayloads,
    metadata: HashMap<B512, TxPrivacyMetadata>,
    markers: HashMap<B512, (TxEnvelope, Address)>,
    /// `outcome.metadata` by address (contracts created earlier in the block).
    created: HashMap<Address, ContractPrivacyMetadata>,
    pub(crate) outcome: PrivateOutcome,
}

/// One run of a payload as a party.
struct PartyCall {
    sender: Address,
    /// The sender's public nonce before the transaction.
    nonce: u64,
    kind: TxKind,
    /// The contract address of a creation.
    created: Option<Address>,
    /// Gas left for execution after the intrinsic gas of the hash.
    exec_gas: u64,
    /// The transaction hash (for logs).
    hash: B256,
}

/// What a party run produced.
struct PartyRun {
    /// The private writes.
    state: EvmState,
    result: ExecutionResult,
    /// GoQuorum's affected contracts.
    affected: BTreeMap<Address, Affected>,
}

/// The facts of one private transaction the private side needs.
pub(crate) struct PrivateTx<'a> {
    pub tx: &'a TxEnvelope,
    /// The hash the private receipt is stored under (the transaction's, or its PMT's).
    pub key: B256,
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
            metadata: inputs.metadata,
            markers: inputs.markers,
            created: HashMap::new(),
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
        let hash = private_payload_hash(p.tx);
        let payload = hash.and_then(|h| Some((h, self.payloads.get(&h).cloned().flatten()?)));
        let (state, result) = match payload {
            Some((hash, payload)) => {
                let (state, result) = self.party(public, cfg, block, &p, hash, payload)?;
                (state, Some(result))
            }
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
        self.outcome.receipts.push((p.key, receipt));
        Ok(())
    }

    /// The inner transaction of the PMT carrying `hash`, if this node is party to it.
    pub(crate) fn marker(&self, hash: &B512) -> Option<&(TxEnvelope, Address)> {
        self.markers.get(hash)
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

    /// A party's private effect with GoQuorum's privacy-enhancement rules around the run.
    fn party(
        &mut self,
        public: &CacheDB<StateDb>,
        cfg: &EvmConfig,
        block: &BlockEnv,
        p: &PrivateTx<'_>,
        hash: B512,
        payload: Bytes,
    ) -> Result<(EvmState, ExecutionResult), ExecError> {
        let received = self.metadata.get(&hash).cloned().unwrap_or_default();
        if !cfg.privacy_enhancements && received.privacy_flag != pe::FLAG_STANDARD_PRIVATE {
            // GoQuorum: a consensus error (BAD BLOCK), this node is misconfigured or the
            // sender bypassed the checks
            return Err(ExecError::Invalid(format!(
                "Privacy enhanced transaction received while privacy enhancements are disabled. Please check your node configuration. EPH={hash}"
            )));
        }
        let tx_hash = *p.tx.tx_hash();
        if cfg.privacy_enhancements
            && let Err(e) = pe::prepare(&received)
        {
            tracing::debug!(target: "evm::private", hash = %tx_hash, error = %e, "privacy enhancement check failed");
            return Ok((EvmState::default(), failed()));
        }
        let call = PartyCall {
            sender: p.sender,
            nonce: p.nonce,
            kind: p.tx.kind(),
            created: p.created,
            exec_gas: p.exec_gas,
            hash: tx_hash,
        };
        let run = self.run_party(public, cfg, block, &call, payload)?;
        if !cfg.privacy_enhancements || !run.result.is_success() {
            return Ok((run.state, run.result));
        }
        let mut view = PeView {
            private: &mut self.db,
            created: &self.created,
            block_changes: &self.outcome.changes,
            public,
            spec: cfg.spec,
        };
        let kinds = view.call_kinds(&run.affected)?;
        let mut check = pe::verify(&received, &kinds);
        if check.is_ok() && !received.exec_hash.is_zero() {
            let computed = view.merkle_root(&run.affected, &run.state)?;
            check = pe::verify_merkle_root(received.exec_hash, computed);
        }
        if let Err(e) = check {
            tracing::debug!(target: "evm::private", hash = %tx_hash, error = %e,
                "verification of contract interaction differs from the one returned by Tessera");
            return Ok((EvmState::default(), failed()));
        }
        if received.privacy_flag != pe::FLAG_STANDARD_PRIVATE {
            let metadata = ContractPrivacyMetadata {
                creation_tx_hash: hash,
                privacy_flag: received.privacy_flag,
            };
            for (address, why) in &run.affected {
                let kept = run.state.get(address).is_some_and(|a| a.is_created());
                if *why == Affected::Creation && kept {
                    self.created.insert(*address, metadata);
                    self.outcome.metadata.push((*address, metadata));
                }
            }
        }
        Ok((run.state, run.result))
    }

    /// Runs the payload as a party on the dual state; returns the private writes, the result
    /// and the affected contracts.
    fn run_party(
        &mut self,
        public: &CacheDB<StateDb>,
        cfg: &EvmConfig,
        block: &BlockEnv,
        p: &PartyCall,
        payload: Bytes,
    ) -> Result<PartyRun, ExecError> {
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
            kind: p.kind,
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
            .build_mainnet_with_inspector(ReadOnlyGuard {
                track_affected: cfg.privacy_enhancements,
                ..Default::default()
            });
        let outcome = match evm.inspect_tx(env) {
            Ok(r) => r,
            Err(EVMError::Database(EvmDbError(e))) => return Err(ExecError::Storage(e)),
            Err(other) => {
                // GoQuorum: the public side still applies; the private transaction failed
                tracing::debug!(target: "evm::private", hash = %p.hash, error = %other,
                    "private transaction invalid on the private state");
                return Ok(PartyRun {
                    state: EvmState::default(),
                    result: failed(),
                    affected: BTreeMap::new(),
                });
            }
        };
        if let Some(e) = evm.inspector.error.take() {
            return Err(ExecError::Storage(e.0));
        }
        let seen = std::mem::take(&mut evm.ctx.journaled_state.database.private_seen);
        let affected = std::mem::take(&mut evm.inspector.affected);
        let mut state = outcome.state;
        state.retain(|address, account| {
            *address != p.sender && (account.is_created() || seen.contains(address))
        });
        Ok(PartyRun { state, result: outcome.result, affected })
    }
}

/// A private transaction simulated on this node's private state, as GoQuorum's sender does
/// before sending it (`simulateExecutionForPE`).
#[derive(Debug, Clone)]
pub struct PrivateSimulation {
    /// The execution result.
    pub result: ExecutionResult,
    /// The message-call affected contracts and what the private state says about them.
    pub affected: Vec<(Address, ContractKind)>,
    /// The merkle root of every affected account after the run (when asked for).
    pub merkle_root: B256,
}

/// Runs `payload` from `sender` (a creation when `to` is `None`) on `private` over `public` in
/// the block context `ctx`, with `gas_limit` as the transaction's gas, and collects what the
/// privacy-enhancement checks need ([`pe::sender_check`]).
#[allow(clippy::too_many_arguments)]
pub fn simulate_private(
    public: StateDb,
    private: StateDb,
    cfg: &EvmConfig,
    ctx: &BlockContext,
    sender: Address,
    to: Option<Address>,
    payload: Bytes,
    gas_limit: u64,
    with_merkle_root: bool,
) -> Result<PrivateSimulation, ExecError> {
    let public = CacheDB::new(public);
    let nonce = public.basic_ref(sender).map_err(|EvmDbError(e)| e)?.unwrap_or_default().nonce;
    let is_create = to.is_none();
    let exec_gas = gas_limit.saturating_sub(intrinsic_gas(cfg.spec, &[0x11; 64], is_create));
    let mut exec = PrivateExec::new(PrivateInputs {
        state: private,
        payloads: PrivatePayloads::default(),
        metadata: HashMap::new(),
        markers: HashMap::new(),
    });
    let call = PartyCall {
        sender,
        nonce,
        kind: to.map(TxKind::Call).unwrap_or(TxKind::Create),
        created: is_create.then(|| sender.create(nonce)),
        exec_gas,
        hash: B256::ZERO,
    };
    let run = exec.run_party(&public, cfg, &cfg.block_env(ctx), &call, payload)?;
    let mut view = PeView {
        private: &mut exec.db,
        created: &exec.created,
        block_changes: &exec.outcome.changes,
        public: &public,
        spec: cfg.spec,
    };
    let affected = view.call_kinds(&run.affected)?;
    let merkle_root =
        if with_merkle_root { view.merkle_root(&run.affected, &run.state)? } else { B256::ZERO };
    Ok(PrivateSimulation { result: run.result, affected, merkle_root })
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
    /// GoQuorum's affected contracts: every address whose code ran, and every creation
    /// (recorded only when privacy enhancements are on: nothing reads them otherwise).
    affected: BTreeMap<Address, Affected>,
    track_affected: bool,
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
        let db = &mut context.journaled_state.database;
        let code_address = inputs.bytecode_address;
        if self.track_affected
            && let std::collections::btree_map::Entry::Vacant(slot) =
                self.affected.entry(code_address)
        {
            // GoQuorum records the code address when code runs (not precompiles, not EOAs)
            match db.basic(code_address) {
                Ok(Some(info))
                    if info.code_hash != KECCAK256_EMPTY && info.code_hash != B256::ZERO =>
                {
                    slot.insert(Affected::MessageCall);
                }
                Ok(_) => {}
                Err(e) => {
                    self.error = Some(e);
                    return Some(refuse(inputs));
                }
            }
        }
        if inputs.is_static {
            return None;
        }
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
            if self.track_affected {
                self.affected.insert(address, Affected::Creation);
            }
        }
    }
}
