//! What the submitters, the inclusion tracker and the progress line share during a run.

use std::{
    collections::HashMap,
    sync::{
        Mutex, MutexGuard,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Instant,
};

use alloy_primitives::B256;

/// One block seen by the tracker.
#[derive(Debug, Clone, Copy)]
pub struct SeenBlock {
    /// Its number.
    pub number: u64,
    /// When its header arrived.
    pub at: Instant,
    /// How many transactions it holds.
    pub txs: usize,
}

/// Shared run state (counters are atomics; the maps sit behind mutexes).
#[derive(Debug)]
pub struct RunState {
    /// When the clock started.
    pub started: Instant,
    /// Transactions sent (accepted or rejected).
    pub sent: AtomicUsize,
    /// Sent and rejected (a JSON-RPC error, or the batch failed).
    pub rejected: AtomicUsize,
    /// Transactions in blocks seen since the start (any sender).
    pub included: AtomicUsize,
    /// Set when the submitters must stop.
    pub stop: AtomicBool,
    accepted: Mutex<HashMap<B256, Instant>>,
    included_at: Mutex<HashMap<B256, Instant>>,
    sent_at: Mutex<Vec<Instant>>,
    blocks: Mutex<Vec<SeenBlock>>,
    first_error: Mutex<Option<String>>,
}

/// A mutex's data even if a thread panicked while holding it (counters stay meaningful).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RunState {
    /// A fresh state; the clock starts now.
    pub fn new() -> Self {
        Self {
            started: Instant::now(),
            sent: AtomicUsize::new(0),
            rejected: AtomicUsize::new(0),
            included: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            accepted: Mutex::new(HashMap::new()),
            included_at: Mutex::new(HashMap::new()),
            sent_at: Mutex::new(Vec::new()),
            blocks: Mutex::new(Vec::new()),
            first_error: Mutex::new(None),
        }
    }

    /// `n` transactions went out at `at`.
    pub fn sent(&self, n: usize, at: Instant) {
        lock(&self.sent_at).extend(std::iter::repeat_n(at, n));
        self.sent.fetch_add(n, Ordering::Relaxed);
    }

    /// A node accepted the transaction `hash` sent at `at`.
    pub fn accepted(&self, hash: B256, at: Instant) {
        lock(&self.accepted).insert(hash, at);
    }

    /// `n` transactions were rejected with `error`.
    pub fn rejected(&self, n: usize, error: &str) {
        self.rejected.fetch_add(n, Ordering::Relaxed);
        let mut first = lock(&self.first_error);
        if first.is_none() {
            *first = Some(error.to_owned());
        }
    }

    /// A block with `hashes` arrived at `at`.
    pub fn block(&self, number: u64, hashes: &[B256], at: Instant) {
        let mut inc = lock(&self.included_at);
        for h in hashes {
            inc.entry(*h).or_insert(at);
        }
        self.included.fetch_add(hashes.len(), Ordering::Relaxed);
        lock(&self.blocks).push(SeenBlock { number, at, txs: hashes.len() });
    }

    /// Accepted but not yet seen in a block (approximately: any transaction in a block counts).
    pub fn in_flight(&self) -> usize {
        let done = self.included.load(Ordering::Relaxed) + self.rejected.load(Ordering::Relaxed);
        self.sent.load(Ordering::Relaxed).saturating_sub(done)
    }

    /// Latencies (submission to inclusion) of the accepted transactions seen in blocks so far,
    /// with the inclusion time, in no particular order.
    pub fn latencies(&self) -> Vec<(Instant, std::time::Duration)> {
        let accepted = lock(&self.accepted);
        let inc = lock(&self.included_at);
        accepted
            .iter()
            .filter_map(|(h, sent)| inc.get(h).map(|at| (*at, at.saturating_duration_since(*sent))))
            .collect()
    }

    /// Number of accepted transactions.
    pub fn accepted_count(&self) -> usize {
        lock(&self.accepted).len()
    }

    /// When each transaction was sent.
    pub fn sent_times(&self) -> Vec<Instant> {
        lock(&self.sent_at).clone()
    }

    /// The blocks seen.
    pub fn blocks(&self) -> Vec<SeenBlock> {
        lock(&self.blocks).clone()
    }

    /// The first rejection message.
    pub fn first_error(&self) -> Option<String> {
        lock(&self.first_error).clone()
    }

    /// Whether the submitters should stop.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

impl Default for RunState {
    fn default() -> Self {
        Self::new()
    }
}
