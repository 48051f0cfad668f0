//! [`SyncStatus`] and [`SyncHandle`]: what `eth_syncing` reports.

use std::sync::Arc;

use parking_lot::RwLock;
use qrs_chain::Chain;

/// Progress of range sync (geth's `eth_syncing` object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncStatus {
    /// True while blocks are being fetched from a peer that is ahead.
    pub syncing: bool,
    /// Our head when the current sync started.
    pub starting_block: u64,
    /// Our head now.
    pub current_block: u64,
    /// The highest block a peer has announced or reported.
    pub highest_block: u64,
}

/// The shared, mutable part of the status (the head is read from the chain on demand).
#[derive(Debug, Default)]
pub(crate) struct StatusCell {
    pub syncing: bool,
    pub starting_block: u64,
    pub highest_block: u64,
}

/// Handle to the running sync service (cheap to clone).
#[derive(Debug, Clone)]
pub struct SyncHandle {
    pub(crate) chain: Chain,
    pub(crate) cell: Arc<RwLock<StatusCell>>,
    pub(crate) tasks: Arc<parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl SyncHandle {
    /// The current sync progress.
    pub fn status(&self) -> SyncStatus {
        let current_block = self.chain.head().header.number;
        let cell = self.cell.read();
        SyncStatus {
            syncing: cell.syncing,
            starting_block: cell.starting_block,
            current_block,
            highest_block: cell.highest_block.max(current_block),
        }
    }

    /// Waits until every task of the service has ended (after the shutdown signal).
    pub async fn join(&self) {
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for task in tasks {
            let _ = task.await;
        }
    }

    /// Whether range sync is running (`eth_syncing` is not `false`).
    pub fn is_syncing(&self) -> bool {
        self.cell.read().syncing
    }
}
