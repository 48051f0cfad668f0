//! Block ordering (geth's `TransactionsByPriceAndNonce`): each sender's pending transactions in
//! nonce order, senders interleaved by priority, ties broken by arrival.

use std::{cmp::Reverse, collections::BinaryHeap, sync::Arc};

use crate::PooledTx;

/// Merges per-sender nonce-ordered lists into one block order.
pub(crate) fn by_price_and_nonce(per_sender: Vec<Vec<Arc<PooledTx>>>) -> Vec<Arc<PooledTx>> {
    let total = per_sender.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    // Max-heap on (priority, earliest arrival) of each sender's next transaction.
    let mut heads: BinaryHeap<(u128, Reverse<u64>, usize, usize)> = per_sender
        .iter()
        .enumerate()
        .filter_map(|(i, txs)| txs.first().map(|tx| (tx.priority, Reverse(tx.seq), i, 0)))
        .collect();
    while let Some((_, _, sender, pos)) = heads.pop() {
        let Some(txs) = per_sender.get(sender) else { continue };
        if let Some(tx) = txs.get(pos) {
            out.push(tx.clone());
        }
        let next = pos.saturating_add(1);
        if let Some(tx) = txs.get(next) {
            heads.push((tx.priority, Reverse(tx.seq), sender, next));
        }
    }
    out
}
