//! The write-back state cache: recent blocks' state writes held in memory over MDBX.
//!
//! Trie nodes, latest-state accounts/storage, code and transaction lookups are random-key
//! writes; writing them durably every block dirties thousands of B-tree pages. A block commit
//! therefore writes only its header, body, receipts and head pointer durably and publishes its
//! state writes here, tagged with the block's sequence number (`number + 1`). Every
//! [`crate::db::Env`] flush writes the newest version of each key in one MDBX transaction,
//! together with the `state` meta key (the block whose state is now on disk). After a crash the
//! chain re-executes the blocks after that one (`qrs-chain`'s `Chain::open`).
//!
//! Readers see a consistent snapshot: a [`View`] is `(lo, hi]`, where `lo` is the persisted
//! sequence and `hi` the head's, both read from the reader's own MDBX snapshot; versions outside
//! that range are ignored. Versions already on disk are pruned only once no reader that began
//! before their flush is alive ([`Epoch`] tokens).

use std::{collections::VecDeque, sync::Arc};

use alloy_primitives::map::HashMap;

use parking_lot::{Mutex, RwLock};

use crate::db::tables;

/// The tables whose writes go through the cache, in index order. Trie nodes are held by hash
/// (with every version: a version's sequence is the node's location) and written under
/// `location ‖ hash`.
pub(crate) const DEFERRED: [&str; 6] = [
    tables::TRIE_NODES,
    tables::ACCOUNTS,
    tables::STORAGE,
    tables::CODE,
    tables::TX_LOOKUP,
    tables::TRIE_ROOTS,
];
/// Index of the trie-node table in [`DEFERRED`].
pub(crate) const NODES_INDEX: usize = 0;
const STORAGE_INDEX: usize = 2;
/// Index of the trie-root table in [`DEFERRED`].
pub(crate) const ROOTS_INDEX: usize = 5;
/// Storage keys start with the 20-byte address a wipe applies to.
const PREFIX: usize = 20;
/// Rough per-entry bookkeeping overhead, for the memory cap.
const ENTRY_OVERHEAD: usize = 64;

/// The disk key of a trie node: its location (big-endian, so later blocks' nodes sort after
/// earlier ones) and its 32-byte hash (a shorter slice is zero-padded).
pub(crate) fn node_key(loc: u64, hash: &[u8]) -> NodeKey {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&loc.to_be_bytes());
    let len = hash.len().min(32);
    key[8..8 + len].copy_from_slice(&hash[..len]);
    key
}

/// The index of a deferred table.
pub(crate) fn deferred_index(table: &str) -> Option<usize> {
    DEFERRED.iter().position(|t| *t == table)
}

/// Held by every reader; a flush is pruned from memory once its epoch has no readers left.
#[derive(Debug, Default)]
pub(crate) struct Epoch;

/// The range of sequence numbers a reader sees from the cache: `lo < seq <= hi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    pub lo: u64,
    pub hi: u64,
}

/// One block's deferred writes (`None` deletes), plus the storage prefixes it wiped first.
#[derive(Debug, Default)]
pub(crate) struct Layer {
    pub writes: Vec<(usize, Vec<u8>, Option<Vec<u8>>)>,
    pub wipes: Vec<[u8; PREFIX]>,
}

/// A value as held in memory (`None`: deleted).
pub(crate) type Value = Option<Arc<[u8]>>;
type Versions = Vec<(u64, Value)>;

#[derive(Debug, Default)]
struct Inner {
    tables: [HashMap<Box<[u8]>, Versions>; 6],
    wipes: HashMap<[u8; PREFIX], Vec<u64>>,
    bytes: usize,
    /// The newest published sequence.
    newest: u64,
    /// The sequence on disk (everything at or below is persisted).
    persisted: u64,
    /// Flushes waiting for their readers: (epoch token, persisted sequence).
    retired: VecDeque<(Arc<Epoch>, u64)>,
}

/// The disk key of a trie node: [`node_key`].
pub(crate) type NodeKey = [u8; 40];

/// What a flush writes: the newest version of every key in `(persisted, upto]`, and every
/// trie node version in that range.
#[derive(Debug, Default)]
pub(crate) struct FlushSet {
    pub upto: u64,
    pub wipes: Vec<[u8; PREFIX]>,
    pub writes: Vec<(usize, Box<[u8]>, Value)>,
    pub nodes: Vec<(NodeKey, Arc<[u8]>)>,
}

/// The shared cache.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    inner: RwLock<Inner>,
    epoch: Mutex<Arc<Epoch>>,
}

/// Result of a cache lookup.
pub(crate) enum Lookup {
    /// Not in the cache for this view: read MDBX.
    Miss,
    /// The key was deleted.
    Deleted,
    /// The value.
    Found(Arc<[u8]>),
}

/// The newest version visible in `view`.
fn latest_in(versions: &[(u64, Value)], view: View) -> Option<(u64, &Value)> {
    versions.iter().rev().find(|(seq, _)| *seq > view.lo && *seq <= view.hi).map(|(s, v)| (*s, v))
}

fn latest_wipe(wipes: &[u64], lo: u64, hi: u64) -> Option<u64> {
    wipes.iter().rev().copied().find(|seq| *seq > lo && *seq <= hi)
}

impl Cache {
    /// The token a new reader must hold (taken BEFORE its MDBX snapshot begins).
    pub(crate) fn epoch(&self) -> Arc<Epoch> {
        self.epoch.lock().clone()
    }

    /// Sets the persisted sequence found on disk at open.
    pub(crate) fn set_persisted(&self, seq: u64) {
        let mut inner = self.inner.write();
        inner.persisted = seq;
        inner.newest = inner.newest.max(seq);
    }

    /// The persisted sequence.
    pub(crate) fn persisted(&self) -> u64 {
        self.inner.read().persisted
    }

    /// Bytes held and blocks not yet persisted.
    pub(crate) fn pending(&self) -> (usize, u64) {
        let inner = self.inner.read();
        (inner.bytes, inner.newest.saturating_sub(inner.persisted))
    }

    /// Looks a key up for a reader.
    pub(crate) fn get(&self, table: usize, key: &[u8], view: View) -> Lookup {
        if view.hi <= view.lo {
            return Lookup::Miss;
        }
        let inner = self.inner.read();
        let version = inner.tables[table].get(key).and_then(|v| latest_in(v, view));
        let wipe = if table == STORAGE_INDEX && !inner.wipes.is_empty() {
            key.get(..PREFIX)
                .and_then(|p| <[u8; PREFIX]>::try_from(p).ok())
                .and_then(|p| inner.wipes.get(&p))
                .and_then(|w| latest_wipe(w, view.lo, view.hi))
        } else {
            None
        };
        match (version, wipe) {
            (Some((seq, value)), wipe) if wipe.is_none_or(|w| seq >= w) => match value {
                Some(v) => Lookup::Found(v.clone()),
                None => Lookup::Deleted,
            },
            (_, Some(_)) => Lookup::Deleted,
            _ => Lookup::Miss,
        }
    }

    /// The version of a trie node written at exactly `seq`, if `seq` is in the reader's view
    /// (a node located at or below `view.lo` is on disk; nodes are never deleted).
    pub(crate) fn node_at(&self, hash: &[u8], seq: u64, view: View) -> Option<Arc<[u8]>> {
        if seq <= view.lo || seq > view.hi {
            return None;
        }
        let inner = self.inner.read();
        let versions = inner.tables[NODES_INDEX].get(hash)?;
        versions.iter().rev().find(|(s, _)| *s == seq).and_then(|(_, v)| v.clone())
    }

    /// Publishes a block's writes under `seq` (not yet visible: readers' `hi` is below it until
    /// the block's MDBX commit moves the head).
    pub(crate) fn publish(&self, seq: u64, layer: Layer) {
        let mut inner = self.inner.write();
        for prefix in layer.wipes {
            inner.wipes.entry(prefix).or_default().push(seq);
        }
        for (table, key, value) in layer.writes {
            let added = key.len() + value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD;
            let value: Option<Arc<[u8]>> = value.map(Arc::from);
            let versions = inner.tables[table].entry(key.into_boxed_slice()).or_default();
            match versions.last_mut() {
                Some(last) if last.0 == seq => last.1 = value,
                _ => versions.push((seq, value)),
            }
            inner.bytes = inner.bytes.saturating_add(added);
        }
        inner.newest = inner.newest.max(seq);
    }

    /// Drops everything published under `seq` (its MDBX commit failed).
    pub(crate) fn unpublish(&self, seq: u64) {
        let mut inner = self.inner.write();
        for table in &mut inner.tables {
            table.retain(|_, v| {
                v.retain(|(s, _)| *s != seq);
                !v.is_empty()
            });
        }
        inner.wipes.retain(|_, w| {
            w.retain(|s| *s != seq);
            !w.is_empty()
        });
        let persisted = inner.persisted;
        let newest = inner.tables.iter().flat_map(|t| t.values()).flatten().map(|(s, _)| *s).max();
        inner.newest = newest.unwrap_or(persisted).max(persisted);
    }

    /// What a flush of everything published so far must write.
    /// Only versions up to `committed` (the head's sequence on disk) are included.
    pub(crate) fn flush_set(&self, committed: u64) -> FlushSet {
        let inner = self.inner.read();
        let view = View { lo: inner.persisted, hi: inner.newest.min(committed) };
        let mut set = FlushSet { upto: view.hi.max(inner.persisted), ..Default::default() };
        let mut wiped_at: HashMap<[u8; PREFIX], u64> = HashMap::default();
        for (prefix, seqs) in &inner.wipes {
            if let Some(w) = latest_wipe(seqs, view.lo, view.hi) {
                set.wipes.push(*prefix);
                wiped_at.insert(*prefix, w);
            }
        }
        for (index, table) in inner.tables.iter().enumerate() {
            if index == NODES_INDEX {
                // every version: each one is a node at its own location (nodes are never deleted)
                for (hash, versions) in table {
                    for (seq, value) in versions {
                        if let (true, Some(value)) = (*seq > view.lo && *seq <= view.hi, value) {
                            set.nodes.push((node_key(*seq, hash), value.clone()));
                        }
                    }
                }
                continue;
            }
            for (key, versions) in table {
                let Some(version) = latest_in(versions, view) else {
                    continue;
                };
                if index == STORAGE_INDEX
                    && let Some(w) = key
                        .get(..PREFIX)
                        .and_then(|p| <[u8; PREFIX]>::try_from(p).ok())
                        .and_then(|p| wiped_at.get(&p))
                    && version.0 < *w
                {
                    continue; // the wipe already removes it
                }
                set.writes.push((index, key.clone(), version.1.clone()));
            }
        }
        set
    }

    /// Records that everything up to `upto` is on disk (called after the flush commit), and
    /// prunes earlier flushes whose readers are gone.
    pub(crate) fn flushed(&self, upto: u64) {
        let old = std::mem::replace(&mut *self.epoch.lock(), Arc::new(Epoch));
        let mut inner = self.inner.write();
        inner.persisted = inner.persisted.max(upto);
        inner.retired.push_back((old, upto));
        Self::prune(&mut inner);
    }

    /// Prunes retired flushes no reader can still need.
    pub(crate) fn maybe_prune(&self) {
        let ready = {
            let inner = self.inner.read();
            inner.retired.front().is_some_and(|(t, _)| Arc::strong_count(t) == 1)
        };
        if ready {
            Self::prune(&mut self.inner.write());
        }
    }

    fn prune(inner: &mut Inner) {
        let mut upto = None;
        while let Some((token, seq)) = inner.retired.front() {
            if Arc::strong_count(token) > 1 {
                break;
            }
            upto = Some(*seq);
            inner.retired.pop_front();
        }
        let Some(upto) = upto else { return };
        let mut freed = 0usize;
        for table in &mut inner.tables {
            table.retain(|key, versions| {
                versions.retain(|(seq, value)| {
                    let keep = *seq > upto;
                    if !keep {
                        freed += key.len() + value.as_ref().map_or(0, |v| v.len()) + ENTRY_OVERHEAD;
                    }
                    keep
                });
                !versions.is_empty()
            });
        }
        inner.wipes.retain(|_, seqs| {
            seqs.retain(|s| *s > upto);
            !seqs.is_empty()
        });
        inner.bytes = inner.bytes.saturating_sub(freed);
    }
}
