//! Transaction gossip: local transactions go out in batches; peers' batches go into the pool.

use std::{borrow::Cow, time::Duration};

use alloy_eips::eip2718::Encodable2718;
use bytes::Bytes;
use qrs_chain::{Chain, HeadAccounts};
use qrs_network::{
    NetworkEvent, NetworkHandle, PeerId, PenaltyReason, Topic, decode_tx_batch, encode_tx_batch,
};
use qrs_txpool::{PoolError, TxOrigin};
use tokio::{
    sync::{broadcast::error::RecvError, mpsc, watch},
    time::Instant,
};

use crate::SyncConfig;

/// Transactions waiting to be sent.
#[derive(Default)]
struct Batch {
    txs: Vec<Bytes>,
    bytes: usize,
}

impl Batch {
    fn push(&mut self, raw: Bytes) {
        self.bytes = self.bytes.saturating_add(raw.len());
        self.txs.push(raw);
    }

    fn is_full(&self, config: &SyncConfig) -> bool {
        self.txs.len() >= config.tx_batch_max || self.bytes >= config.tx_batch_max_bytes
    }

    fn take(&mut self) -> Vec<Bytes> {
        self.bytes = 0;
        std::mem::take(&mut self.txs)
    }
}

/// Sends local transactions (submitted over this node's RPC) to every peer, batched: one
/// `Transactions` message per `tx_flush_interval`, or sooner when a batch is full. A new peer
/// gets every local transaction still in the pool.
pub(crate) async fn send_local_txs(
    chain: Chain,
    network: NetworkHandle,
    config: SyncConfig,
    mut new_peers: mpsc::UnboundedReceiver<PeerId>,
    mut shutdown: watch::Receiver<bool>,
) {
    let pool = chain.pool().clone();
    let mut pending = pool.subscribe();
    let mut batch = Batch::default();
    let mut deadline: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            received = pending.recv() => match received {
                Ok(hash) => {
                    let Some(tx) = pool.get(&hash) else { continue };
                    // gossiped transactions are not relayed: the network is a full mesh
                    if !tx.local {
                        continue;
                    }
                    batch.push(Bytes::from(tx.envelope().encoded_2718()));
                    if batch.is_full(&config) {
                        broadcast(&network, batch.take());
                        deadline = None;
                    } else if deadline.is_none() {
                        deadline = Some(Instant::now() + config.tx_flush_interval);
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(target: "sync::txs", missed, "fell behind the pool; resending local transactions");
                    broadcast(&network, batch.take());
                    deadline = None;
                    for txs in local_batches(&chain, &config) {
                        broadcast(&network, txs);
                    }
                }
                Err(RecvError::Closed) => return,
            },
            _ = sleep_until(deadline), if deadline.is_some() => {
                broadcast(&network, batch.take());
                deadline = None;
            }
            Some(peer) = new_peers.recv() => {
                for txs in local_batches(&chain, &config) {
                    let count = txs.len();
                    if let Err(e) = network.send_wait(peer, Topic::Transactions, encode_tx_batch(&txs)).await {
                        tracing::debug!(target: "sync::txs", %peer, %e, count, "could not send pool to new peer");
                        break;
                    }
                }
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

fn broadcast(network: &NetworkHandle, txs: Vec<Bytes>) {
    if txs.is_empty() {
        return;
    }
    let count = txs.len();
    match network.broadcast(Topic::Transactions, encode_tx_batch(&txs)) {
        Ok(peers) => {
            tracing::trace!(target: "sync::txs", count, peers, "broadcast transaction batch")
        }
        Err(e) => {
            tracing::warn!(target: "sync::txs", %e, count, "could not broadcast transactions")
        }
    }
}

/// Every local transaction in the pool (pending and queued, nonce order), in batches.
fn local_batches(chain: &Chain, config: &SyncConfig) -> Vec<Vec<Bytes>> {
    let (pending, queued) = chain.pool().pending_and_queued();
    let mut out = Vec::new();
    let mut batch = Batch::default();
    for by_nonce in pending.values().chain(queued.values()) {
        for tx in by_nonce.values().filter(|t| t.local) {
            batch.push(Bytes::from(tx.envelope().encoded_2718()));
            if batch.is_full(config) {
                out.push(batch.take());
            }
        }
    }
    if !batch.txs.is_empty() {
        out.push(batch.take());
    }
    out
}

/// Admits peers' transaction batches into the pool (as network transactions). Undecodable bytes
/// earn the sender a strike; "already known" / "nonce too low" are normal and ignored.
pub(crate) async fn receive_txs(
    chain: Chain,
    network: NetworkHandle,
    mut events: mpsc::Receiver<NetworkEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            _ = shutdown.changed() => return,
            event = events.recv() => event,
        };
        let Some(event) = event else { return };
        let NetworkEvent::Message { from, topic: Topic::Transactions, bytes } = event else {
            continue;
        };
        let c = chain.clone();
        match tokio::task::spawn_blocking(move || admit_batch(&c, bytes)).await {
            Ok(Ok(())) => {}
            Ok(Err(reason)) => {
                tracing::warn!(target: "sync::txs", peer = %from, %reason, "bad transaction batch");
                network.penalise(from, PenaltyReason::Application(Cow::Owned(reason)));
            }
            Err(e) => tracing::error!(target: "sync::txs", %e, "transaction batch task failed"),
        }
    }
}

/// Decodes, recovers and pools one batch. `Err` when some bytes are not a transaction.
fn admit_batch(chain: &Chain, payload: Bytes) -> Result<(), String> {
    let txs = decode_tx_batch(payload).map_err(|e| format!("malformed transaction batch: {e}"))?;
    let rules = chain.tx_rules();
    // Reopened when a block lands while the batch is admitted (recovery takes a while).
    let accounts = match HeadAccounts::open(chain) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(target: "sync::txs", %e, "cannot read the chain");
            return Ok(());
        }
    };
    let mut undecodable = None;
    let pool = chain.pool();
    for raw in txs {
        // a transaction we already hold costs a hash, not a signature recovery
        if pool.contains(&alloy_primitives::keccak256(&raw)) {
            continue;
        }
        let tx = match qrs_primitives::recover_transaction(&raw) {
            Ok(tx) => tx,
            Err(e) => {
                undecodable = Some(format!("undecodable transaction: {e}"));
                continue;
            }
        };
        // GoQuorum's pool checks a privacy marker's inner transaction whatever its origin.
        if let Err(e) = chain.check_marker(&tx) {
            tracing::debug!(target: "sync::txs", hash = %tx.inner().tx_hash(), %e, "peer transaction refused");
            continue;
        }
        match pool.add_with_origin(tx, TxOrigin::Network, &rules, &accounts) {
            Ok(_) | Err(PoolError::AlreadyKnown { .. } | PoolError::NonceTooLow { .. }) => {}
            Err(e) => tracing::debug!(target: "sync::txs", %e, "peer transaction refused"),
        }
    }
    undecodable.map_or(Ok(()), Err)
}

/// Default flush interval of the transaction batcher.
pub(crate) const DEFAULT_FLUSH: Duration = Duration::from_millis(25);
