//! Building a block from the pool on top of the head, and committing blocks.
//!
//! This is the block-production seam every consensus engine uses: the dev miner builds and
//! commits at once; QBFT builds a proposal, runs its rounds, then commits; Raft commits the
//! blocks its log agreed on.

use std::{collections::HashSet, sync::Arc, time::Instant};

use alloy_consensus::{EMPTY_OMMER_ROOT_HASH, Header, proofs::calculate_transaction_root};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_primitives::{Address, B64, B256, Bytes, U256};
use alloy_trie::EMPTY_ROOT_HASH;
use qrs_chainspec::Hardfork;
use qrs_evm::{BlockContext, BlockExecutor, EvmConfig, ExecError, StateDb, StateView};
use qrs_metrics::checkpoint;
use qrs_primitives::is_private;
use qrs_storage::{
    HotPolicy, HotSlot, HotTries, PrivateBlockWrite, ReadTx, StateUpdate, StoredBlock,
    StoredReceipt, compute_state_update_hot, public_loc,
};

use crate::{
    Chain, ChainError, ChainEvent, CommittedBlock, Head, LatestAccounts, load_head, metrics::METERS,
};

/// What the consensus engine decides about a new block.
#[derive(Debug, Clone, Default)]
pub struct BuildAttributes {
    /// Timestamp in seconds (must not be below the parent's).
    pub timestamp: u64,
    /// Coinbase.
    pub beneficiary: Address,
    /// extraData (QBFT/Raft put their consensus data here).
    pub extra_data: Bytes,
    /// mixHash.
    pub mix_hash: B256,
    /// Difficulty (1 for IBFT/QBFT, 0 after the merge).
    pub difficulty: U256,
    /// Header nonce.
    pub nonce: B64,
}

/// An executed block, ready to be committed.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The block.
    pub block: StoredBlock,
    /// Its receipts.
    pub receipts: Vec<StoredReceipt>,
    /// Its state writes.
    pub state: StateUpdate,
    /// Total difficulty including this block.
    pub total_difficulty: U256,
    /// This node's private state, receipts and bloom for the block (never sent to peers).
    pub private: PrivateBlockWrite,
    /// The new state's tries, kept decoded for the next block if this one is committed.
    pub hot: HotSlot,
}

impl BuiltBlock {
    /// Replaces the header's `extraData` (a QBFT proposal gets its committed seals after the
    /// decision) and recomputes the block hash. For istanbul headers the hash excludes the
    /// committed seals and round, so it does not change.
    pub fn set_extra_data(&mut self, extra_data: Bytes) {
        self.block.header.extra_data = extra_data;
        self.block.hash = Chain::block_hash(&self.block.header);
    }
}

impl Chain {
    /// Builds a block on the current head from the pool's best transactions.
    ///
    /// Transactions that turn out invalid against the state are dropped from the pool (and the
    /// sender's later transactions are left for a later block).
    pub fn build_block(&self, attrs: BuildAttributes) -> Result<BuiltBlock, ChainError> {
        let _guard = self.inner.writer.lock();
        let head = self.head();
        let spec = &self.inner.spec;
        let number = head.header.number.saturating_add(1);
        let timestamp = attrs.timestamp.max(head.header.timestamp);
        let cancun = spec.is_active(Hardfork::Cancun, number, timestamp);
        let ctx = BlockContext {
            number,
            timestamp,
            beneficiary: attrs.beneficiary,
            gas_limit: spec.miner_gas_limit_at(number).unwrap_or(head.header.gas_limit),
            base_fee: 0,
            difficulty: attrs.difficulty,
            mix_hash: attrs.mix_hash,
            excess_blob_gas: cancun.then_some(0),
        };
        let cfg = EvmConfig::at(spec, number, timestamp);
        // the candidates first, so their private payloads are fetched at once
        let candidates = self.inner.pool.best_transactions();
        let private = self.private_inputs(
            self.reader()?,
            &head.header.state_root,
            candidates.iter().map(|p| p.envelope()),
        )?;
        let mut executor =
            BlockExecutor::new(StateDb::new(self.reader()?, StateView::Latest), &cfg, &ctx)
                .with_private(private);
        let mut transactions = Vec::with_capacity(candidates.len());
        let mut senders = Vec::with_capacity(candidates.len());
        let mut skipped: HashSet<Address> = HashSet::new();
        let started = Instant::now();
        for pooled in candidates {
            let sender = pooled.sender();
            if skipped.contains(&sender) {
                continue;
            }
            if executor.gas_left() < 21_000 {
                break;
            }
            let tx_started = Instant::now();
            let executed = executor.execute(pooled.envelope(), sender);
            if is_private(pooled.envelope()) {
                METERS.private_execution.record_since(tx_started);
            }
            match executed {
                Ok(_) => {
                    if checkpoint::enabled() {
                        checkpoint::tx_completed(pooled.hash, tx_started.elapsed());
                    }
                    transactions.push(pooled.envelope().clone());
                    senders.push(sender);
                }
                Err(ExecError::BlockGasExhausted) => {
                    skipped.insert(sender);
                }
                Err(ExecError::Invalid(reason)) => {
                    tracing::debug!(target: "chain::build", hash = %pooled.hash, %reason, "dropping invalid transaction");
                    self.inner.pool.remove(&pooled.hash);
                    skipped.insert(sender);
                }
                Err(ExecError::Storage(e)) => return Err(e.into()),
            }
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
        METERS.validation.record_since(started);
        let header =
            self.next_header(&head, &ctx, &attrs, &transactions, &outcome, state.state_root);
        let hash = Chain::block_hash(&header);
        let total_difficulty = head.total_difficulty.saturating_add(header.difficulty);
        Ok(BuiltBlock {
            block: StoredBlock { header, hash, transactions, senders },
            receipts: outcome.receipts,
            state,
            total_difficulty,
            private,
            hot: HotSlot::new(hot),
        })
    }

    /// The public state update of block `number` on `parent_root`, starting from the tries the
    /// head's commit kept decoded (taken: a block built but never committed leaves none).
    pub(crate) fn state_update(
        &self,
        reader: &ReadTx,
        parent_root: B256,
        outcome: &qrs_evm::BlockOutcome,
        number: u64,
    ) -> Result<(StateUpdate, Option<HotTries>), ChainError> {
        let held = self.inner.hot.take();
        Ok(compute_state_update_hot(
            reader,
            parent_root,
            &outcome.changes,
            public_loc(number),
            held,
            HotPolicy::default(),
        )?)
    }

    /// The hash of a block header as GoQuorum computes it: for istanbul (IBFT/QBFT) headers
    /// (`mixHash == IstanbulDigest`) the hash of the header with the committed seals (and, for
    /// QBFT, the round) filtered out; otherwise `keccak256(rlp(header))`.
    pub fn block_hash(header: &Header) -> B256 {
        qrs_qbft::istanbul_block_hash(header)
    }

    /// The header of the next block, with the optional fields each active fork requires.
    pub(crate) fn next_header(
        &self,
        head: &Head,
        ctx: &BlockContext,
        attrs: &BuildAttributes,
        transactions: &[alloy_consensus::TxEnvelope],
        outcome: &qrs_evm::BlockOutcome,
        state_root: B256,
    ) -> Header {
        let spec = &self.inner.spec;
        let (n, t) = (ctx.number, ctx.timestamp);
        let london = spec.is_active(Hardfork::London, n, t);
        let shanghai = spec.is_active(Hardfork::Shanghai, n, t);
        let cancun = spec.is_active(Hardfork::Cancun, n, t);
        let prague = spec.is_active(Hardfork::Prague, n, t);
        Header {
            parent_hash: head.hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: ctx.beneficiary,
            state_root,
            transactions_root: calculate_transaction_root(transactions),
            receipts_root: outcome.receipts_root,
            logs_bloom: outcome.logs_bloom,
            difficulty: ctx.difficulty,
            number: n,
            gas_limit: ctx.gas_limit,
            gas_used: outcome.gas_used,
            timestamp: t,
            extra_data: attrs.extra_data.clone(),
            mix_hash: ctx.mix_hash,
            nonce: attrs.nonce,
            base_fee_per_gas: london.then_some(ctx.base_fee),
            withdrawals_root: shanghai.then_some(EMPTY_ROOT_HASH),
            blob_gas_used: cancun.then_some(0),
            excess_blob_gas: cancun.then_some(0),
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            requests_hash: prague.then_some(EMPTY_REQUESTS_HASH),
            ..Default::default()
        }
    }

    /// Writes a built (or imported and verified) block in one durable transaction, makes it the
    /// head, updates the pool and announces it.
    pub fn commit_block(&self, built: BuiltBlock) -> Result<(), ChainError> {
        let _guard = self.inner.writer.lock();
        self.commit_locked(built)
    }

    pub(crate) fn commit_locked(&self, built: BuiltBlock) -> Result<(), ChainError> {
        let head = self.head();
        if built.block.header.parent_hash != head.hash {
            return Err(ChainError::NotOnHead {
                number: built.block.header.number,
                parent: built.block.header.parent_hash,
                head: head.hash,
            });
        }
        let started = Instant::now();
        let writer = self.inner.env.write()?;
        writer.write_block(&built.block, &built.receipts, &built.state, built.total_difficulty)?;
        writer.write_private(&built.private)?;
        writer.commit()?;
        let hot = built.hot.take().filter(|h| h.state_root() == built.block.header.state_root);
        self.inner.hot.put(hot);
        METERS.write.record_since(started);
        let reader = self.reader()?;
        *self.inner.head.write() = load_head(&reader)?;
        let mined: Vec<B256> = built.block.transactions.iter().map(|tx| *tx.tx_hash()).collect();
        self.inner.pool.on_new_block(&mined, &self.tx_rules(), &LatestAccounts::new(&reader));
        tracing::info!(target: "chain", number = built.block.header.number, hash = %built.block.hash,
            txs = mined.len(), gas = built.block.header.gas_used, "committed block");
        let mut receipts = built.receipts;
        crate::private::merge_receipts(&built.block, &mut receipts, &built.private.receipts);
        let committed = CommittedBlock { block: built.block, receipts };
        let _ = self.inner.events.send(ChainEvent::NewBlock(Arc::new(committed)));
        Ok(())
    }
}
