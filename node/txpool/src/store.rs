//! [`Store`]: the pool's data (all transactions by hash, per-sender nonce maps, counters) and the
//! mutations that keep it consistent. Callers hold the pool's write lock.

use std::{
    cmp::Reverse,
    sync::Arc,
    time::{Duration, Instant},
};

use alloy_consensus::{Transaction, TxEnvelope, transaction::Recovered};
use alloy_primitives::{
    Address, B256, U256,
    map::{AddressMap, B256Map},
};
use tracing::debug;

use crate::{
    PoolConfig, PoolError, PooledTx,
    metrics::StoreCounters,
    sender::SenderTxs,
    validate::{Admitted, bumps_price},
};

/// Eviction rank: (local, is pending, priority, fewer transactions of the sender ranks higher).
/// Lower ranks are evicted first, so gossip never pushes out a transaction submitted over RPC.
type Rank = (bool, bool, u128, Reverse<usize>);

/// The pool's data.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub all: B256Map<Arc<PooledTx>>,
    pub senders: AddressMap<SenderTxs>,
    pub pending_count: usize,
    pub counters: StoreCounters,
    next_seq: u64,
}

impl Store {
    pub fn queued_count(&self) -> usize {
        self.all.len().saturating_sub(self.pending_count)
    }

    /// Inserts a validated transaction (or replaces the one with the same sender and nonce).
    /// Hashes that became pending are appended to `promoted`.
    pub fn insert(
        &mut self,
        tx: Recovered<TxEnvelope>,
        hash: B256,
        admitted: Admitted,
        state_nonce: u64,
        cfg: &PoolConfig,
        promoted: &mut Vec<B256>,
    ) -> Result<B256, PoolError> {
        if self.all.contains_key(&hash) {
            return Err(PoolError::AlreadyKnown { hash });
        }
        let sender = tx.signer();
        let nonce = tx.inner().nonce();
        // The head may have moved before `on_new_block` ran: catch this sender up now.
        self.advance(sender, state_nonce);
        self.promote(sender, cfg, promoted);
        let known_nonce = self.senders.get(&sender).map_or(state_nonce, |s| s.nonce);
        if nonce < known_nonce {
            return Err(PoolError::NonceTooLow { tx_nonce: nonce, state_nonce: known_nonce });
        }
        let pooled = Arc::new(PooledTx {
            tx,
            hash,
            size: admitted.size,
            added_at: std::time::Instant::now(),
            seq: self.next_seq,
            cost: admitted.cost,
            priority: admitted.priority,
            private: admitted.private,
            local: admitted.local,
        });
        self.next_seq = self.next_seq.wrapping_add(1);

        if let Some(old) = self.senders.get(&sender).and_then(|s| s.txs.get(&nonce)).cloned() {
            return self.replace(old, pooled, cfg, promoted);
        }

        let (pending_len, pending_end, queued_len, count, local_sender) =
            self.senders.get(&sender).map_or((0, known_nonce, 0, 0, false), |s| {
                (s.pending_len, s.pending_end(), s.queued_len(), s.txs.len(), s.local)
            });
        let pend = nonce == pending_end
            && (self.pending_count < cfg.global_slots || pending_len < cfg.account_slots);
        // geth exempts local accounts from the per-account queue cap: a client sending many
        // transactions in parallel may have them arrive far out of nonce order
        let local = pooled.local || local_sender;
        if !pend && !local && queued_len >= cfg.account_queue {
            // Keep the nearer nonce: drop the sender's furthest queued transaction, or refuse.
            match self.senders.get(&sender).and_then(SenderTxs::tail) {
                Some((&tail, _)) if tail > nonce && queued_len > 0 => {
                    self.remove_tx(sender, tail);
                    self.counters.evicted = self.counters.evicted.saturating_add(1);
                    debug!(target: "txpool", %sender, nonce = tail, "dropped queued tx over account queue limit");
                }
                _ => return Err(PoolError::PoolFull),
            }
        }
        let rank: Rank = (pooled.local, pend, pooled.priority, Reverse(count.saturating_add(1)));
        self.make_room((sender, nonce), rank, cfg)?;

        let entry = self.senders.entry(sender).or_insert_with(|| SenderTxs::new(known_nonce));
        entry.local |= pooled.local;
        entry.txs.insert(nonce, pooled.clone());
        self.all.insert(hash, pooled);
        if pend {
            entry.pending_len = entry.pending_len.saturating_add(1);
            self.pending_count = self.pending_count.saturating_add(1);
            promoted.push(hash);
            self.promote(sender, cfg, promoted);
        }
        debug!(target: "txpool", %hash, %sender, nonce, pending = pend, "added tx");
        Ok(hash)
    }

    /// Replaces `old` (same sender and nonce) by `new` if the price bump is met.
    fn replace(
        &mut self,
        old: Arc<PooledTx>,
        new: Arc<PooledTx>,
        cfg: &PoolConfig,
        promoted: &mut Vec<B256>,
    ) -> Result<B256, PoolError> {
        if !bumps_price(old.envelope(), new.envelope(), cfg.price_bump_percent) {
            return Err(PoolError::ReplacementUnderpriced { existing: old.hash });
        }
        let (sender, nonce, hash) = (new.sender(), new.nonce(), new.hash);
        let Some(entry) = self.senders.get_mut(&sender) else {
            return Err(PoolError::ReplacementUnderpriced { existing: old.hash });
        };
        entry.txs.insert(nonce, new.clone());
        if entry.is_pending(nonce) {
            promoted.push(hash);
        }
        self.all.remove(&old.hash);
        self.all.insert(hash, new);
        self.counters.replaced = self.counters.replaced.saturating_add(1);
        debug!(target: "txpool", %hash, old = %old.hash, %sender, nonce, "replaced tx");
        Ok(hash)
    }

    /// Evicts lower-ranked tail transactions until a new transaction fits, or fails with
    /// `txpool is full`. Only tails are evicted, so no sender gets a nonce gap; a pending tail is
    /// only taken from a sender above its guaranteed `account_slots`, and never one of the new
    /// transaction's own sender below its nonce (that would open a gap in front of it).
    fn make_room(
        &mut self,
        (sender, new_nonce): (Address, u64),
        new_rank: Rank,
        cfg: &PoolConfig,
    ) -> Result<(), PoolError> {
        let pend = new_rank.1;
        loop {
            let total_full = self.all.len() >= cfg.capacity();
            let queue_full = !pend && self.queued_count() >= cfg.global_queue;
            if !total_full && !queue_full {
                return Ok(());
            }
            let victim = self
                .senders
                .iter()
                .filter_map(|(addr, s)| {
                    let (&nonce, tail) = s.tail()?;
                    if *addr == sender && nonce < new_nonce {
                        return None;
                    }
                    let queued = s.queued_len() > 0;
                    if !queued && (queue_full || s.pending_len <= cfg.account_slots) {
                        return None;
                    }
                    let rank: Rank = (tail.local, !queued, tail.priority, Reverse(s.txs.len()));
                    Some(((rank, Reverse(tail.seq)), *addr, nonce))
                })
                .min_by_key(|(key, _, _)| *key);
            match victim {
                Some(((rank, _), addr, nonce)) if rank < new_rank => {
                    if let Some(tx) = self.remove_tx(addr, nonce) {
                        self.counters.evicted = self.counters.evicted.saturating_add(1);
                        debug!(target: "txpool", hash = %tx.hash, sender = %addr, nonce, "evicted tx for room");
                    }
                }
                _ => return Err(PoolError::PoolFull),
            }
        }
    }

    /// Moves the sender's next contiguous queued transactions to pending while there is room
    /// (or the sender is below its guaranteed `account_slots`).
    pub fn promote(&mut self, sender: Address, cfg: &PoolConfig, promoted: &mut Vec<B256>) {
        let Some(entry) = self.senders.get_mut(&sender) else { return };
        while self.pending_count < cfg.global_slots || entry.pending_len < cfg.account_slots {
            let Some(tx) = entry.txs.get(&entry.pending_end()) else { break };
            promoted.push(tx.hash);
            entry.pending_len = entry.pending_len.saturating_add(1);
            self.pending_count = self.pending_count.saturating_add(1);
        }
    }

    /// Removes one transaction; later pending transactions of the sender become queued (gap).
    pub fn remove_tx(&mut self, sender: Address, nonce: u64) -> Option<Arc<PooledTx>> {
        let entry = self.senders.get_mut(&sender)?;
        let was_pending = entry.is_pending(nonce);
        let tx = entry.txs.remove(&nonce)?;
        if was_pending {
            let new_len = usize::try_from(nonce.saturating_sub(entry.nonce)).unwrap_or(0);
            self.pending_count =
                self.pending_count.saturating_sub(entry.pending_len.saturating_sub(new_len));
            entry.pending_len = new_len;
        }
        if entry.txs.is_empty() {
            self.senders.remove(&sender);
        }
        self.all.remove(&tx.hash);
        Some(tx)
    }

    /// The sender's account nonce moved to `new_nonce`: drop everything below it.
    pub fn advance(&mut self, sender: Address, new_nonce: u64) {
        let Some(entry) = self.senders.get_mut(&sender) else { return };
        if new_nonce <= entry.nonce {
            return;
        }
        let kept = entry.txs.split_off(&new_nonce);
        let stale = std::mem::replace(&mut entry.txs, kept);
        let new_len = usize::try_from(entry.pending_end().saturating_sub(new_nonce)).unwrap_or(0);
        self.pending_count =
            self.pending_count.saturating_sub(entry.pending_len.saturating_sub(new_len));
        entry.pending_len = new_len;
        entry.nonce = new_nonce;
        if entry.txs.is_empty() {
            self.senders.remove(&sender);
        }
        for tx in stale.values() {
            self.all.remove(&tx.hash);
        }
    }

    /// Applies a new head's account state to one sender: drops stale transactions and those
    /// the sender can no longer afford or that exceed the block gas limit (later ones are
    /// demoted to queued), then trims the queue to `account_queue` (geth's
    /// `demoteUnexecutables` + `promoteExecutables` filters).
    pub fn reconcile(
        &mut self,
        (sender, nonce, balance): (Address, u64, U256),
        block_gas_limit: u64,
        cfg: &PoolConfig,
    ) {
        self.advance(sender, nonce);
        let Some(entry) = self.senders.get(&sender) else { return };
        let unaffordable: Vec<u64> = entry
            .txs
            .iter()
            .filter(|(_, tx)| tx.cost > balance || tx.envelope().gas_limit() > block_gas_limit)
            .map(|(n, _)| *n)
            .collect();
        for n in unaffordable {
            if let Some(tx) = self.remove_tx(sender, n) {
                self.counters.nofunds = self.counters.nofunds.saturating_add(1);
                debug!(target: "txpool", hash = %tx.hash, %sender, nonce = n, "dropped unaffordable or over-gas-limit tx");
            }
        }
        self.trim_queue(sender, cfg);
    }

    /// Drops the sender's furthest queued transactions above `account_queue` (after a removal
    /// demoted pending ones); a local sender's queue is not capped.
    pub fn trim_queue(&mut self, sender: Address, cfg: &PoolConfig) {
        while let Some(entry) = self.senders.get(&sender) {
            if entry.local || entry.queued_len() <= cfg.account_queue {
                break;
            }
            let Some((&tail, _)) = entry.tail() else { break };
            if let Some(tx) = self.remove_tx(sender, tail) {
                self.counters.evicted = self.counters.evicted.saturating_add(1);
                debug!(target: "txpool", hash = %tx.hash, %sender, nonce = tail, "dropped queued tx over account queue limit");
            }
        }
    }

    /// Drops queued transactions that have waited longer than `lifetime` (geth's `Lifetime`
    /// eviction); the furthest first, so no new gap appears in front of a kept one.
    pub fn expire_queued(&mut self, now: Instant, lifetime: Duration) -> usize {
        let expired: Vec<(Address, u64)> = self
            .senders
            .iter()
            // geth never expires a local account's transactions
            .filter(|(_, s)| !s.local)
            .flat_map(|(addr, s)| {
                s.queued()
                    .filter(|(_, tx)| now.saturating_duration_since(tx.added_at) > lifetime)
                    .map(|(n, _)| (*addr, *n))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut dropped: usize = 0;
        for (sender, nonce) in expired.into_iter().rev() {
            if let Some(tx) = self.remove_tx(sender, nonce) {
                dropped = dropped.saturating_add(1);
                debug!(target: "txpool", hash = %tx.hash, %sender, nonce, "expired queued tx");
            }
        }
        self.counters.expired = self.counters.expired.saturating_add(dropped as u64);
        dropped
    }
}
