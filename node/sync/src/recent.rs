//! The numbers of blocks imported from peers, so the announcer does not echo them back.

use std::collections::BTreeSet;

use parking_lot::Mutex;

/// How many imported block numbers are remembered.
const KEEP: usize = 4096;

/// A bounded set of recently imported block numbers (the chain has one block per number).
#[derive(Debug, Default)]
pub(crate) struct RecentBlocks(Mutex<BTreeSet<u64>>);

impl RecentBlocks {
    pub(crate) fn insert(&self, number: u64) {
        let mut set = self.0.lock();
        set.insert(number);
        while set.len() > KEEP {
            set.pop_first();
        }
    }

    /// True (and forgets it) if `number` was imported from a peer.
    pub(crate) fn take(&self, number: u64) -> bool {
        self.0.lock().remove(&number)
    }
}
