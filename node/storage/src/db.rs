//! The MDBX environment: table names, opening, and self-contained read/write transactions.

use std::{mem::ManuallyDrop, path::Path, sync::Arc};

use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, RO, RW, ReadWriteOptions, SyncMode,
    TableFlags, Transaction, WriteFlags,
};

use crate::StorageError;

/// Every table of the node database, with its key → value layout.
pub mod tables {
    /// block number (u64 BE) → RLP header
    pub const HEADERS: &str = "Headers";
    /// block number (u64 BE) → block hash
    pub const CANONICAL_HASHES: &str = "CanonicalHashes";
    /// block hash → block number (u64 BE)
    pub const HEADER_NUMBERS: &str = "HeaderNumbers";
    /// block number → RLP list of EIP-2718 transaction encodings
    pub const BODIES: &str = "Bodies";
    /// block number → concatenated 20-byte senders, one per transaction
    pub const SENDERS: &str = "Senders";
    /// block number → RLP list of stored receipts (status, gas, logs, revert data)
    pub const RECEIPTS: &str = "Receipts";
    /// transaction hash → block number (u64 BE) ‖ index (u32 BE)
    pub const TX_LOOKUP: &str = "TxLookup";
    /// block number → total difficulty (32 bytes BE)
    pub const TOTAL_DIFFICULTY: &str = "TotalDifficulty";
    /// address → RLP [nonce, balance, storageRoot, codeHash] (the latest state)
    pub const ACCOUNTS: &str = "Accounts";
    /// address ‖ slot (52 bytes) → value (32 bytes BE) (the latest state)
    pub const STORAGE: &str = "Storage";
    /// code hash → bytecode
    pub const CODE: &str = "Code";
    /// node hash → node RLP (state and storage tries, every version)
    pub const TRIE_NODES: &str = "TrieNodes";
    /// meta key → value (head, genesis hash, schema version)
    pub const META: &str = "Meta";

    /// All tables, created on open.
    pub const ALL: [&str; 13] = [
        HEADERS,
        CANONICAL_HASHES,
        HEADER_NUMBERS,
        BODIES,
        SENDERS,
        RECEIPTS,
        TX_LOOKUP,
        TOTAL_DIFFICULTY,
        ACCOUNTS,
        STORAGE,
        CODE,
        TRIE_NODES,
        META,
    ];
}

/// The database environment, cheap to clone.
#[derive(Clone)]
pub struct Env {
    inner: Arc<Database<NoWriteMap>>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").finish_non_exhaustive()
    }
}

impl Env {
    /// Opens (creating if needed) the database in `dir`.
    ///
    /// Commits are durable (`SyncMode::Durable`): a block that was committed survives SIGKILL
    /// and power loss, and MDBX's copy-on-write pages mean a crash never leaves a torn state.
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Io(dir.display().to_string(), e.to_string()))?;
        let options = DatabaseOptions {
            max_tables: Some(32),
            max_readers: Some(512),
            page_size: Some(PageSize::Set(4096)),
            mode: Mode::ReadWrite(ReadWriteOptions {
                sync_mode: SyncMode::Durable,
                min_size: None,
                max_size: Some(1 << 40),
                growth_step: Some(256 << 20),
                shrink_threshold: None,
            }),
            ..Default::default()
        };
        let db = Database::<NoWriteMap>::open_with_options(dir, options)?;
        {
            let tx = db.begin_rw_txn()?;
            for name in tables::ALL {
                tx.create_table(Some(name), TableFlags::empty())?;
            }
            tx.commit()?;
        }
        Ok(Self { inner: Arc::new(db) })
    }

    /// Starts a read transaction: a consistent snapshot for as long as it lives.
    pub fn read(&self) -> Result<ReadTx, StorageError> {
        let txn = self.inner.begin_ro_txn()?;
        // SAFETY: the transaction borrows the database, which we keep alive in the same struct
        // through an `Arc`; `Drop` releases the transaction before the `Arc`.
        let txn: Transaction<'static, RO, NoWriteMap> = unsafe { std::mem::transmute(txn) };
        Ok(ReadTx { txn: ManuallyDrop::new(txn), _env: self.inner.clone() })
    }

    /// Starts the (single) write transaction.
    pub fn write(&self) -> Result<WriteTx, StorageError> {
        let txn = self.inner.begin_rw_txn()?;
        // SAFETY: as in `read`.
        let txn: Transaction<'static, RW, NoWriteMap> = unsafe { std::mem::transmute(txn) };
        Ok(WriteTx { txn: ManuallyDrop::new(txn), _env: self.inner.clone() })
    }
}

/// A key/value pair read from a table.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A read-only snapshot.
pub struct ReadTx {
    txn: ManuallyDrop<Transaction<'static, RO, NoWriteMap>>,
    _env: Arc<Database<NoWriteMap>>,
}

impl std::fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

impl Drop for ReadTx {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, before `_env`.
        unsafe { ManuallyDrop::drop(&mut self.txn) }
    }
}

impl ReadTx {
    /// Reads a value.
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.txn.open_table(Some(table))?;
        Ok(self.txn.get::<Vec<u8>>(&t, key)?)
    }

    /// Visits entries with keys starting at `from` while `f` returns true.
    pub fn scan_from(
        &self,
        table: &str,
        from: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let t = self.txn.open_table(Some(table))?;
        let mut cursor = self.txn.cursor(&t)?;
        let mut entry = cursor.set_range::<Vec<u8>, Vec<u8>>(from)?;
        while let Some((k, v)) = entry {
            if !f(&k, &v) {
                break;
            }
            entry = cursor.next::<Vec<u8>, Vec<u8>>()?;
        }
        Ok(())
    }

    /// The last entry of a table.
    pub fn last(&self, table: &str) -> Result<Option<Entry>, StorageError> {
        let t = self.txn.open_table(Some(table))?;
        let mut cursor = self.txn.cursor(&t)?;
        Ok(cursor.last::<Vec<u8>, Vec<u8>>()?)
    }
}

/// The write transaction. Nothing is visible to readers until [`WriteTx::commit`].
pub struct WriteTx {
    txn: ManuallyDrop<Transaction<'static, RW, NoWriteMap>>,
    _env: Arc<Database<NoWriteMap>>,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, before `_env`. An uncommitted transaction aborts.
        unsafe { ManuallyDrop::drop(&mut self.txn) }
    }
}

impl WriteTx {
    /// Reads a value (sees this transaction's own writes).
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.txn.open_table(Some(table))?;
        Ok(self.txn.get::<Vec<u8>>(&t, key)?)
    }

    /// Writes a value.
    pub fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let t = self.txn.open_table(Some(table))?;
        self.txn.put(&t, key, value, WriteFlags::empty())?;
        Ok(())
    }

    /// Writes many values into one table.
    pub fn put_many<'a>(
        &self,
        table: &str,
        entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<(), StorageError> {
        let t = self.txn.open_table(Some(table))?;
        for (k, v) in entries {
            self.txn.put(&t, k, v, WriteFlags::empty())?;
        }
        Ok(())
    }

    /// Deletes a key (no-op when absent).
    pub fn delete(&self, table: &str, key: &[u8]) -> Result<(), StorageError> {
        let t = self.txn.open_table(Some(table))?;
        self.txn.del(&t, key, None)?;
        Ok(())
    }

    /// Deletes every key starting with `prefix`.
    pub fn delete_prefix(&self, table: &str, prefix: &[u8]) -> Result<(), StorageError> {
        let t = self.txn.open_table(Some(table))?;
        let mut keys = Vec::new();
        {
            let mut cursor = self.txn.cursor(&t)?;
            let mut entry = cursor.set_range::<Vec<u8>, ()>(prefix)?;
            while let Some((k, ())) = entry {
                if !k.starts_with(prefix) {
                    break;
                }
                keys.push(k);
                entry = cursor.next::<Vec<u8>, ()>()?;
            }
        }
        for k in keys {
            self.txn.del(&t, k, None)?;
        }
        Ok(())
    }

    /// Makes every write durable and visible, atomically.
    pub fn commit(self) -> Result<(), StorageError> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the transaction and the Arc are each taken once,
        // and the transaction is consumed before the Arc is released.
        let txn = unsafe { ManuallyDrop::take(&mut this.txn) };
        let env = unsafe { std::ptr::read(&this._env) };
        let result = txn.commit();
        drop(env);
        result?;
        Ok(())
    }
}
