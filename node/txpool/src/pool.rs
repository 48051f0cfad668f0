//! [`Pool`]: the thread-safe transaction pool the node shares via `Arc`.

use std::{
    collections::BTreeMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, U256};
use parking_lot::RwLock;
use tokio::sync::{Notify, broadcast};
use tracing::trace;

use crate::{
    PoolConfig, PoolError, PoolMetrics, PooledTx, TxRules, best::by_price_and_nonce,
    metrics::AdmissionCounters, store::Store, validate,
};

/// Per-sender transactions keyed by nonce, as returned by [`Pool::pending_and_queued`].
pub type TxsBySender = BTreeMap<Address, BTreeMap<u64, Arc<PooledTx>>>;

/// Read access to the head state, implemented by the node.
///
/// The pool never calls it while holding its lock. Before an admission reads an account, the
/// pool calls [`AccountState::refresh`] with its head generation: from then on the reads must
/// show at least the head that generation was bumped for (a snapshot opened earlier would give
/// a nonce from before the block that mined the sender's previous transaction, and the new one
/// would wait in the queued set for a gap that does not exist).
pub trait AccountState {
    /// The account nonce.
    fn nonce(&self, address: Address) -> u64;
    /// The account balance.
    fn balance(&self, address: Address) -> U256;
    /// The pool is at head generation `generation` (see [`Pool::head_generation`]): a state
    /// that reads a cached snapshot reopens it if the snapshot is from an older generation.
    /// The default does nothing (a state that always reads the newest head).
    fn refresh(&self, _generation: u64) {}
}

/// How often [`Pool::add`] re-reads the account when a new head lands during admission.
const MAX_ADMISSION_RETRIES: usize = 4;

/// The transaction pool. Cheap to share (`Arc<Pool>`); all methods take `&self`.
#[derive(Debug)]
pub struct Pool {
    cfg: PoolConfig,
    store: RwLock<Store>,
    /// Bumped at the start of every [`Pool::on_new_block`]; admissions that read the account
    /// state before a bump re-read it.
    head_generation: AtomicU64,
    new_pending: broadcast::Sender<B256>,
    ready: Arc<Notify>,
    counters: AdmissionCounters,
}

/// Where a transaction came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxOrigin {
    /// `eth_sendRawTransaction` / `eth_sendTransaction` and friends.
    Rpc,
    /// Gossiped by a peer.
    Network,
}

impl Pool {
    /// An empty pool.
    pub fn new(cfg: PoolConfig) -> Self {
        let (new_pending, _) = broadcast::channel(cfg.broadcast_capacity.max(1));
        Self {
            cfg,
            store: RwLock::new(Store::default()),
            head_generation: AtomicU64::new(0),
            new_pending,
            ready: Arc::new(Notify::new()),
            counters: AdmissionCounters::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &PoolConfig {
        &self.cfg
    }

    /// Validates `tx` (received over RPC) against `rules` and the sender's account, then inserts
    /// it (pending when its nonce is next in line, queued otherwise) or replaces the sender's
    /// transaction with the same nonce. Returns the transaction hash.
    pub fn add(
        &self,
        tx: Recovered<TxEnvelope>,
        rules: &TxRules,
        state: &dyn AccountState,
    ) -> Result<B256, PoolError> {
        self.add_with_origin(tx, TxOrigin::Rpc, rules, state)
    }

    /// [`Pool::add`] for a transaction of the given origin: a transaction gossiped by a peer
    /// ([`TxOrigin::Network`]) skips the RPC-only EIP-155 check, as in geth.
    pub fn add_with_origin(
        &self,
        tx: Recovered<TxEnvelope>,
        origin: TxOrigin,
        rules: &TxRules,
        state: &dyn AccountState,
    ) -> Result<B256, PoolError> {
        let result = self.admit(tx, origin, rules, state);
        let counter = match &result {
            Ok(_) => &self.counters.valid,
            Err(PoolError::AlreadyKnown { .. }) => &self.counters.known,
            Err(PoolError::ReplacementUnderpriced { .. }) => &self.counters.replace_underpriced,
            Err(PoolError::PoolFull) => &self.counters.overflowed,
            Err(_) => &self.counters.invalid,
        };
        AdmissionCounters::bump(counter);
        if let Err(err) = &result {
            trace!(target: "txpool", %err, "refused tx");
        }
        result
    }

    /// Runs the admission checks of `tx` (as from RPC) against `state` without adding it:
    /// GoQuorum's `validateTx` of a privacy marker transaction's inner transaction.
    pub fn check(
        &self,
        tx: &Recovered<TxEnvelope>,
        rules: &TxRules,
        state: &dyn AccountState,
    ) -> Result<(), PoolError> {
        let size = tx.inner().encode_2718_len();
        let admitted = validate::check_stateless(tx.inner(), size, rules, &self.cfg, true)?;
        let sender = tx.signer();
        validate::check_account(tx.inner(), &admitted, state.nonce(sender), state.balance(sender))
    }

    fn admit(
        &self,
        tx: Recovered<TxEnvelope>,
        origin: TxOrigin,
        rules: &TxRules,
        state: &dyn AccountState,
    ) -> Result<B256, PoolError> {
        let hash = *tx.inner().tx_hash();
        if self.contains(&hash) {
            return Err(PoolError::AlreadyKnown { hash });
        }
        let size = tx.inner().encode_2718_len();
        let admitted =
            validate::check_stateless(tx.inner(), size, rules, &self.cfg, origin == TxOrigin::Rpc)?;
        let sender = tx.signer();
        let mut promoted = Vec::new();
        let mut attempt: usize = 0;
        let result = loop {
            attempt = attempt.saturating_add(1);
            let generation = self.head_generation.load(Ordering::SeqCst);
            state.refresh(generation);
            let nonce = state.nonce(sender);
            let balance = state.balance(sender);
            validate::check_account(tx.inner(), &admitted, nonce, balance)?;
            let mut store = self.store.write();
            if generation != self.head_generation.load(Ordering::SeqCst)
                && attempt < MAX_ADMISSION_RETRIES
            {
                continue;
            }
            break store.insert(tx, hash, admitted, nonce, &self.cfg, &mut promoted);
        };
        self.announce(&promoted);
        result
    }

    /// The head generation: bumped when [`Pool::on_new_block`] starts, i.e. after the new head
    /// was committed and published.
    pub fn head_generation(&self) -> u64 {
        self.head_generation.load(Ordering::SeqCst)
    }

    /// Pending transactions in block order: each sender's in nonce order, senders interleaved by
    /// priority (effective tip; all 0 on a free-gas chain) then arrival.
    pub fn best_transactions(&self) -> Vec<Arc<PooledTx>> {
        let per_sender: Vec<Vec<Arc<PooledTx>>> = {
            let store = self.store.read();
            store
                .senders
                .values()
                .filter(|s| s.pending_len > 0)
                .map(|s| s.pending().map(|(_, tx)| tx.clone()).collect())
                .collect()
        };
        by_price_and_nonce(per_sender)
    }

    /// A new head was committed: removes `mined` transactions and everything the new account
    /// state makes stale (nonce below the account nonce) or unaffordable, and transactions over
    /// the new `rules.block_gas_limit`; demotes what lost its predecessor, and promotes what
    /// became executable. Call it after `state` shows the new head, with the rules at that head.
    pub fn on_new_block(&self, mined: &[B256], rules: &TxRules, state: &dyn AccountState) {
        self.head_generation.fetch_add(1, Ordering::SeqCst);
        let senders: Vec<Address> = self.store.read().senders.keys().copied().collect();
        let accounts: Vec<(Address, u64, U256)> =
            senders.into_iter().map(|a| (a, state.nonce(a), state.balance(a))).collect();
        let mut promoted = Vec::new();
        {
            let mut store = self.store.write();
            // A mined transaction moved its sender's nonce past it: advance, never demote.
            for hash in mined {
                if let Some((sender, nonce)) =
                    store.all.get(hash).map(|tx| (tx.sender(), tx.nonce()))
                {
                    store.advance(sender, nonce.saturating_add(1));
                }
            }
            for account in accounts {
                store.reconcile(account, rules.block_gas_limit, &self.cfg);
            }
            let mut promotable: Vec<(usize, Address)> = store
                .senders
                .iter()
                .filter(|(_, s)| s.promotable())
                .map(|(a, s)| (s.pending_len, *a))
                .collect();
            promotable.sort_unstable();
            for (_, address) in promotable {
                store.promote(address, &self.cfg, &mut promoted);
            }
            trace!(target: "txpool", pending = store.pending_count, queued = store.queued_count(), "new head applied");
        }
        self.announce(&promoted);
    }

    /// The transaction with this hash, pending or queued.
    pub fn get(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        self.store.read().all.get(hash).cloned()
    }

    /// Whether the pool holds this hash.
    pub fn contains(&self, hash: &B256) -> bool {
        self.store.read().all.contains_key(hash)
    }

    /// Whether `sender` is a local account: one of its pooled transactions came over this
    /// node's RPC (it stays local while it has transactions in the pool).
    pub fn is_local(&self, sender: &Address) -> bool {
        self.store.read().senders.get(sender).is_some_and(|s| s.local)
    }

    /// The nonce for `eth_getTransactionCount(address, "pending")`: the first nonce from
    /// `state_nonce` on that the pool holds no transaction for, counting pending and queued
    /// transactions that continue the run without a gap.
    pub fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64 {
        let store = self.store.read();
        match store.senders.get(&address) {
            Some(sender) => sender.next_free_nonce(state_nonce.max(sender.nonce)),
            None => state_nonce,
        }
    }

    /// Copies of the pending and queued sets (for `txpool_content`, `txpool_inspect`).
    pub fn pending_and_queued(&self) -> (TxsBySender, TxsBySender) {
        let store = self.store.read();
        let mut pending = TxsBySender::new();
        let mut queued = TxsBySender::new();
        for (address, sender) in &store.senders {
            let p: BTreeMap<u64, Arc<PooledTx>> =
                sender.pending().map(|(n, tx)| (*n, tx.clone())).collect();
            let q: BTreeMap<u64, Arc<PooledTx>> =
                sender.queued().map(|(n, tx)| (*n, tx.clone())).collect();
            if !p.is_empty() {
                pending.insert(*address, p);
            }
            if !q.is_empty() {
                queued.insert(*address, q);
            }
        }
        (pending, queued)
    }

    /// `(pending, queued)` counts (`txpool_status`).
    pub fn status(&self) -> (usize, usize) {
        let store = self.store.read();
        (store.pending_count, store.queued_count())
    }

    /// Hashes of transactions as they become pending (`newPendingTransactions`). A slow receiver
    /// gets `RecvError::Lagged`, it never slows the pool.
    pub fn subscribe(&self) -> broadcast::Receiver<B256> {
        self.new_pending.subscribe()
    }

    /// Notified (`notify_one`, so a permit is stored when nobody waits) whenever a transaction
    /// becomes pending.
    pub fn ready_notify(&self) -> Arc<Notify> {
        self.ready.clone()
    }

    /// Removes a transaction; the sender's later pending transactions become queued (the
    /// furthest are dropped if that exceeds `account_queue`).
    pub fn remove(&self, hash: &B256) -> Option<Arc<PooledTx>> {
        let mut store = self.store.write();
        let (sender, nonce) = store.all.get(hash).map(|tx| (tx.sender(), tx.nonce()))?;
        let removed = store.remove_tx(sender, nonce);
        store.trim_queue(sender, &self.cfg);
        removed
    }

    /// Drops queued transactions older than [`PoolConfig::queued_lifetime`]; call it
    /// periodically (geth: every minute). Returns how many were dropped.
    pub fn expire_queued(&self) -> usize {
        self.store.write().expire_queued(Instant::now(), self.cfg.queued_lifetime)
    }

    /// Gauges and counters for the metrics endpoint.
    pub fn metrics(&self) -> PoolMetrics {
        let c = &self.counters;
        let store = self.store.read();
        PoolMetrics {
            pending: store.pending_count,
            queued: store.queued_count(),
            local: store.senders.values().filter(|s| s.local).map(|s| s.txs.len()).sum(),
            valid: AdmissionCounters::load(&c.valid),
            invalid: AdmissionCounters::load(&c.invalid),
            known: AdmissionCounters::load(&c.known),
            replace_underpriced: AdmissionCounters::load(&c.replace_underpriced),
            overflowed: AdmissionCounters::load(&c.overflowed),
            replaced: store.counters.replaced,
            evicted: store.counters.evicted,
            nofunds: store.counters.nofunds,
            expired: store.counters.expired,
        }
    }

    fn announce(&self, promoted: &[B256]) {
        if promoted.is_empty() {
            return;
        }
        for hash in promoted {
            // An error only means nobody is subscribed.
            let _ = self.new_pending.send(*hash);
        }
        self.ready.notify_one();
    }
}
