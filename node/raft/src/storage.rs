//! [`MdbxStorage`]: a raft-rs [`Storage`] persisting the log, `HardState`, `ConfState`, the latest
//! snapshot and the applied index in its own small MDBX environment.
//!
//! Layout (two tables):
//! - `RaftEntries`: index (u64 BE) → term (u64 BE) ‖ protobuf `Entry`; the term prefix lets
//!   [`Storage::term`] answer without decoding the (block-sized) entry.
//! - `RaftMeta`: `hard_state`, `conf_state`, `snapshot` (protobuf), `truncated` (index ‖ term of
//!   the last compacted entry) and `applied` (u64 BE).
//!
//! Every mutating method is one MDBX write transaction committed with `SyncMode::Durable`, so a
//! call that returned `Ok` survives a crash (raft-rs requires entries and `HardState` to be
//! durable before the messages of the same `Ready` are sent).
//!
//! # Error contract (the raft-rs [`Storage`] documentation, made precise)
//! - `entries(low, high)`: `Compacted` if `low < first_index()`; `Unavailable` if
//!   `high > last_index() + 1` (raft-rs's `MemStorage` panics there; we never panic); at least one
//!   entry is returned if the range is non-empty, even when it exceeds `max_size`.
//! - `term(i)`: the term of the last compacted entry for `i == first_index() - 1` (kept on
//!   compaction, unlike `MemStorage`, which only keeps it at a snapshot index); `Compacted` below
//!   it; `Unavailable` above `last_index()`.
//! - `snapshot(request_index)`: the latest snapshot; `SnapshotTemporarilyUnavailable` if it is
//!   older than `request_index` or none was ever created.
//! - MDBX or decoding failures surface as `StorageError::Other`; raft-rs then stops the node,
//!   which is what it documents for a failing storage.

use std::{path::Path, sync::Arc};

use libmdbx::{
    Database, DatabaseOptions, Mode, NoWriteMap, PageSize, ReadWriteOptions, SyncMode, TableFlags,
    WriteFlags,
};
use parking_lot::RwLock;
use protobuf::Message as _;
use raft::{
    GetEntriesContext, RaftState, Storage, StorageError,
    prelude::{ConfState, Entry, HardState, Snapshot, SnapshotMetadata},
};

use crate::error::{RaftError, Result};

const ENTRIES: &str = "RaftEntries";
const META: &str = "RaftMeta";
const KEY_HARD_STATE: &[u8] = b"hard_state";
const KEY_CONF_STATE: &[u8] = b"conf_state";
const KEY_SNAPSHOT: &[u8] = b"snapshot";
const KEY_TRUNCATED: &[u8] = b"truncated";
const KEY_APPLIED: &[u8] = b"applied";

/// The small, always-needed part of the state, mirrored in memory.
#[derive(Debug, Clone, Default)]
struct Cache {
    hard_state: HardState,
    conf_state: ConfState,
    /// Index and term of the last compacted entry (0, 0 for a fresh log).
    truncated: (u64, u64),
    last_index: u64,
    snapshot_meta: SnapshotMetadata,
    applied: u64,
}

impl Cache {
    fn first_index(&self) -> u64 {
        self.truncated.0.saturating_add(1)
    }
}

struct Inner {
    db: Database<NoWriteMap>,
    path: std::path::PathBuf,
    cache: RwLock<Cache>,
}

/// MDBX-backed Raft storage. Cheap to clone (shared handle); raft-rs owns one clone inside its
/// `RawNode`, the service another for writes.
#[derive(Clone)]
pub struct MdbxStorage {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for MdbxStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self.inner.cache.read();
        f.debug_struct("MdbxStorage")
            .field("path", &self.inner.path)
            .field("first_index", &c.first_index())
            .field("last_index", &c.last_index)
            .field("commit", &c.hard_state.commit)
            .finish()
    }
}

fn be(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

fn read_u64(bytes: &[u8]) -> Result<u64> {
    let arr: [u8; 8] =
        bytes.get(..8).and_then(|b| b.try_into().ok()).ok_or(RaftError::Corrupt("u64"))?;
    Ok(u64::from_be_bytes(arr))
}

fn other(e: RaftError) -> raft::Error {
    raft::Error::Store(StorageError::Other(Box::new(e)))
}

impl MdbxStorage {
    /// Opens (creating if needed) the storage in `dir` and loads its state.
    pub fn open(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|source| RaftError::Io { path: dir.to_path_buf(), source })?;
        let mdbx = |source| RaftError::Mdbx { path: dir.to_path_buf(), source };
        let options = DatabaseOptions {
            max_tables: Some(4),
            max_readers: Some(64),
            page_size: Some(PageSize::Set(4096)),
            mode: Mode::ReadWrite(ReadWriteOptions {
                sync_mode: SyncMode::Durable,
                min_size: None,
                max_size: Some(1 << 36),
                growth_step: Some(16 << 20),
                shrink_threshold: None,
            }),
            ..Default::default()
        };
        let db = Database::<NoWriteMap>::open_with_options(dir, options).map_err(mdbx)?;
        {
            let tx = db.begin_rw_txn().map_err(mdbx)?;
            tx.create_table(Some(ENTRIES), TableFlags::empty()).map_err(mdbx)?;
            tx.create_table(Some(META), TableFlags::empty()).map_err(mdbx)?;
            tx.commit().map_err(mdbx)?;
        }
        let storage = Self {
            inner: Arc::new(Inner {
                db,
                path: dir.to_path_buf(),
                cache: RwLock::new(Cache::default()),
            }),
        };
        let cache = storage.load()?;
        *storage.inner.cache.write() = cache;
        Ok(storage)
    }

    fn mdbx(&self) -> impl Fn(libmdbx::Error) -> RaftError + '_ {
        move |source| RaftError::Mdbx { path: self.inner.path.clone(), source }
    }

    fn load(&self) -> Result<Cache> {
        let tx = self.inner.db.begin_ro_txn().map_err(self.mdbx())?;
        let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
        let get = |k: &[u8]| tx.get::<Vec<u8>>(&meta, k).map_err(self.mdbx());
        let mut cache = Cache::default();
        if let Some(v) = get(KEY_HARD_STATE)? {
            cache.hard_state =
                HardState::parse_from_bytes(&v).map_err(RaftError::pb("HardState"))?;
        }
        if let Some(v) = get(KEY_CONF_STATE)? {
            cache.conf_state =
                ConfState::parse_from_bytes(&v).map_err(RaftError::pb("ConfState"))?;
        }
        if let Some(v) = get(KEY_SNAPSHOT)? {
            let snap = Snapshot::parse_from_bytes(&v).map_err(RaftError::pb("Snapshot"))?;
            cache.snapshot_meta = snap.get_metadata().clone();
        }
        if let Some(v) = get(KEY_TRUNCATED)? {
            cache.truncated = (read_u64(&v)?, read_u64(v.get(8..).unwrap_or_default())?);
        }
        if let Some(v) = get(KEY_APPLIED)? {
            cache.applied = read_u64(&v)?;
        }
        let entries = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
        let mut cursor = tx.cursor(&entries).map_err(self.mdbx())?;
        cache.last_index = match cursor.last::<Vec<u8>, Vec<u8>>().map_err(self.mdbx())? {
            Some((k, _)) => read_u64(&k)?,
            None => cache.truncated.0,
        };
        Ok(cache)
    }

    /// Whether the storage holds a Raft state (a `ConfState` with members, or any log entry).
    pub fn is_initialised(&self) -> bool {
        let c = self.inner.cache.read();
        c.conf_state != ConfState::default() || c.last_index > 0
    }

    /// Bootstraps a new cluster log (the etcd `StartNode(peers)` equivalent): `entries` (term 1,
    /// indexes 1..=n, normally one `ConfChange` per initial peer) are written as committed, the
    /// `ConfState` lists `voters`. Fails if the storage is already initialised.
    pub fn bootstrap(&self, voters: Vec<u64>, entries: &[Entry]) -> Result<()> {
        if self.is_initialised() {
            return Err(RaftError::AlreadyInitialised);
        }
        let conf_state = ConfState { voters, ..Default::default() };
        let last = entries.last().map_or(0, |e| e.index);
        let hard_state =
            HardState { term: u64::from(last > 0), commit: last, ..Default::default() };
        self.append(entries)?;
        self.set_conf_state(&conf_state)?;
        self.set_hard_state(&hard_state)
    }

    /// The current `HardState`.
    pub fn hard_state(&self) -> HardState {
        self.inner.cache.read().hard_state.clone()
    }

    /// The current `ConfState`.
    pub fn conf_state(&self) -> ConfState {
        self.inner.cache.read().conf_state.clone()
    }

    /// The persisted applied index (what the state machine has applied).
    pub fn applied_index(&self) -> u64 {
        self.inner.cache.read().applied
    }

    /// Metadata of the latest snapshot (index 0 when none).
    pub fn snapshot_metadata(&self) -> SnapshotMetadata {
        self.inner.cache.read().snapshot_meta.clone()
    }

    /// Persists `HardState`.
    pub fn set_hard_state(&self, hs: &HardState) -> Result<()> {
        let bytes = hs.write_to_bytes().map_err(RaftError::pb("HardState"))?;
        self.put_meta(KEY_HARD_STATE, &bytes)?;
        self.inner.cache.write().hard_state = hs.clone();
        Ok(())
    }

    /// Persists only the commit index of the `HardState`.
    pub fn set_commit(&self, commit: u64) -> Result<()> {
        let mut hs = self.hard_state();
        if hs.commit == commit {
            return Ok(());
        }
        hs.commit = commit;
        self.set_hard_state(&hs)
    }

    /// Persists `ConfState`.
    pub fn set_conf_state(&self, cs: &ConfState) -> Result<()> {
        let bytes = cs.write_to_bytes().map_err(RaftError::pb("ConfState"))?;
        self.put_meta(KEY_CONF_STATE, &bytes)?;
        self.inner.cache.write().conf_state = cs.clone();
        Ok(())
    }

    /// Persists the applied index.
    pub fn set_applied_index(&self, applied: u64) -> Result<()> {
        self.put_meta(KEY_APPLIED, &be(applied))?;
        self.inner.cache.write().applied = applied;
        Ok(())
    }

    fn put_meta(&self, key: &[u8], value: &[u8]) -> Result<()> {
        let tx = self.inner.db.begin_rw_txn().map_err(self.mdbx())?;
        let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
        tx.put(&meta, key, value, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.commit().map_err(self.mdbx())?;
        Ok(())
    }

    /// Appends `ents`, replacing every stored entry at or after `ents[0].index`. Errors (instead of
    /// raft-rs's panics) if that would rewrite compacted entries or leave a gap.
    pub fn append(&self, ents: &[Entry]) -> Result<()> {
        self.persist(ents, None)
    }

    /// Appends `ents` (as [`MdbxStorage::append`]) and writes `hs`, in **one** durable
    /// transaction: one fsync per raft-rs `Ready`.
    pub fn persist(&self, ents: &[Entry], hs: Option<&HardState>) -> Result<()> {
        let (first, last) = {
            let c = self.inner.cache.read();
            (c.first_index(), c.last_index)
        };
        let last_plus_one = last.saturating_add(1);
        if let Some(first_new) = ents.first()
            && (first_new.index < first || first_new.index > last_plus_one)
        {
            return Err(RaftError::LogGap {
                op: "append",
                index: first_new.index,
                first,
                last_plus_one,
            });
        }
        if ents.is_empty() && hs.is_none() {
            return Ok(());
        }
        let tx = self.inner.db.begin_rw_txn().map_err(self.mdbx())?;
        let mut new_last = last;
        if let Some(first_new) = ents.first() {
            let table = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
            for idx in first_new.index..=last {
                tx.del(&table, be(idx), None).map_err(self.mdbx())?;
            }
            for e in ents {
                let body = e.write_to_bytes().map_err(RaftError::pb("Entry"))?;
                let mut value = Vec::with_capacity(body.len().saturating_add(8));
                value.extend_from_slice(&be(e.term));
                value.extend_from_slice(&body);
                tx.put(&table, be(e.index), &value, WriteFlags::empty()).map_err(self.mdbx())?;
                new_last = e.index;
            }
        }
        if let Some(hs) = hs {
            let bytes = hs.write_to_bytes().map_err(RaftError::pb("HardState"))?;
            let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
            tx.put(&meta, KEY_HARD_STATE, &bytes, WriteFlags::empty()).map_err(self.mdbx())?;
        }
        tx.commit().map_err(self.mdbx())?;
        let mut c = self.inner.cache.write();
        c.last_index = new_last;
        if let Some(hs) = hs {
            c.hard_state = hs.clone();
        }
        Ok(())
    }

    /// Writes a new commit index and/or applied index in one transaction.
    pub fn set_commit_and_applied(&self, commit: Option<u64>, applied: Option<u64>) -> Result<()> {
        let mut hs = self.hard_state();
        let commit = commit.filter(|c| *c != hs.commit);
        let applied = applied.filter(|a| *a != self.applied_index());
        if commit.is_none() && applied.is_none() {
            return Ok(());
        }
        let tx = self.inner.db.begin_rw_txn().map_err(self.mdbx())?;
        let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
        if let Some(commit) = commit {
            hs.commit = commit;
            let bytes = hs.write_to_bytes().map_err(RaftError::pb("HardState"))?;
            tx.put(&meta, KEY_HARD_STATE, &bytes, WriteFlags::empty()).map_err(self.mdbx())?;
        }
        if let Some(applied) = applied {
            tx.put(&meta, KEY_APPLIED, be(applied), WriteFlags::empty()).map_err(self.mdbx())?;
        }
        tx.commit().map_err(self.mdbx())?;
        let mut c = self.inner.cache.write();
        if commit.is_some() {
            c.hard_state = hs;
        }
        if let Some(applied) = applied {
            c.applied = applied;
        }
        Ok(())
    }

    /// Discards entries before `compact_index` (keeping the term of `compact_index - 1`). A no-op
    /// if `compact_index <= first_index()`; an error if it is beyond `last_index() + 1`. The
    /// caller must not compact past its applied index and should create a snapshot first.
    pub fn compact(&self, compact_index: u64) -> Result<()> {
        let (first, last) = {
            let c = self.inner.cache.read();
            (c.first_index(), c.last_index)
        };
        if compact_index <= first {
            return Ok(());
        }
        let last_plus_one = last.saturating_add(1);
        if compact_index > last_plus_one {
            return Err(RaftError::LogGap {
                op: "compact",
                index: compact_index,
                first,
                last_plus_one,
            });
        }
        let truncated_index = compact_index.saturating_sub(1);
        let truncated_term = self.term(truncated_index).map_err(RaftError::Raft)?;
        let tx = self.inner.db.begin_rw_txn().map_err(self.mdbx())?;
        let table = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
        for idx in first..compact_index {
            tx.del(&table, be(idx), None).map_err(self.mdbx())?;
        }
        let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
        let mut v = be(truncated_index).to_vec();
        v.extend_from_slice(&be(truncated_term));
        tx.put(&meta, KEY_TRUNCATED, &v, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.commit().map_err(self.mdbx())?;
        self.inner.cache.write().truncated = (truncated_index, truncated_term);
        Ok(())
    }

    /// Stores a snapshot taken locally at `index` (≤ the applied index) with the application
    /// `data`, then compacts the log up to `index` (inclusive).
    pub fn create_snapshot(
        &self,
        index: u64,
        conf_state: ConfState,
        data: Vec<u8>,
    ) -> Result<Snapshot> {
        let term = self.term(index).map_err(RaftError::Raft)?;
        let mut snap = Snapshot { data: data.into(), ..Default::default() };
        let meta = snap.mut_metadata();
        meta.index = index;
        meta.term = term;
        meta.set_conf_state(conf_state);
        let bytes = snap.write_to_bytes().map_err(RaftError::pb("Snapshot"))?;
        self.put_meta(KEY_SNAPSHOT, &bytes)?;
        self.inner.cache.write().snapshot_meta = snap.get_metadata().clone();
        self.compact(index.saturating_add(1))?;
        Ok(snap)
    }

    /// Replaces the log with a snapshot received from the leader: the log is emptied, the
    /// truncation point, `ConfState` and commit index move to the snapshot. Errors with
    /// [`RaftError::SnapshotOutOfDate`] if the snapshot is older than the first log index.
    pub fn apply_snapshot(&self, snap: &Snapshot) -> Result<()> {
        let meta = snap.get_metadata();
        let (first, last) = {
            let c = self.inner.cache.read();
            (c.first_index(), c.last_index)
        };
        if first > meta.index {
            return Err(RaftError::SnapshotOutOfDate { snapshot: meta.index, first });
        }
        let bytes = snap.write_to_bytes().map_err(RaftError::pb("Snapshot"))?;
        let mut hs = self.hard_state();
        hs.term = hs.term.max(meta.term);
        hs.commit = meta.index;
        let hs_bytes = hs.write_to_bytes().map_err(RaftError::pb("HardState"))?;
        let cs = meta.get_conf_state().clone();
        let cs_bytes = cs.write_to_bytes().map_err(RaftError::pb("ConfState"))?;

        let tx = self.inner.db.begin_rw_txn().map_err(self.mdbx())?;
        let table = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
        for idx in first..=last {
            tx.del(&table, be(idx), None).map_err(self.mdbx())?;
        }
        let m = tx.open_table(Some(META)).map_err(self.mdbx())?;
        let mut trunc = be(meta.index).to_vec();
        trunc.extend_from_slice(&be(meta.term));
        tx.put(&m, KEY_TRUNCATED, &trunc, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.put(&m, KEY_SNAPSHOT, &bytes, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.put(&m, KEY_HARD_STATE, &hs_bytes, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.put(&m, KEY_CONF_STATE, &cs_bytes, WriteFlags::empty()).map_err(self.mdbx())?;
        tx.put(&m, KEY_APPLIED, be(meta.index), WriteFlags::empty()).map_err(self.mdbx())?;
        tx.commit().map_err(self.mdbx())?;

        let mut c = self.inner.cache.write();
        c.truncated = (meta.index, meta.term);
        c.last_index = meta.index;
        c.snapshot_meta = meta.clone();
        c.hard_state = hs;
        c.conf_state = cs;
        c.applied = meta.index;
        Ok(())
    }

    fn read_entries(&self, low: u64, high: u64, max_size: Option<u64>) -> Result<Vec<Entry>> {
        let tx = self.inner.db.begin_ro_txn().map_err(self.mdbx())?;
        let table = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
        let mut out =
            Vec::with_capacity(usize::try_from(high.saturating_sub(low)).unwrap_or(0).min(1024));
        let mut size: u64 = 0;
        for idx in low..high {
            let v = tx
                .get::<Vec<u8>>(&table, &be(idx))
                .map_err(self.mdbx())?
                .ok_or(RaftError::Corrupt("missing log entry inside [first, last]"))?;
            let body = v.get(8..).ok_or(RaftError::Corrupt("short log entry"))?;
            size = size.saturating_add(body.len() as u64);
            if !out.is_empty() && max_size.is_some_and(|m| size > m) {
                break;
            }
            out.push(Entry::parse_from_bytes(body).map_err(RaftError::pb("Entry"))?);
        }
        Ok(out)
    }

    fn read_term(&self, idx: u64) -> Result<u64> {
        let tx = self.inner.db.begin_ro_txn().map_err(self.mdbx())?;
        let table = tx.open_table(Some(ENTRIES)).map_err(self.mdbx())?;
        let v = tx
            .get::<Vec<u8>>(&table, &be(idx))
            .map_err(self.mdbx())?
            .ok_or(RaftError::Corrupt("missing log entry inside [first, last]"))?;
        read_u64(&v)
    }
}

impl Storage for MdbxStorage {
    fn initial_state(&self) -> raft::Result<RaftState> {
        let c = self.inner.cache.read();
        Ok(RaftState::new(c.hard_state.clone(), c.conf_state.clone()))
    }

    fn entries(
        &self,
        low: u64,
        high: u64,
        max_size: impl Into<Option<u64>>,
        _context: GetEntriesContext,
    ) -> raft::Result<Vec<Entry>> {
        let (first, last) = {
            let c = self.inner.cache.read();
            (c.first_index(), c.last_index)
        };
        if low < first {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if high > last.saturating_add(1) {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        if low >= high {
            return Ok(Vec::new());
        }
        self.read_entries(low, high, max_size.into()).map_err(other)
    }

    fn term(&self, idx: u64) -> raft::Result<u64> {
        let (truncated, last) = {
            let c = self.inner.cache.read();
            (c.truncated, c.last_index)
        };
        if idx == truncated.0 {
            return Ok(truncated.1);
        }
        if idx < truncated.0 {
            return Err(raft::Error::Store(StorageError::Compacted));
        }
        if idx > last {
            return Err(raft::Error::Store(StorageError::Unavailable));
        }
        self.read_term(idx).map_err(other)
    }

    fn first_index(&self) -> raft::Result<u64> {
        Ok(self.inner.cache.read().first_index())
    }

    fn last_index(&self) -> raft::Result<u64> {
        Ok(self.inner.cache.read().last_index)
    }

    fn snapshot(&self, request_index: u64, _to: u64) -> raft::Result<Snapshot> {
        let meta_index = self.inner.cache.read().snapshot_meta.index;
        if meta_index == 0 || meta_index < request_index {
            return Err(raft::Error::Store(StorageError::SnapshotTemporarilyUnavailable));
        }
        let load = || -> Result<Snapshot> {
            let tx = self.inner.db.begin_ro_txn().map_err(self.mdbx())?;
            let meta = tx.open_table(Some(META)).map_err(self.mdbx())?;
            let v = tx
                .get::<Vec<u8>>(&meta, KEY_SNAPSHOT)
                .map_err(self.mdbx())?
                .ok_or(RaftError::Corrupt("snapshot metadata without snapshot"))?;
            Snapshot::parse_from_bytes(&v).map_err(RaftError::pb("Snapshot"))
        };
        load().map_err(other)
    }
}
