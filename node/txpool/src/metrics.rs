//! Pool counters for the node's metrics endpoint (named after geth's `txpool/*` meters).

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters since the pool was created, plus the current gauges.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolMetrics {
    /// `txpool/pending` gauge.
    pub pending: usize,
    /// `txpool/queued` gauge.
    pub queued: usize,
    /// `txpool/local` gauge: transactions of local senders (see [`crate::Pool::is_local`]).
    pub local: usize,
    /// `txpool/valid`: admitted transactions (including replacements).
    pub valid: u64,
    /// `txpool/invalid`: refused by a validation rule.
    pub invalid: u64,
    /// `txpool/known`: refused as `already known`.
    pub known: u64,
    /// `txpool/underpriced`: replacements refused as underpriced.
    pub replace_underpriced: u64,
    /// `txpool/overflowed`: refused as `txpool is full`.
    pub overflowed: u64,
    /// `txpool/{pending,queued}/replace`: replaced by a higher-priced transaction.
    pub replaced: u64,
    /// Evicted to make room for a higher-ranked transaction, or over the per-account queue.
    pub evicted: u64,
    /// `txpool/{pending,queued}/nofunds`: dropped at a new head because the sender can no longer
    /// pay, or because the transaction exceeds the new block gas limit.
    pub nofunds: u64,
    /// `txpool/queued/eviction`: queued transactions dropped after `queued_lifetime`.
    pub expired: u64,
}

/// Counters bumped outside the pool lock.
#[derive(Debug, Default)]
pub(crate) struct AdmissionCounters {
    pub valid: AtomicU64,
    pub invalid: AtomicU64,
    pub known: AtomicU64,
    pub replace_underpriced: AtomicU64,
    pub overflowed: AtomicU64,
}

impl AdmissionCounters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn load(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// Counters bumped under the pool lock.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct StoreCounters {
    pub replaced: u64,
    pub evicted: u64,
    pub nofunds: u64,
    pub expired: u64,
}
