//! The minter's speculative chain (GoQuorum `raft/speculative_chain.go`): blocks this leader
//! proposed that the Raft log has not applied yet, so it can build block n+1 before n commits.
//!
//! - [`SpeculativeChain::extend`] after proposing a block;
//! - [`SpeculativeChain::accept`] when a block is applied: the expected oldest one is dropped; a
//!   block minted by someone else clears the speculative state;
//! - [`SpeculativeChain::unwind_from`] when a proposed block turns out not to extend the chain
//!   ("Non-extending block"): it and every later speculative block are dropped, the descendants
//!   are remembered as expected-invalid so their own rejection is not treated as news.

use std::collections::{HashMap, HashSet, VecDeque};

use alloy_primitives::B256;

use crate::chain::{BlockRef, DecodedBlock};

/// Proposed-but-unapplied blocks, oldest first.
#[derive(Debug, Default)]
pub struct SpeculativeChain {
    head: BlockRef,
    unapplied: VecDeque<DecodedBlock>,
    expected_invalid: HashSet<B256>,
    proposed_txs: HashMap<B256, usize>,
}

impl SpeculativeChain {
    /// An empty speculative chain on `head`.
    pub fn new(head: BlockRef) -> Self {
        Self { head, ..Default::default() }
    }

    /// The block the next one is built on.
    pub fn head(&self) -> &BlockRef {
        &self.head
    }

    /// Transactions in unapplied speculative blocks.
    pub fn proposed(&self) -> HashSet<B256> {
        self.proposed_txs.keys().copied().collect()
    }

    /// Number of unapplied speculative blocks.
    pub fn len(&self) -> usize {
        self.unapplied.len()
    }

    /// Whether there is no unapplied speculative block.
    pub fn is_empty(&self) -> bool {
        self.unapplied.is_empty()
    }

    /// Forgets everything and restarts on `head`.
    pub fn clear(&mut self, head: BlockRef) {
        *self = Self::new(head);
    }

    /// Sets the parent without touching the rest (used while not minting).
    pub fn set_head(&mut self, head: BlockRef) {
        self.head = head;
    }

    /// Records a block this node just proposed.
    pub fn extend(&mut self, block: DecodedBlock) {
        self.head = block.block;
        for tx in &block.tx_hashes {
            let n = self.proposed_txs.entry(*tx).or_default();
            *n = n.saturating_add(1);
        }
        self.unapplied.push_back(block);
    }

    fn forget_txs(&mut self, block: &DecodedBlock) {
        for tx in &block.tx_hashes {
            if let Some(n) = self.proposed_txs.get_mut(tx) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.proposed_txs.remove(tx);
                }
            }
        }
    }

    /// A block was applied to the chain.
    pub fn accept(&mut self, applied: &DecodedBlock) {
        match self.unapplied.pop_front() {
            None => self.head = applied.block,
            Some(first) if first.block.hash == applied.block.hash => self.forget_txs(&first),
            Some(_) => {
                tracing::info!(target: "raft::minter", block = %applied.block.hash, "Another node minted; clearing speculative state");
                self.clear(applied.block);
            }
        }
    }

    /// A block reached the chain without this node applying its log entry (block sync): if it
    /// is the oldest speculative block, it is no longer in flight.
    pub fn applied_elsewhere(&mut self, hash: &B256) {
        if self.unapplied.front().is_some_and(|b| b.block.hash == *hash)
            && let Some(first) = self.unapplied.pop_front()
        {
            self.forget_txs(&first);
        }
    }

    /// `invalid` did not extend the chain head `chain_head`: drop it and its descendants.
    pub fn unwind_from(&mut self, invalid: &B256, chain_head: BlockRef) {
        if self.expected_invalid.remove(invalid) {
            return;
        }
        while let Some(block) = self.unapplied.pop_back() {
            self.head = self.unapplied.back().map_or(chain_head, |b| b.block);
            self.forget_txs(&block);
            if block.block.hash == *invalid {
                break;
            }
            self.expected_invalid.insert(block.block.hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(n: u64, parent: B256, txs: &[u8]) -> DecodedBlock {
        DecodedBlock {
            block: BlockRef {
                number: n,
                hash: B256::with_last_byte(n as u8 + 100),
                parent_hash: parent,
                timestamp: n,
            },
            tx_hashes: txs.iter().map(|t| B256::with_last_byte(*t)).collect(),
        }
    }

    #[test]
    fn extend_accept_unwind() {
        let genesis = BlockRef::default();
        let mut s = SpeculativeChain::new(genesis);
        let b1 = block(1, genesis.hash, &[1, 2]);
        let b2 = block(2, b1.block.hash, &[3]);
        let b3 = block(3, b2.block.hash, &[4]);
        s.extend(b1.clone());
        s.extend(b2.clone());
        s.extend(b3.clone());
        assert_eq!(s.head().hash, b3.block.hash);
        assert_eq!(s.proposed().len(), 4);
        s.accept(&b1);
        assert_eq!(s.len(), 2);
        assert!(!s.proposed().contains(&B256::with_last_byte(1)));
        // b2 is rejected: b2 and b3 go, b3 is expected to be rejected too.
        s.unwind_from(&b2.block.hash, b1.block);
        assert!(s.is_empty());
        assert_eq!(s.head().hash, b1.block.hash);
        assert!(s.proposed().is_empty());
        s.unwind_from(&b3.block.hash, b1.block);
        assert_eq!(s.head().hash, b1.block.hash);
    }

    #[test]
    fn foreign_block_clears() {
        let genesis = BlockRef::default();
        let mut s = SpeculativeChain::new(genesis);
        s.extend(block(1, genesis.hash, &[1]));
        let other = block(1, genesis.hash, &[9]);
        let other = DecodedBlock {
            block: BlockRef { hash: B256::repeat_byte(0xee), ..other.block },
            ..other
        };
        s.accept(&other);
        assert!(s.is_empty());
        assert_eq!(s.head().hash, B256::repeat_byte(0xee));
    }
}
