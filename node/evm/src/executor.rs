//! Running the transactions of one block and collecting receipts and state changes.

use alloy_consensus::{Transaction as _, TxEnvelope, Typed2718};
use alloy_primitives::{Address, B256, Bloom, Bytes, KECCAK256_EMPTY, Log};
use qrs_storage::{AccountChange, AccountInfo, StateChanges, StorageError, StoredReceipt};
use revm::{
    Context, ExecuteCommitEvm, ExecuteEvm, MainBuilder, MainContext,
    context::result::{EVMError, ExecutionResult, InvalidTransaction},
    database::CacheDB,
    handler::{MainnetContext, MainnetEvm},
    primitives::hardfork::SpecId,
    state::EvmState,
};

use crate::{
    bloom::BloomHasher,
    config::{BlockContext, EvmConfig},
    db::{EvmDbError, StateDb},
    private::{PrivateExec, PrivateInputs, PrivateOutcome, PrivateTx, intrinsic_gas},
    tx::tx_env,
};

type Evm = MainnetEvm<MainnetContext<CacheDB<StateDb>>>;

/// Why a transaction could not be included.
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    /// The transaction is invalid in this state (message as geth words it).
    #[error("{0}")]
    Invalid(String),
    /// The block has no gas left for this transaction.
    #[error("gas limit reached")]
    BlockGasExhausted,
    /// Reading state failed: the block cannot be built or imported right now.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The result of one included transaction.
#[derive(Debug, Clone)]
pub struct TxOutcome {
    /// Gas used.
    pub gas_used: u64,
    /// Succeeded (status 1).
    pub success: bool,
}

/// The result of a whole block.
#[derive(Debug, Clone, Default)]
pub struct BlockOutcome {
    /// One receipt per transaction.
    pub receipts: Vec<StoredReceipt>,
    /// Total gas used.
    pub gas_used: u64,
    /// Bloom of every log.
    pub logs_bloom: Bloom,
    /// The receipts trie root.
    pub receipts_root: B256,
    /// Every state change of the block.
    pub changes: StateChanges,
    /// The private side (private transactions), on this node.
    pub private: PrivateOutcome,
}

/// Executes transactions on top of one state snapshot, in order.
#[allow(missing_debug_implementations)]
pub struct BlockExecutor {
    evm: Evm,
    spec: SpecId,
    cfg: EvmConfig,
    block_env: revm::context::BlockEnv,
    gas_limit: u64,
    outcome: BlockOutcome,
    /// Each receipt's logs bloom (computed once: for the block's bloom and the receipts root).
    blooms: Vec<Bloom>,
    bloom_hasher: BloomHasher,
    private: Option<PrivateExec>,
}

impl BlockExecutor {
    /// A new executor for a block with context `ctx` under rules `cfg`, reading `db`.
    pub fn new(db: StateDb, cfg: &EvmConfig, ctx: &BlockContext) -> Self {
        let evm = Context::mainnet()
            .with_db(CacheDB::new(db))
            .with_cfg(cfg.cfg_env())
            .with_block(cfg.block_env(ctx))
            .build_mainnet();
        Self {
            evm,
            spec: cfg.spec,
            cfg: cfg.clone(),
            block_env: cfg.block_env(ctx),
            gas_limit: ctx.gas_limit,
            outcome: BlockOutcome::default(),
            blooms: Vec::new(),
            bloom_hasher: BloomHasher::default(),
            private: None,
        }
    }

    /// Runs private transactions on this node's private state with the block's payloads.
    /// Without it, private transactions get their public effect only (nonce, receipt).
    pub fn with_private(mut self, inputs: PrivateInputs) -> Self {
        self.private = Some(PrivateExec::new(inputs));
        self
    }

    /// Gas still available in the block.
    pub fn gas_left(&self) -> u64 {
        self.gas_limit.saturating_sub(self.outcome.gas_used)
    }

    /// Executes one transaction and commits its effects to the block's state.
    /// On `Err` nothing changed and the transaction must not be included.
    pub fn execute(&mut self, tx: &TxEnvelope, sender: Address) -> Result<TxOutcome, ExecError> {
        if tx.gas_limit() > self.gas_left() {
            return Err(ExecError::BlockGasExhausted);
        }
        if qrs_primitives::is_private(tx) {
            return self.execute_private(tx, sender);
        }
        let env = tx_env(tx, sender).map_err(|e| ExecError::Invalid(e.to_string()))?;
        let result = match self.evm.transact(env) {
            Ok(r) => r,
            Err(EVMError::Transaction(invalid)) => {
                return Err(ExecError::Invalid(geth_message(&invalid)));
            }
            Err(EVMError::Database(EvmDbError(e))) => return Err(ExecError::Storage(e)),
            Err(other) => return Err(ExecError::Invalid(other.to_string())),
        };
        if self.cfg.privacy_precompile && crate::pmt::is_privacy_marker(tx) {
            // the precompile runs inside the PMT, before its nonce bump lands
            let cumulative = self.outcome.gas_used.saturating_add(result.result.tx_gas_used());
            self.apply_marker(tx, sender, cumulative)?;
        }
        accumulate(&mut self.outcome.changes, &result.state, self.spec);
        self.evm.commit(result.state);
        let exec = result.result;
        let gas_used = exec.tx_gas_used();
        self.outcome.gas_used = self.outcome.gas_used.saturating_add(gas_used);
        let success = exec.is_success();
        let contract_address = exec
            .created_address()
            .map(|a| Bytes::copy_from_slice(a.as_slice()))
            .unwrap_or_default();
        let (logs, revert_data) = match exec {
            ExecutionResult::Success { logs, .. } => (logs, Bytes::new()),
            ExecutionResult::Revert { logs, output, .. } => (logs, output),
            ExecutionResult::Halt { logs, .. } => (logs, Bytes::new()),
        };
        let logs: Vec<Log> = if success { logs } else { Vec::new() };
        let bloom = self.bloom_hasher.logs_bloom(&logs);
        self.outcome.logs_bloom |= bloom;
        self.blooms.push(bloom);
        self.outcome.receipts.push(StoredReceipt {
            tx_type: tx.ty(),
            success,
            cumulative_gas_used: self.outcome.gas_used,
            gas_used,
            logs,
            contract_address,
            revert_data,
        });
        Ok(TxOutcome { gas_used, success })
    }

    /// A private transaction (GoQuorum): publicly only the sender's nonce moves (status 1,
    /// gas used 0, intrinsic gas checked on the 64-byte hash); privately the payload runs
    /// ([`crate::private`]).
    fn execute_private(
        &mut self,
        tx: &TxEnvelope,
        sender: Address,
    ) -> Result<TxOutcome, ExecError> {
        if !tx.value().is_zero() {
            return Err(ExecError::Invalid(
                "ether value is not supported for private transactions".into(),
            ));
        }
        let is_create = tx.kind().is_create();
        let intrinsic = intrinsic_gas(self.spec, tx.input(), is_create);
        let exec_gas = tx
            .gas_limit()
            .checked_sub(intrinsic)
            .ok_or_else(|| ExecError::Invalid("intrinsic gas too low".into()))?;
        let public = &mut self.evm.ctx.journaled_state.database;
        let account = revm::Database::basic(public, sender)
            .map_err(|EvmDbError(e)| ExecError::Storage(e))?
            .unwrap_or_default();
        if tx.nonce() < account.nonce {
            return Err(ExecError::Invalid("nonce too low".into()));
        }
        if tx.nonce() > account.nonce {
            return Err(ExecError::Invalid("nonce too high".into()));
        }
        if account.code_hash != KECCAK256_EMPTY && account.code_hash != B256::ZERO {
            return Err(ExecError::Invalid("sender not an eoa".into()));
        }
        let next_nonce = account
            .nonce
            .checked_add(1)
            .ok_or_else(|| ExecError::Invalid("nonce has max value".into()))?;
        let created = is_create.then(|| sender.create(account.nonce));
        if let Some(private) = &mut self.private {
            let p = PrivateTx {
                tx,
                key: *tx.tx_hash(),
                sender,
                nonce: account.nonce,
                created,
                exec_gas,
                cumulative_gas: self.outcome.gas_used,
            };
            private.apply(public, &self.cfg, &self.block_env, p)?;
        }
        let mut bumped =
            revm::state::Account::from(revm::state::AccountInfo { nonce: next_nonce, ..account });
        bumped.mark_touch();
        let mut state = EvmState::default();
        state.insert(sender, bumped);
        accumulate(&mut self.outcome.changes, &state, self.spec);
        self.evm.commit(state);
        self.outcome.receipts.push(StoredReceipt {
            tx_type: tx.ty(),
            success: true,
            cumulative_gas_used: self.outcome.gas_used,
            gas_used: 0,
            logs: Vec::new(),
            contract_address: created
                .map(|a| Bytes::copy_from_slice(a.as_slice()))
                .unwrap_or_default(),
            revert_data: Bytes::new(),
        });
        self.blooms.push(Bloom::ZERO);
        Ok(TxOutcome { gas_used: 0, success: true })
    }

    /// GoQuorum's privacy precompile for the PMT `pmt` from `sender`: its inner private
    /// transaction (fetched before the block) runs on the private state with the PMT's nonce,
    /// its private receipt is stored under the PMT's hash. Any failure skips it; only a storage
    /// failure stops the block.
    fn apply_marker(
        &mut self,
        pmt: &TxEnvelope,
        sender: Address,
        cumulative_gas: u64,
    ) -> Result<(), ExecError> {
        let Some(private) = &mut self.private else { return Ok(()) };
        let pmt_hash = *pmt.tx_hash();
        let Some((inner, signer)) =
            crate::pmt::marker_payload_hash(pmt).and_then(|h| private.marker(&h)).cloned()
        else {
            tracing::debug!(target: "evm::pmt", %pmt_hash, "not a participant, skipping execution");
            return Ok(());
        };
        let skip = |why: &dyn std::fmt::Display| {
            tracing::debug!(target: "evm::pmt", %pmt_hash, reason = %why, "inner private transaction skipped");
            Ok(())
        };
        if let Err(e) = crate::pmt::check_inner(&inner, signer, sender, pmt.nonce()) {
            return skip(&e);
        }
        if !inner.value().is_zero() {
            return skip(&"ether value is not supported for private transactions");
        }
        let is_create = inner.kind().is_create();
        let intrinsic = intrinsic_gas(self.spec, inner.input(), is_create);
        let Some(exec_gas) = inner.gas_limit().checked_sub(intrinsic) else {
            return skip(&"intrinsic gas too low");
        };
        let p = PrivateTx {
            tx: &inner,
            key: pmt_hash,
            sender,
            nonce: pmt.nonce(),
            created: is_create.then(|| sender.create(pmt.nonce())),
            exec_gas,
            cumulative_gas,
        };
        let public = &self.evm.ctx.journaled_state.database;
        match private.apply(public, &self.cfg, &self.block_env, p) {
            Ok(()) => Ok(()),
            Err(ExecError::Storage(e)) => Err(ExecError::Storage(e)),
            Err(e) => skip(&e),
        }
    }

    /// Finishes the block: the receipts root and the collected state changes.
    pub fn finish(mut self) -> BlockOutcome {
        self.outcome.receipts_root =
            receipts_root_with_blooms(&self.outcome.receipts, &self.blooms);
        if let Some(private) = self.private.take() {
            self.outcome.private = private.outcome;
        }
        self.outcome
    }
}

/// [`receipts_root`] with each receipt's bloom already known (`blooms[i]` for `receipts[i]`):
/// no bloom is hashed again and no log is copied.
pub fn receipts_root_with_blooms(receipts: &[StoredReceipt], blooms: &[Bloom]) -> B256 {
    use alloy_consensus::{Eip658Value, Receipt, RlpEncodableReceipt};
    if blooms.len() != receipts.len() {
        return receipts_root(receipts);
    }
    let items: Vec<(&StoredReceipt, &Bloom)> = receipts.iter().zip(blooms).collect();
    alloy_trie::root::ordered_trie_root_with_encoder(&items, |(r, bloom), buf| {
        let receipt = Receipt {
            status: Eip658Value::Eip658(r.success),
            cumulative_gas_used: r.cumulative_gas_used,
            logs: r.logs.iter().collect::<Vec<&Log>>(),
        };
        // EIP-2718: a typed receipt is its type byte, then the RLP list, as `ReceiptEnvelope`
        // (the types `ReceiptEnvelope` knows; anything else is encoded as legacy, as there).
        if matches!(r.tx_type, 1..=4) {
            buf.push(r.tx_type);
        }
        receipt.rlp_encode_with_bloom(bloom, buf);
    })
}

/// The receipts trie root of stored receipts (EIP-2718 receipt encodings).
pub fn receipts_root(receipts: &[StoredReceipt]) -> B256 {
    let blooms: Vec<Bloom> =
        receipts.iter().map(|r| alloy_primitives::logs_bloom(&r.logs)).collect();
    receipts_root_with_blooms(receipts, &blooms)
}

/// Folds one transaction's state diff into the block's changes (EIP-161 empty-account rule
/// from Spurious Dragon on).
pub(crate) fn accumulate(changes: &mut StateChanges, state: &EvmState, spec: SpecId) {
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        let entry: &mut AccountChange = changes.accounts.entry(*address).or_default();
        if account.is_selfdestructed() {
            entry.info = None;
            entry.storage.clear();
            entry.storage_wiped = true;
            continue;
        }
        if account.is_created() {
            entry.storage.clear();
            entry.storage_wiped = true;
        }
        if spec >= SpecId::SPURIOUS_DRAGON && account.is_empty() {
            entry.info = None;
            entry.storage.clear();
            continue;
        }
        let info = &account.info;
        entry.info = Some(AccountInfo {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        });
        if info.code_hash != KECCAK256_EMPTY
            && let Some(code) = &info.code
            && account.is_created()
        {
            changes.codes.insert(info.code_hash, code.original_bytes());
        }
        for (slot, value) in account.changed_storage_slots() {
            entry.storage.insert(B256::from(slot.to_be_bytes::<32>()), value.present_value());
        }
    }
}

/// geth's wording for invalid transactions (clients match these with regexes).
pub(crate) fn geth_message(e: &InvalidTransaction) -> String {
    match e {
        InvalidTransaction::NonceTooLow { .. } => "nonce too low".into(),
        InvalidTransaction::NonceTooHigh { .. } => "nonce too high".into(),
        InvalidTransaction::LackOfFundForMaxFee { .. } => {
            "insufficient funds for gas * price + value".into()
        }
        InvalidTransaction::CallGasCostMoreThanGasLimit { .. }
        | InvalidTransaction::GasFloorMoreThanGasLimit { .. } => "intrinsic gas too low".into(),
        InvalidTransaction::InvalidChainId => "invalid chain id for signer".into(),
        InvalidTransaction::GasPriceLessThanBasefee => {
            "max fee per gas less than block base fee".into()
        }
        InvalidTransaction::PriorityFeeGreaterThanMaxFee => {
            "max priority fee per gas higher than max fee per gas".into()
        }
        InvalidTransaction::CallerGasLimitMoreThanBlock => "exceeds block gas limit".into(),
        InvalidTransaction::RejectCallerWithCode => "sender not an eoa".into(),
        InvalidTransaction::CreateInitCodeSizeLimit => "max initcode size exceeded".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, B256, Bytes, Log, LogData};
    use proptest::prelude::*;

    use super::*;

    fn receipt(tx_type: u8, success: bool, gas: u64, logs: Vec<(u8, u8, usize)>) -> StoredReceipt {
        StoredReceipt {
            tx_type,
            success,
            cumulative_gas_used: gas,
            gas_used: gas,
            logs: logs
                .into_iter()
                .map(|(address, topics, data)| Log {
                    address: Address::with_last_byte(address),
                    data: LogData::new_unchecked(
                        (0..topics).map(B256::with_last_byte).collect(),
                        Bytes::from(vec![address; data]),
                    ),
                })
                .collect(),
            contract_address: Bytes::new(),
            revert_data: Bytes::new(),
        }
    }

    /// The reference: alloy's `ReceiptEnvelope`s with blooms computed from the logs.
    fn envelope_root(receipts: &[StoredReceipt]) -> B256 {
        use alloy_consensus::{Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom};
        let envelopes: Vec<ReceiptEnvelope> = receipts
            .iter()
            .map(|r| {
                let receipt = Receipt {
                    status: Eip658Value::Eip658(r.success),
                    cumulative_gas_used: r.cumulative_gas_used,
                    logs: r.logs.clone(),
                };
                let with_bloom = ReceiptWithBloom { logs_bloom: receipt.bloom_slow(), receipt };
                match r.tx_type {
                    1 => ReceiptEnvelope::Eip2930(with_bloom),
                    2 => ReceiptEnvelope::Eip1559(with_bloom),
                    3 => ReceiptEnvelope::Eip4844(with_bloom),
                    4 => ReceiptEnvelope::Eip7702(with_bloom),
                    _ => ReceiptEnvelope::Legacy(with_bloom),
                }
            })
            .collect();
        alloy_consensus::proofs::calculate_receipt_root(&envelopes)
    }

    proptest! {
        /// Our encoding (blooms computed once, logs borrowed) gives the same root as alloy's
        /// receipt envelopes.
        #[test]
        fn receipts_root_with_blooms_matches_the_envelope_encoding(
            specs in prop::collection::vec(
                (0u8..7, any::<bool>(), 0u64..10_000_000,
                 prop::collection::vec((any::<u8>(), 0u8..5, 0usize..70), 0..4)),
                0..40,
            )
        ) {
            let receipts: Vec<StoredReceipt> =
                specs.into_iter().map(|(t, ok, gas, logs)| receipt(t, ok, gas, logs)).collect();
            let blooms: Vec<Bloom> =
                receipts.iter().map(|r| alloy_primitives::logs_bloom(&r.logs)).collect();
            prop_assert_eq!(receipts_root_with_blooms(&receipts, &blooms), envelope_root(&receipts));
            prop_assert_eq!(receipts_root(&receipts), envelope_root(&receipts));
        }
    }
}
