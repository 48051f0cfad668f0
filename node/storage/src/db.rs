//! The MDBX environment: table names, opening, and self-contained read/write transactions.

use std::{cell::RefCell, mem::ManuallyDrop, path::Path, sync::Arc};

use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, RO, RW, ReadWriteOptions, SyncMode,
    Table, TableFlags, Transaction, WriteFlags,
};

use crate::{
    StorageError,
    cache::{
        Cache, DEFERRED, Epoch, Layer, Lookup, NodeKey, ROOTS_INDEX, View, deferred_index,
        node_key, split_node_key,
    },
};

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
    /// location (u64 BE: the writing block's number + 1, [`crate::trie::PRIVATE_SPACE`] set
    /// for private state) ‖ node hash → node RLP ‖ its hashed children's locations (LEB128)
    /// (state and storage tries, every version; see [`crate::trie::StoredNode`])
    pub const TRIE_NODES: &str = "TrieNodes";
    /// location ‖ node hash → stored node, as [`TRIE_NODES`], for this node's private state
    /// (written with each block, outside the write-back cache, so kept apart from the public
    /// nodes, which a flush appends)
    pub const PRIVATE_TRIE_NODES: &str = "PrivateTrieNodes";
    /// trie root hash → location (u64 BE) of the root node (state and storage tries, public
    /// and private)
    pub const TRIE_ROOTS: &str = "TrieRoots";
    /// meta key → value (head, genesis hash, schema version)
    pub const META: &str = "Meta";
    /// public state root → this node's private state root after that block (GoQuorum's
    /// `"P" ‖ publicRoot`); absent = the empty private state
    pub const PRIVATE_STATE_ROOTS: &str = "PrivateStateRoots";
    /// transaction hash → RLP private receipt (this node's view of a private transaction)
    pub const PRIVATE_RECEIPTS: &str = "PrivateReceipts";
    /// block number (u64 BE) → bloom of the block's private logs (GoQuorum's `"Pb" ‖ number`)
    pub const PRIVATE_BLOOMS: &str = "PrivateBlooms";
    /// contract address → privacy flag (1 byte) ‖ creation TM hash (64 bytes): the privacy
    /// metadata of contracts created by privacy-enhanced (flag 1-3) private transactions
    pub const PRIVACY_METADATA: &str = "PrivacyMetadata";

    /// All tables, created on open.
    pub const ALL: [&str; 19] = [
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
        TRIE_ROOTS,
        PRIVATE_TRIE_NODES,
        META,
        PRIVATE_STATE_ROOTS,
        PRIVATE_RECEIPTS,
        PRIVATE_BLOOMS,
        PRIVACY_METADATA,
    ];
}

/// `meta` key of the head block number (u64 BE), written with every block.
pub(crate) const HEAD_KEY: &[u8] = b"head";
/// `meta` key of the block (u64 BE) whose state (trie nodes, latest state, tx lookups) is on
/// disk; the blocks after it are in the write-back cache, or re-executed after a crash.
pub(crate) const STATE_KEY: &[u8] = b"state";
/// `meta` key of the database layout version (u64 BE).
const SCHEMA_KEY: &[u8] = b"schema";
/// The layout this code reads and writes: 2 = trie nodes keyed by location ‖ hash, with the
/// root index ([`tables::TRIE_ROOTS`]).
const SCHEMA: u64 = 2;

/// When the write-back cache ([`crate::cache`]) is written to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheConfig {
    /// Persist once this many blocks' state is held in memory (1 = every block, the old
    /// write-through behaviour). The flush stalls the writer: 32 blocks of 1,000 fresh-recipient
    /// transfers take ~1.5–3 s to persist on the project's VM (`docs/benchmarks.md` §1).
    pub flush_every_blocks: u64,
    /// Persist once the held state exceeds this many bytes (estimated).
    pub max_bytes: usize,
    /// Archive: a flush writes every trie node of the held blocks, so the state at every block
    /// stays readable. `false` (geth's default "full" mode): a flush writes only the nodes
    /// reachable from the flushed head's state root; the states of the blocks between two
    /// flushes are readable while they are in memory, and afterwards only at flush points.
    pub keep_history: bool,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self { flush_every_blocks: 32, max_bytes: 512 << 20, keep_history: true }
    }
}

struct Shared {
    db: Database<NoWriteMap>,
    /// The handle of every table in [`tables::ALL`] order, opened once (opening a named table
    /// per read costs a name lookup under a lock in libmdbx).
    handles: Vec<Table<'static>>,
    cache: Cache,
    config: CacheConfig,
    /// Set by [`Env::discard_cache_on_close`] (crash simulation in tests).
    discard_on_close: std::sync::atomic::AtomicBool,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if self.discard_on_close.load(std::sync::atomic::Ordering::Relaxed) {
            return;
        }
        // clean shutdown: persist what is held, so a restart re-executes nothing
        if let Err(e) = flush_shared(self) {
            tracing::warn!(target: "storage", error = %e, "flush on close failed; the blocks since the last flush will be re-executed");
        }
    }
}

/// The database environment, cheap to clone.
#[derive(Clone)]
pub struct Env {
    inner: Arc<Shared>,
}

impl std::fmt::Debug for Env {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("config", &self.inner.config).finish_non_exhaustive()
    }
}

fn read_u64(
    txn: &Transaction<'_, impl libmdbx::TransactionKind, NoWriteMap>,
    key: &[u8],
) -> Result<Option<u64>, StorageError> {
    let t = txn.open_table(Some(tables::META))?;
    read_u64_in(txn, &t, key)
}

/// [`read_u64`] with the `meta` table already open.
fn read_u64_in(
    txn: &Transaction<'_, impl libmdbx::TransactionKind, NoWriteMap>,
    meta: &Table<'_>,
    key: &[u8],
) -> Result<Option<u64>, StorageError> {
    Ok(txn
        .get::<Vec<u8>>(meta, key)?
        .and_then(|b| b.get(..8).and_then(|b| b.try_into().ok()))
        .map(u64::from_be_bytes))
}

/// Writes trie nodes in ascending key order. They sort after everything on disk (a flush
/// writes only locations above the persisted block), so each is appended at the end of the
/// table without a search; should one not (a database written otherwise), it is inserted
/// normally. Returns how many were written.
fn append_nodes<'a>(
    txn: &Transaction<'_, RW, NoWriteMap>,
    table: &Table<'_>,
    nodes: impl IntoIterator<Item = Result<(NodeKey, &'a [u8]), StorageError>>,
) -> Result<usize, StorageError> {
    let mut cursor = txn.cursor(table)?;
    let mut written = 0;
    for node in nodes {
        let (key, value) = node?;
        match cursor.put(&key, value, WriteFlags::APPEND) {
            Err(libmdbx::Error::KeyMismatch) => cursor.put(&key, value, WriteFlags::empty())?,
            other => other?,
        }
        written += 1;
    }
    Ok(written)
}

impl Shared {
    /// The open handle of a table of [`tables::ALL`].
    fn table(&self, name: &str) -> Result<&Table<'static>, StorageError> {
        self.table_at(position(&tables::ALL, name), name)
    }

    /// The table at `index` in [`tables::ALL`] (`name` for the error).
    fn table_at(&self, index: usize, name: &str) -> Result<&Table<'static>, StorageError> {
        self.handles
            .get(index)
            .ok_or_else(|| StorageError::Corrupt("tables", format!("unknown table {name}")))
    }
}

/// Where `name` is in `names` (`usize::MAX` when absent); usable in constants, so the hot
/// latest-state reads find their table without comparing names.
pub(crate) const fn position(names: &[&str], name: &str) -> usize {
    let mut i = 0;
    while i < names.len() {
        let (a, b) = (names[i].as_bytes(), name.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    usize::MAX
}

/// A latest-state table: its place in [`tables::ALL`] and in the cache's deferred tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateTable {
    name: &'static str,
    table: usize,
    deferred: usize,
}

impl StateTable {
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name, table: position(&tables::ALL, name), deferred: position(&DEFERRED, name) }
    }
}

/// Writes everything the cache holds in one MDBX transaction, with the `state` marker.
fn flush_shared(shared: &Shared) -> Result<(), StorageError> {
    let (_, blocks) = shared.cache.pending();
    if blocks == 0 {
        return Ok(());
    }
    let started = std::time::Instant::now();
    // the write lock first: no block can be between its publish and its commit meanwhile
    let txn = shared.db.begin_rw_txn()?;
    let committed = read_u64_in(&txn, shared.table(tables::META)?, HEAD_KEY)?
        .map_or(0, |n| n.saturating_add(1));
    let mut set = shared.cache.flush_set(committed);
    let Some(number) = set.upto.checked_sub(1) else { return Ok(()) };
    let nothing = set.writes.is_empty() && set.nodes.is_empty() && set.wipes.is_empty();
    if nothing && set.upto <= shared.cache.persisted() {
        return Ok(());
    }
    let storage = shared.table(tables::STORAGE)?;
    for prefix in &set.wipes {
        let mut keys = Vec::new();
        {
            let mut cursor = txn.cursor(storage)?;
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
            txn.del(storage, k, None)?;
        }
    }
    let mut writes = std::mem::take(&mut set.writes);
    // full mode: the `location ‖ hash` of the nodes to write, sorted (archive: every node)
    let mut reachable = None;
    if !shared.config.keep_history {
        let headers = shared.table(tables::HEADERS)?;
        let header: alloy_consensus::Header = txn
            .get::<Vec<u8>>(headers, &number.to_be_bytes())?
            .map(|b| alloy_rlp::Decodable::decode(&mut b.as_slice()))
            .transpose()
            .map_err(|e| StorageError::Corrupt("header", e.to_string()))?
            .ok_or(StorageError::Corrupt("header", format!("flushed block {number} missing")))?;
        let view = View { lo: shared.cache.persisted(), hi: set.upto };
        let keep = crate::cache_reach::reachable(&shared.cache, view, header.state_root)?;
        writes.retain(|(index, key, _)| *index != ROOTS_INDEX || keep.roots.contains(&key[..]));
        let mut keys: Vec<NodeKey> = keep.nodes.into_iter().collect();
        keys.sort_unstable();
        reachable = Some(keys);
    }
    let collected = started.elapsed();
    let node_table = shared.table(tables::TRIE_NODES)?;
    let nodes = match &reachable {
        // blocks ascending, each block's nodes by hash: ascending `location ‖ hash`
        None => append_nodes(
            &txn,
            node_table,
            set.nodes.iter().flat_map(|(seq, batch)| {
                batch
                    .sorted()
                    .into_iter()
                    .map(|(hash, stored)| Ok((node_key(*seq, hash.as_slice()), stored)))
            }),
        )?,
        Some(keys) => append_nodes(
            &txn,
            node_table,
            keys.iter().map(|key| {
                let (seq, hash) = split_node_key(key);
                let stored = set.node(seq, &hash).ok_or_else(|| {
                    StorageError::Corrupt(
                        "cache",
                        format!("reachable node {hash} at {seq} not held"),
                    )
                })?;
                Ok((*key, stored))
            }),
        )?,
    };
    let appended = started.elapsed();
    writes.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let handles = DEFERRED.map(|name| shared.table(name));
    for (index, key, value) in &writes {
        let Some(Ok(table)) = handles.get(*index) else {
            return Err(StorageError::Corrupt("cache", format!("bad table index {index}")));
        };
        match value {
            Some(v) => txn.put(table, key, v, WriteFlags::empty())?,
            None => {
                txn.del(table, key, None)?;
            }
        }
    }
    let meta = shared.table(tables::META)?;
    txn.put(meta, STATE_KEY, number.to_be_bytes(), WriteFlags::empty())?;
    let put = started.elapsed();
    txn.commit()?;
    let committed = started.elapsed();
    shared.cache.flushed(set.upto);
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    tracing::debug!(target: "storage", number, blocks, nodes, records = writes.len(),
        collect_ms = ms(collected), append_nodes_ms = ms(appended - collected),
        put_records_ms = ms(put - appended), commit_ms = ms(committed - put),
        prune_ms = ms(started.elapsed() - committed), "flushed state cache");
    Ok(())
}

/// Dirty pages one write transaction may hold before MDBX spills them (1 GiB of 4 KiB pages).
const TXN_DIRTY_PAGE_LIMIT: u64 = 1 << 18;

/// mdbx-sys compiles libmdbx without `NDEBUG` (`MDBX_DEBUG=1`) and turns its runtime
/// assertions on; their page-list checks grow with the size of a transaction. Release builds of
/// libmdbx run without them, and so do we.
fn mdbx_assertions_off() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: a plain setter of libmdbx's global debug flags (no environment state is
        // touched); `None` keeps the current logger.
        unsafe {
            mdbx_sys::mdbx_setup_debug(
                mdbx_sys::MDBX_LOG_DONTCHANGE,
                mdbx_sys::MDBX_DBG_NONE,
                None,
            );
        }
    });
}

impl Env {
    /// Opens (creating if needed) the database in `dir` with the default [`CacheConfig`].
    ///
    /// Commits are durable (`SyncMode::Durable`): a block that was committed survives SIGKILL
    /// and power loss, and MDBX's copy-on-write pages mean a crash never leaves a torn state.
    /// The state of the blocks after the last flush lives in memory; see [`crate::cache`].
    pub fn open(dir: &Path) -> Result<Self, StorageError> {
        Self::open_with(dir, CacheConfig::default())
    }

    /// Opens the database with an explicit cache policy.
    pub fn open_with(dir: &Path, config: CacheConfig) -> Result<Self, StorageError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StorageError::Io(dir.display().to_string(), e.to_string()))?;
        mdbx_assertions_off();
        let options = DatabaseOptions {
            max_tables: Some(32),
            max_readers: Some(512),
            // a state flush dirties tens of thousands of pages: keep them in memory until the
            // commit instead of spilling them to disk mid-transaction (MDBX's default limit)
            txn_dp_limit: Some(TXN_DIRTY_PAGE_LIMIT),
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
        let cache = Cache::default();
        let handles = {
            let tx = db.begin_rw_txn()?;
            let mut dbis = Vec::with_capacity(tables::ALL.len());
            for name in tables::ALL {
                let table = tx.create_table(Some(name), TableFlags::empty())?;
                dbis.push(table.dbi());
                tx.prime_for_permaopen(table);
            }
            let head = read_u64(&tx, HEAD_KEY)?;
            let state = read_u64(&tx, STATE_KEY)?;
            match (head, read_u64(&tx, SCHEMA_KEY)?) {
                (_, Some(SCHEMA)) => {}
                (None, None) => {
                    let meta = tx.open_table(Some(tables::META))?;
                    tx.put(&meta, SCHEMA_KEY, SCHEMA.to_be_bytes(), WriteFlags::empty())?;
                }
                // databases from before the key existed are layout 1 (nodes keyed by hash)
                (_, found) => {
                    return Err(StorageError::Schema {
                        found: found.unwrap_or(1),
                        expected: SCHEMA,
                    });
                }
            }
            cache.set_persisted(state.or(head).map_or(0, |n| n.saturating_add(1)));
            let (_, open) = tx.commit_and_rebind_open_dbs()?;
            // SAFETY: a table handle is a plain MDBX dbi, valid for as long as the environment
            // is open; `Shared` keeps the handles beside `db` and they never leave it.
            let mut open: Vec<Table<'static>> = unsafe { std::mem::transmute(open) };
            let mut ordered = Vec::with_capacity(dbis.len());
            for dbi in dbis {
                let at = open.iter().position(|t| t.dbi() == dbi).ok_or(StorageError::Corrupt(
                    "tables",
                    "a table handle was not kept open".into(),
                ))?;
                ordered.push(open.swap_remove(at));
            }
            ordered
        };
        let config = CacheConfig { flush_every_blocks: config.flush_every_blocks.max(1), ..config };
        Ok(Self {
            inner: Arc::new(Shared {
                db,
                handles,
                cache,
                config,
                discard_on_close: Default::default(),
            }),
        })
    }

    /// Starts a read transaction: a consistent snapshot for as long as it lives.
    pub fn read(&self) -> Result<ReadTx, StorageError> {
        // the epoch token first: a flush that commits after this point cannot prune versions
        // this snapshot needs
        let epoch = self.inner.cache.epoch();
        let txn = self.inner.db.begin_ro_txn()?;
        let meta = self.inner.table(tables::META)?;
        let hi = read_u64_in(&txn, meta, HEAD_KEY)?.map_or(0, |n| n.saturating_add(1));
        let lo = read_u64_in(&txn, meta, STATE_KEY)?.map_or(hi, |n| n.saturating_add(1));
        // SAFETY: the transaction borrows the database, which we keep alive in the same struct
        // through an `Arc`; `Drop` releases the transaction before the `Arc`.
        let txn: Transaction<'static, RO, NoWriteMap> = unsafe { std::mem::transmute(txn) };
        Ok(ReadTx {
            txn: ManuallyDrop::new(txn),
            view: View { lo, hi },
            _epoch: epoch,
            shared: self.inner.clone(),
        })
    }

    /// Starts the (single) write transaction.
    pub fn write(&self) -> Result<WriteTx, StorageError> {
        let txn = self.inner.db.begin_rw_txn()?;
        // SAFETY: as in `read`.
        let txn: Transaction<'static, RW, NoWriteMap> = unsafe { std::mem::transmute(txn) };
        Ok(WriteTx {
            txn: ManuallyDrop::new(txn),
            staged: RefCell::new(None),
            direct: std::cell::Cell::new(None),
            shared: self.inner.clone(),
        })
    }

    /// Writes the state held in memory to disk now (also done on close and by the policy).
    pub fn flush(&self) -> Result<(), StorageError> {
        flush_shared(&self.inner)
    }

    /// Tests only: close without persisting the cache, as a crash (SIGKILL) would.
    #[doc(hidden)]
    pub fn discard_cache_on_close(&self) {
        self.inner.discard_on_close.store(true, std::sync::atomic::Ordering::Relaxed);
    }

    /// Estimated bytes and number of blocks whose state is held in memory only.
    pub fn cache_pending(&self) -> (usize, u64) {
        self.inner.cache.pending()
    }

    /// Publishes the state writes of a block that is already on disk (crash recovery: the chain
    /// re-executed it). Blocks must be restored in order, right after the persisted state.
    pub fn restore_block_state(
        &self,
        block: &crate::StoredBlock,
        state: &crate::StateUpdate,
    ) -> Result<(), StorageError> {
        let seq = block.header.number.saturating_add(1);
        state.ensure_located("state update", |loc| loc == seq)?;
        self.inner.cache.publish(seq, crate::provider::block_layer(block, state));
        Ok(())
    }
}

/// A key/value pair read from a table.
pub type Entry = (Vec<u8>, Vec<u8>);

/// A read-only snapshot.
pub struct ReadTx {
    txn: ManuallyDrop<Transaction<'static, RO, NoWriteMap>>,
    view: View,
    _epoch: Arc<Epoch>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for ReadTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadTx").finish_non_exhaustive()
    }
}

impl Drop for ReadTx {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, before `shared`.
        unsafe { ManuallyDrop::drop(&mut self.txn) }
    }
}

impl ReadTx {
    /// Reads a value (the write-back cache first for the state tables).
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.shared.table(table)?;
        self.read_with(deferred_index(table), t, key, <[u8]>::to_vec)
    }

    /// Reads a latest-state value and hands it to `f` without copying it out (the cache
    /// first, then the disk page).
    pub(crate) fn state_with<R>(
        &self,
        table: StateTable,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, StorageError> {
        let t = self.shared.table_at(table.table, table.name)?;
        self.read_with(Some(table.deferred), t, key, f)
    }

    /// Hands the value of `key` to `f`: from the write-back cache when the table is deferred
    /// (`Some` index) and the cache holds it for this snapshot, else from the MDBX page.
    fn read_with<R>(
        &self,
        deferred: Option<usize>,
        table: &Table<'static>,
        key: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<Option<R>, StorageError> {
        if let Some(index) = deferred {
            match self.shared.cache.get(index, key, self.view) {
                Lookup::Found(v) => return Ok(Some(f(&v))),
                Lookup::Deleted => return Ok(None),
                Lookup::Miss => {}
            }
        }
        Ok(self.txn.get::<std::borrow::Cow<'_, [u8]>>(table, key)?.map(|v| f(&v)))
    }

    /// The stored form of the trie node with this hash written at `loc` (the cache first when
    /// `loc` is a block the cache holds, else the disk).
    pub(crate) fn trie_node(
        &self,
        hash: &alloy_primitives::B256,
        loc: crate::trie::Loc,
    ) -> Result<Option<Vec<u8>>, StorageError> {
        if let Some(stored) = self.shared.cache.node_at(hash, loc, self.view) {
            return Ok(Some(stored));
        }
        let t = self.shared.table(crate::trie::nodes_table(loc))?;
        Ok(self.txn.get::<Vec<u8>>(t, &crate::cache::node_key(loc, hash.as_slice()))?)
    }

    /// Visits entries with keys starting at `from` while `f` returns true.
    /// Reads the disk only: the state tables' newest writes may still be in the cache.
    pub fn scan_from(
        &self,
        table: &str,
        from: &[u8],
        mut f: impl FnMut(&[u8], &[u8]) -> bool,
    ) -> Result<(), StorageError> {
        let t = self.shared.table(table)?;
        let mut cursor = self.txn.cursor(t)?;
        let mut entry = cursor.set_range::<Vec<u8>, Vec<u8>>(from)?;
        while let Some((k, v)) = entry {
            if !f(&k, &v) {
                break;
            }
            entry = cursor.next::<Vec<u8>, Vec<u8>>()?;
        }
        Ok(())
    }

    /// The last entry of a table (on disk; see [`ReadTx::scan_from`]).
    pub fn last(&self, table: &str) -> Result<Option<Entry>, StorageError> {
        let t = self.shared.table(table)?;
        let mut cursor = self.txn.cursor(t)?;
        Ok(cursor.last::<Vec<u8>, Vec<u8>>()?)
    }
}

/// The write transaction. Nothing is visible to readers until [`WriteTx::commit`].
pub struct WriteTx {
    txn: ManuallyDrop<Transaction<'static, RW, NoWriteMap>>,
    /// A block's deferred state writes, published to the cache on commit.
    staged: RefCell<Option<(u64, Layer)>>,
    /// Set when state was written straight to disk up to this sequence (genesis).
    direct: std::cell::Cell<Option<u64>>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for WriteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteTx").finish_non_exhaustive()
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // SAFETY: dropped exactly once, before `shared`. An uncommitted transaction aborts.
        unsafe { ManuallyDrop::drop(&mut self.txn) }
    }
}

impl WriteTx {
    /// Reads a value from disk (sees this transaction's own direct writes, not the cache).
    pub fn get(&self, table: &str, key: &[u8]) -> Result<Option<Vec<u8>>, StorageError> {
        let t = self.shared.table(table)?;
        Ok(self.txn.get::<Vec<u8>>(t, key)?)
    }

    /// Writes a value.
    pub fn put(&self, table: &str, key: &[u8], value: &[u8]) -> Result<(), StorageError> {
        let t = self.shared.table(table)?;
        self.txn.put(t, key, value, WriteFlags::empty())?;
        Ok(())
    }

    /// Writes many values into one table.
    pub fn put_many<'a>(
        &self,
        table: &str,
        entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Result<(), StorageError> {
        let t = self.shared.table(table)?;
        for (k, v) in entries {
            self.txn.put(t, k, v, WriteFlags::empty())?;
        }
        Ok(())
    }

    /// Deletes a key (no-op when absent).
    pub fn delete(&self, table: &str, key: &[u8]) -> Result<(), StorageError> {
        let t = self.shared.table(table)?;
        self.txn.del(t, key, None)?;
        Ok(())
    }

    /// Deletes every key starting with `prefix`.
    pub fn delete_prefix(&self, table: &str, prefix: &[u8]) -> Result<(), StorageError> {
        let t = self.shared.table(table)?;
        let mut keys = Vec::new();
        {
            let mut cursor = self.txn.cursor(t)?;
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
            self.txn.del(t, k, None)?;
        }
        Ok(())
    }

    /// Stages a block's state writes for the cache (see [`crate::cache`]).
    pub(crate) fn stage(&self, seq: u64, layer: Layer) {
        *self.staged.borrow_mut() = Some((seq, layer));
    }

    /// Records that this transaction writes the state up to `seq` straight to disk.
    pub(crate) fn wrote_state_directly(&self, seq: u64) {
        self.direct.set(Some(seq));
    }

    /// Makes every write durable and visible, atomically. A staged block's state becomes
    /// visible with it (from memory), and the cache is flushed when the policy says so.
    pub fn commit(self) -> Result<(), StorageError> {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so each field is taken exactly once, and the
        // transaction is consumed before the Arc is released.
        let txn = unsafe { ManuallyDrop::take(&mut this.txn) };
        let staged = unsafe { std::ptr::read(&this.staged) }.into_inner();
        let direct = this.direct.get();
        let shared = unsafe { std::ptr::read(&this.shared) };
        // published before the commit, but invisible until the commit moves readers' head
        let seq = staged.map(|(seq, layer)| {
            shared.cache.publish(seq, layer);
            seq
        });
        if let Err(e) = txn.commit() {
            if let Some(seq) = seq {
                shared.cache.unpublish(seq);
            }
            return Err(e.into());
        }
        if let Some(seq) = direct {
            shared.cache.set_persisted(seq);
        }
        let (bytes, blocks) = shared.cache.pending();
        if blocks >= shared.config.flush_every_blocks || bytes >= shared.config.max_bytes {
            // the block itself is durable; a failed flush is retried at the next commit
            if let Err(e) = flush_shared(&shared) {
                tracing::error!(target: "storage", error = %e, "state cache flush failed");
            }
        } else {
            shared.cache.maybe_prune();
        }
        Ok(())
    }
}
