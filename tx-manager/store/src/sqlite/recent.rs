//! The payloads this process wrote most recently, kept in memory so the reads that follow a
//! write (`/sendsignedtx` reading its `/storeraw`, a node fetching a block's payloads right
//! after they were pushed) are answered without a SQLite query and its thread hand-offs.
//!
//! Only writer tasks update it, after a commit succeeded and in commit order (a writer holds
//! [`Recent::commit_order`] from before its `COMMIT` until its updates are in), so a delete can
//! never be overtaken by an older save. Reads never insert. Every store opened on the same file
//! in this process shares one cache ([`Recent::for_file`]). Another process writing the same
//! file would not be seen: qtm's SQLite file belongs to one qtm (qtm scales out only on
//! PostgreSQL, which has no such cache).

use std::{
    collections::{HashMap, VecDeque},
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Weak},
};

use parking_lot::Mutex;

use crate::{
    model::{StoredPayload, StoredRawPayload},
    rows::unique_recipients,
    sqlite::write_ops::WriteOp,
};

/// The caches of the files open in this process.
static BY_FILE: LazyLock<Mutex<HashMap<PathBuf, Weak<Recent>>>> = LazyLock::new(Default::default);

/// Bytes of payloads kept (payloads and raw payloads together).
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
enum Entry {
    Payload(StoredPayload),
    Raw(StoredRawPayload),
}

impl Entry {
    fn weight(&self) -> usize {
        match self {
            Entry::Payload(p) => p.encoded_payload.len() + 32 * p.recipients.len() + 128,
            Entry::Raw(r) => r.encrypted_payload.len() + r.encrypted_key.len() + 128,
        }
    }
}

/// Keys are (is raw, hash): a payload and a raw payload may share a hash.
type Key = (bool, [u8; 64]);

#[derive(Debug, Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// Insertion order, for eviction (may hold keys already removed or re-inserted).
    order: VecDeque<Key>,
    bytes: usize,
}

/// The cache; shared by the store's clones and its writer task.
#[derive(Debug, Default)]
pub(crate) struct Recent {
    inner: Mutex<Inner>,
    /// Held by a writer from before its `COMMIT` until its updates are in.
    pub(crate) commit_order: tokio::sync::Mutex<()>,
}

impl Recent {
    /// The cache of the database file at `path`, shared by every store open on it. Keyed by
    /// the canonical directory (which exists; the file may not yet) and the file name.
    pub(crate) fn for_file(path: &Path) -> Arc<Recent> {
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let key = match (std::fs::canonicalize(dir), path.file_name()) {
            (Ok(dir), Some(name)) => dir.join(name),
            _ => path.to_owned(),
        };
        let mut files = BY_FILE.lock();
        files.retain(|_, cache| cache.strong_count() > 0);
        if let Some(cache) = files.get(&key).and_then(Weak::upgrade) {
            return cache;
        }
        let cache = Arc::new(Recent::default());
        files.insert(key, Arc::downgrade(&cache));
        cache
    }

    /// A committed payload, if still held.
    pub(crate) fn payload(&self, hash: &[u8; 64]) -> Option<StoredPayload> {
        match self.inner.lock().entries.get(&(false, *hash)) {
            Some(Entry::Payload(p)) => Some(p.clone()),
            _ => None,
        }
    }

    /// A committed raw payload, if still held.
    pub(crate) fn raw(&self, hash: &[u8; 64]) -> Option<StoredRawPayload> {
        match self.inner.lock().entries.get(&(true, *hash)) {
            Some(Entry::Raw(r)) => Some(r.clone()),
            _ => None,
        }
    }

    /// Records the effect of `op`, which was just committed (called by the writer task only).
    pub(crate) fn committed(&self, op: &WriteOp) {
        let mut inner = self.inner.lock();
        match op {
            WriteOp::Save(p) | WriteOp::SaveIfUnchanged(p, _) => {
                inner.insert((false, p.hash), Entry::Payload(as_stored(p)));
            }
            WriteOp::SaveBatch(ps) => {
                for p in ps {
                    inner.insert((false, p.hash), Entry::Payload(as_stored(p)));
                }
            }
            WriteOp::SaveRaw(r) => inner.insert((true, r.hash), Entry::Raw(r.clone())),
            WriteOp::Delete(hash) => inner.remove(&(false, *hash)),
            WriteOp::DeleteRaw(hash) => inner.remove(&(true, *hash)),
            WriteOp::SavePrivacyGroup(_) => {}
        }
    }
}

/// `p` as a query would read it back (duplicate recipients stored once).
fn as_stored(p: &StoredPayload) -> StoredPayload {
    StoredPayload { recipients: unique_recipients(&p.recipients), ..p.clone() }
}

impl Inner {
    fn insert(&mut self, key: Key, entry: Entry) {
        self.remove(&key);
        self.bytes += entry.weight();
        self.entries.insert(key, entry);
        self.order.push_back(key);
        while self.bytes > MAX_BYTES {
            let Some(oldest) = self.order.pop_front() else { break };
            self.remove(&oldest);
        }
        // stale keys in `order` (removed or re-inserted) must not grow it without bound
        if self.order.len() > 2 * self.entries.len() + 1024 {
            let entries = &self.entries;
            let mut seen = std::collections::HashSet::new();
            let mut kept: VecDeque<Key> = self
                .order
                .iter()
                .rev()
                .filter(|k| entries.contains_key(*k) && seen.insert(**k))
                .copied()
                .collect();
            kept.make_contiguous().reverse();
            self.order = kept;
        }
    }

    fn remove(&mut self, key: &Key) {
        if let Some(old) = self.entries.remove(key) {
            self.bytes -= old.weight();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::PayloadCodec;

    fn payload(n: u8, size: usize) -> StoredPayload {
        StoredPayload {
            hash: [n; 64],
            encoded_payload: vec![n; size],
            codec: PayloadCodec::Legacy,
            recipients: vec![[1; 32]],
            sender: [2; 32],
            timestamp: 0,
        }
    }

    #[test]
    fn saves_are_found_deletes_are_not_and_the_oldest_go_first() {
        let recent = Recent::default();
        recent.committed(&WriteOp::Save(payload(1, 100)));
        assert_eq!(recent.payload(&[1; 64]), Some(payload(1, 100)));
        assert_eq!(recent.raw(&[1; 64]), None, "payloads and raw payloads are apart");
        let mut twice = payload(3, 10);
        twice.recipients = vec![[5; 32], [5; 32], [6; 32]];
        recent.committed(&WriteOp::Save(twice));
        assert_eq!(recent.payload(&[3; 64]).map(|p| p.recipients), Some(vec![[5; 32], [6; 32]]));
        recent.committed(&WriteOp::Delete([1; 64]));
        assert_eq!(recent.payload(&[1; 64]), None);
        // a replaced payload is the new one
        recent.committed(&WriteOp::Save(payload(2, 100)));
        let mut merged = payload(2, 100);
        merged.recipients.push([3; 32]);
        recent.committed(&WriteOp::SaveIfUnchanged(merged.clone(), None));
        assert_eq!(recent.payload(&[2; 64]), Some(merged));
        // over the byte bound the oldest entries are dropped, the newest kept
        let big = MAX_BYTES / 4;
        for n in 10..20u8 {
            recent.committed(&WriteOp::Save(payload(n, big)));
        }
        assert_eq!(recent.payload(&[10; 64]), None);
        assert!(recent.payload(&[19; 64]).is_some());
        let inner = recent.inner.lock();
        assert!(inner.bytes <= MAX_BYTES);
        assert_eq!(inner.bytes, inner.entries.values().map(Entry::weight).sum::<usize>());
    }

    #[test]
    fn stores_on_one_file_share_a_cache_however_the_path_is_spelt() {
        let dir = tempfile::tempdir().unwrap();
        let a = Recent::for_file(&dir.path().join("db.sqlite"));
        let b = Recent::for_file(&dir.path().join(".").join("db.sqlite"));
        assert!(Arc::ptr_eq(&a, &b), "the file does not exist yet, its directory does");
        let other = Recent::for_file(&dir.path().join("other.sqlite"));
        assert!(!Arc::ptr_eq(&a, &other));
    }

    #[test]
    fn the_eviction_order_stays_bounded_under_rewrites() {
        let recent = Recent::default();
        for _ in 0..10_000 {
            recent.committed(&WriteOp::Save(payload(7, 10)));
        }
        let inner = recent.inner.lock();
        assert_eq!(inner.entries.len(), 1);
        assert!(inner.order.len() <= 2 * inner.entries.len() + 1024 + 1);
    }
}
