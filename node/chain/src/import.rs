//! Importing a block made elsewhere: re-execute and verify before it can become the head.

use std::time::Instant;

use alloy_consensus::{Header, TxEnvelope, proofs::calculate_transaction_root};
use alloy_primitives::Address;
use qrs_evm::{BlockContext, BlockExecutor, EvmConfig, StateDb, StateView};
use qrs_storage::StoredBlock;

use crate::{BuildAttributes, BuiltBlock, Chain, ChainError, metrics::METERS};

impl Chain {
    /// Verifies `header` + `transactions` against the head by executing them, and commits the
    /// block only if every root matches. Consensus-specific header checks (seals, proposer) are
    /// the engine's job before calling this.
    pub fn import_block(
        &self,
        header: Header,
        transactions: Vec<TxEnvelope>,
    ) -> Result<(), ChainError> {
        let _guard = self.inner.writer.lock();
        let built = self.execute_locked(header, transactions)?;
        self.commit_locked(built)
    }

    /// Executes and verifies a block made elsewhere on the head, like [`Chain::import_block`],
    /// without committing it: a QBFT validator checks a proposal before it votes for it, then
    /// commits the result with [`Chain::commit_block`] once the block is decided.
    pub fn execute_block(
        &self,
        header: Header,
        transactions: Vec<TxEnvelope>,
    ) -> Result<BuiltBlock, ChainError> {
        let _guard = self.inner.writer.lock();
        self.execute_locked(header, transactions)
    }

    fn execute_locked(
        &self,
        header: Header,
        transactions: Vec<TxEnvelope>,
    ) -> Result<BuiltBlock, ChainError> {
        let head = self.head();
        let number = header.number;
        let invalid = |reason: String| ChainError::InvalidBlock { number, reason };
        if header.parent_hash != head.hash || number != head.header.number.saturating_add(1) {
            return Err(ChainError::NotOnHead {
                number,
                parent: header.parent_hash,
                head: head.hash,
            });
        }
        if header.timestamp < head.header.timestamp {
            return Err(invalid("timestamp before parent".into()));
        }
        if calculate_transaction_root(&transactions) != header.transactions_root {
            return Err(invalid("transactions root mismatch".into()));
        }
        let senders = self.block_senders(&transactions).map_err(|e| invalid(e.to_string()))?;
        let ctx = BlockContext::from_header(&header);
        let cfg = EvmConfig::at(&self.inner.spec, number, header.timestamp);
        let private =
            self.private_inputs(self.reader()?, &head.header.state_root, &transactions)?;
        let mut executor =
            BlockExecutor::new(StateDb::new(self.reader()?, StateView::Latest), &cfg, &ctx)
                .with_private(private);
        let started = Instant::now();
        for (tx, sender) in transactions.iter().zip(&senders) {
            let tx_started = Instant::now();
            let executed = executor.execute(tx, *sender);
            if qrs_primitives::is_private(tx) {
                METERS.private_execution.record_since(tx_started);
            }
            executed.map_err(|e| invalid(format!("transaction {}: {e}", tx.tx_hash())))?;
        }
        let outcome = executor.finish();
        METERS.execution.record_since(started);
        let started = Instant::now();
        let reader = self.reader()?;
        let (state, hot) = self.state_update(&reader, head.header.state_root, &outcome, number)?;
        let private = crate::private::private_write(
            &reader,
            &head.header.state_root,
            state.state_root,
            number,
            &outcome,
        )?;
        let attrs = BuildAttributes {
            timestamp: header.timestamp,
            beneficiary: header.beneficiary,
            extra_data: header.extra_data.clone(),
            mix_hash: header.mix_hash,
            difficulty: header.difficulty,
            nonce: header.nonce,
        };
        let expected =
            self.next_header(&head, &ctx, &attrs, &transactions, &outcome, state.state_root);
        for (what, ours, theirs) in [
            ("state root", expected.state_root, header.state_root),
            ("receipts root", expected.receipts_root, header.receipts_root),
        ] {
            if ours != theirs {
                return Err(invalid(format!("{what} mismatch: computed {ours}, header {theirs}")));
            }
        }
        if expected.gas_used != header.gas_used || expected.logs_bloom != header.logs_bloom {
            return Err(invalid("gas used or logs bloom mismatch".into()));
        }
        METERS.validation.record_since(started);
        let hash = Chain::block_hash(&header);
        let total_difficulty = head.total_difficulty.saturating_add(header.difficulty);
        let built = BuiltBlock {
            block: StoredBlock { header, hash, transactions, senders },
            receipts: outcome.receipts,
            state,
            total_difficulty,
            private,
            hot: qrs_storage::HotSlot::new(hot),
        };
        Ok(built)
    }

    /// The senders of a block's transactions. A transaction this node's pool already holds was
    /// recovered when it was admitted (its hash covers the signature, so the sender is the same):
    /// only the others are recovered here. On a busy network almost every transaction of a
    /// peer's block arrived by gossip first, so this halves the recoveries per transaction.
    fn block_senders(
        &self,
        transactions: &[TxEnvelope],
    ) -> Result<Vec<Address>, qrs_primitives::RecoveryError> {
        let pool = &self.inner.pool;
        transactions
            .iter()
            .map(|tx| match pool.get(tx.tx_hash()) {
                Some(pooled) => Ok(pooled.sender()),
                None => qrs_primitives::recover_sender(tx),
            })
            .collect()
    }
}
