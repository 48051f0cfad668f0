//! Tuning knobs for opening a store. Defaults suit a production qtm.

use std::time::Duration;

/// SQLite `synchronous` setting for the WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// `synchronous=NORMAL`: a commit survives a process crash; after power loss the last
    /// commits before the next checkpoint may be lost. No fsync per commit.
    #[default]
    Normal,
    /// `synchronous=FULL`: every (group) commit is fsync'd before callers are answered.
    Full,
}

/// Options for [`crate::open_store_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// SQLite WAL durability.
    pub sqlite_synchronous: Synchronous,
    /// SQLite read connections (reads never wait for the writer in WAL mode).
    pub sqlite_read_connections: u32,
    /// Most write requests the SQLite writer commits in one transaction.
    pub sqlite_max_batch: usize,
    /// PostgreSQL pool size per process.
    pub postgres_max_connections: u32,
    /// Most `save`s one PostgreSQL group commit carries.
    pub postgres_max_batch: usize,
    /// How long to wait for a database connection (or SQLite lock) before reporting
    /// [`crate::StoreError::Unavailable`].
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            sqlite_synchronous: Synchronous::Normal,
            sqlite_read_connections: 4,
            sqlite_max_batch: 512,
            postgres_max_connections: 16,
            postgres_max_batch: 512,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}
