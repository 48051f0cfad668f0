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

use std::{
    collections::{BTreeMap, VecDeque},
    sync::Arc,
};

use alloy_primitives::{B256, map::HashMap};

use parking_lot::{Mutex, RwLock};

use smallvec::SmallVec;

use crate::{db::tables, node_batch::IndexedBatch};

/// The tables whose writes go through the cache, in index order. Trie nodes are not held in
/// the per-key tables: each block's nodes stay together as one [`IndexedBatch`] under the
/// block's sequence (their location), and are written under `location ‖ hash`.
pub(crate) const DEFERRED: [&str; 6] = [
    tables::TRIE_NODES,
    tables::ACCOUNTS,
    tables::STORAGE,
    tables::CODE,
    tables::TX_LOOKUP,
    tables::TRIE_ROOTS,
];
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

/// The location and hash of a trie node's disk key ([`node_key`]).
pub(crate) fn split_node_key(key: &NodeKey) -> (u64, B256) {
    let mut loc = [0u8; 8];
    loc.copy_from_slice(&key[..8]);
    (u64::from_be_bytes(loc), B256::from_slice(&key[8..]))
}

/// The index of a deferred table.
pub(crate) fn deferred_index(table: &str) -> Option<usize> {
    let index = crate::db::position(&DEFERRED, table);
    (index < DEFERRED.len()).then_some(index)
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

/// One block's deferred writes (`None` deletes), plus the storage prefixes it wiped first,
/// and its new trie nodes (located at the block's sequence).
#[derive(Debug, Default)]
pub(crate) struct Layer {
    pub writes: Vec<(usize, Vec<u8>, Option<Vec<u8>>)>,
    pub wipes: Vec<[u8; PREFIX]>,
    pub nodes: Option<Arc<IndexedBatch>>,
}

/// A value as held in memory (`None`: deleted).
pub(crate) type Value = Option<Arc<[u8]>>;
/// Most keys have one version in memory: it is held inline, as is the key (at most 52 bytes:
/// address ‖ slot), so a lookup touches the map's entry and the value only.
type Versions = SmallVec<[(u64, Value); 1]>;
type Key = SmallVec<[u8; 52]>;

#[derive(Debug, Default)]
struct Inner {
    /// Per-key versions of every deferred table but the trie nodes (whose slot stays empty).
    tables: [HashMap<Key, Versions>; 6],
    /// Trie nodes: each block's, by sequence (= their location).
    nodes: BTreeMap<u64, Arc<IndexedBatch>>,
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

/// What a flush writes: the newest version of every key in `(persisted, upto]`, and the trie
/// nodes of every block in that range (by sequence, ascending).
#[derive(Debug, Default)]
pub(crate) struct FlushSet {
    pub upto: u64,
    pub wipes: Vec<[u8; PREFIX]>,
    pub writes: Vec<(usize, Box<[u8]>, Value)>,
    pub nodes: Vec<(u64, Arc<IndexedBatch>)>,
}

impl FlushSet {
    /// The stored form of the node with this hash located at `seq`, among the set's nodes.
    pub(crate) fn node(&self, seq: u64, hash: &B256) -> Option<&[u8]> {
        let at = self.nodes.binary_search_by_key(&seq, |(s, _)| *s).ok()?;
        self.nodes.get(at).and_then(|(_, batch)| batch.get(hash))
    }
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

    /// The stored form of the trie node with this hash written at exactly `seq`, if `seq` is
    /// in the reader's view (a node located at or below `view.lo` is on disk; nodes are never
    /// deleted).
    pub(crate) fn node_at(&self, hash: &B256, seq: u64, view: View) -> Option<Vec<u8>> {
        self.with_node_at(hash, seq, view, <[u8]>::to_vec)
    }

    /// [`Cache::node_at`], handing the bytes to `f` without copying them.
    pub(crate) fn with_node_at<T>(
        &self,
        hash: &B256,
        seq: u64,
        view: View,
        f: impl FnOnce(&[u8]) -> T,
    ) -> Option<T> {
        if seq <= view.lo || seq > view.hi {
            return None;
        }
        let inner = self.inner.read();
        inner.nodes.get(&seq)?.get(hash).map(f)
    }

    /// Publishes a block's writes under `seq` (not yet visible: readers' `hi` is below it until
    /// the block's MDBX commit moves the head).
    pub(crate) fn publish(&self, seq: u64, layer: Layer) {
        let mut inner = self.inner.write();
        for prefix in layer.wipes {
            inner.wipes.entry(prefix).or_default().push(seq);
        }
        if let Some(nodes) = layer.nodes {
            let nodes = match inner.nodes.get(&seq) {
                // a second publish at one sequence (not done today): both, the later winning
                Some(earlier) => Arc::new(earlier.merged(&nodes)),
                None => nodes,
            };
            let added = nodes.bytes();
            if let Some(replaced) = inner.nodes.insert(seq, nodes) {
                inner.bytes = inner.bytes.saturating_sub(replaced.bytes());
            }
            inner.bytes = inner.bytes.saturating_add(added);
        }
        for (table, key, value) in layer.writes {
            let added = key.len() + value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD;
            let value: Option<Arc<[u8]>> = value.map(Arc::from);
            let versions = inner.tables[table].entry(Key::from_vec(key)).or_default();
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
        if let Some(nodes) = inner.nodes.remove(&seq) {
            inner.bytes = inner.bytes.saturating_sub(nodes.bytes());
        }
        let persisted = inner.persisted;
        let newest = inner.tables.iter().flat_map(|t| t.values()).flatten().map(|(s, _)| *s).max();
        let newest = newest.max(inner.nodes.last_key_value().map(|(s, _)| *s));
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
        if view.hi > view.lo {
            // every block's nodes: each is a node at its own location (nodes are never deleted)
            set.nodes = inner
                .nodes
                .range(view.lo.saturating_add(1)..=view.hi)
                .map(|(seq, nodes)| (*seq, nodes.clone()))
                .collect();
        }
        for (index, table) in inner.tables.iter().enumerate() {
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
                set.writes.push((index, Box::from(&key[..]), version.1.clone()));
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
        // whole blocks' nodes at once
        let kept = upto.checked_add(1).map(|above| inner.nodes.split_off(&above));
        let mut freed: usize = inner.nodes.values().map(|nodes| nodes.bytes()).sum();
        inner.nodes = kept.unwrap_or_default();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeBatch;

    fn nodes(nodes: &[(B256, &[u8])]) -> Arc<IndexedBatch> {
        let batch: NodeBatch = nodes.iter().map(|(h, b)| (*h, b.to_vec())).collect();
        Arc::new(IndexedBatch::new(Arc::new(batch)))
    }

    fn layer(batch: &Arc<IndexedBatch>) -> Layer {
        Layer { nodes: Some(batch.clone()), ..Default::default() }
    }

    const A: B256 = B256::repeat_byte(0xa);
    const B: B256 = B256::repeat_byte(0xb);

    /// Publishes blocks 1 to 3, block `i` writing A = [i] and B = [i, i]; returns the batches.
    fn publish_three_blocks(cache: &Cache) -> Vec<Arc<IndexedBatch>> {
        let batches: Vec<_> = (1..=3u8).map(|i| nodes(&[(A, &[i]), (B, &[i, i])])).collect();
        for (seq, batch) in (1..=3u64).zip(&batches) {
            cache.publish(seq, layer(batch));
        }
        batches
    }

    #[test]
    fn node_at_sees_only_its_location_inside_the_view() {
        let cache = Cache::default();
        cache.publish(1, layer(&nodes(&[(A, &[1])])));
        cache.publish(2, layer(&nodes(&[(A, &[2]), (B, &[3])])));
        let all = View { lo: 0, hi: 2 };
        assert_eq!(cache.node_at(&A, 1, all), Some(vec![1]));
        assert_eq!(cache.node_at(&A, 2, all), Some(vec![2]));
        assert_eq!(cache.node_at(&B, 2, all), Some(vec![3]));
        assert_eq!(cache.node_at(&B, 1, all), None, "not written at that location");
        assert_eq!(cache.node_at(&B, 2, View { lo: 0, hi: 1 }), None, "above the view");
        assert_eq!(cache.node_at(&A, 1, View { lo: 1, hi: 2 }), None, "on disk for that view");
        assert_eq!(cache.node_at(&A, 3, View { lo: 0, hi: 3 }), None, "never published");
        assert_eq!(cache.node_at(&A, 2, View { lo: 2, hi: 2 }), None, "empty view");
        assert_eq!(cache.with_node_at(&B, 2, all, <[u8]>::len), Some(1));
    }

    #[test]
    fn unpublish_drops_exactly_that_sequence() {
        let cache = Cache::default();
        let batches = publish_three_blocks(&cache);
        let all = View { lo: 0, hi: 3 };
        let (held, blocks) = cache.pending();
        assert_eq!(blocks, 3);
        assert_eq!(held, batches.iter().map(|b| b.bytes()).sum::<usize>());
        cache.unpublish(2);
        assert_eq!(cache.node_at(&A, 2, all), None);
        assert_eq!(cache.node_at(&B, 2, all), None);
        assert_eq!(cache.node_at(&A, 1, all), Some(vec![1]));
        assert_eq!(cache.node_at(&B, 3, all), Some(vec![3, 3]));
        assert_eq!(cache.pending(), (held - batches[1].bytes(), 3));
        cache.unpublish(3);
        assert_eq!(cache.pending(), (batches[0].bytes(), 1), "the newest is block 1 again");
        let set = cache.flush_set(u64::MAX);
        assert_eq!(set.upto, 1);
        assert_eq!(set.nodes.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1]);
    }

    #[test]
    fn a_flush_takes_the_committed_blocks_and_prune_frees_them() {
        let cache = Cache::default();
        let batches = publish_three_blocks(&cache);
        // block 3 is published but not committed
        let set = cache.flush_set(2);
        assert_eq!(set.upto, 2);
        assert_eq!(set.nodes.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(set.node(2, &B), Some(&[2u8, 2][..]));
        assert_eq!(set.node(3, &B), None);
        drop(set);
        // a reader from before the flush keeps the flushed blocks in memory
        let reader = cache.epoch();
        cache.flushed(2);
        let (held, _) = cache.pending();
        assert_eq!(held, batches.iter().map(|b| b.bytes()).sum::<usize>());
        assert_eq!(cache.node_at(&A, 1, View { lo: 0, hi: 3 }), Some(vec![1]), "still held");
        drop(reader);
        cache.maybe_prune();
        assert_eq!(cache.pending(), (batches[2].bytes(), 1), "blocks 1 and 2 freed");
        assert_eq!(cache.node_at(&A, 1, View { lo: 0, hi: 3 }), None);
        assert_eq!(cache.node_at(&A, 3, View { lo: 2, hi: 3 }), Some(vec![3]));
        // the batch published to the cache is shared, not copied
        assert_eq!(Arc::strong_count(&batches[2]), 2);
        assert_eq!(Arc::strong_count(&batches[0]), 1);
    }

    #[test]
    fn a_second_publish_at_one_sequence_keeps_both_the_later_winning() {
        let cache = Cache::default();
        cache.publish(1, layer(&nodes(&[(A, &[1])])));
        cache.publish(1, layer(&nodes(&[(A, &[2]), (B, &[3])])));
        let all = View { lo: 0, hi: 1 };
        assert_eq!(cache.node_at(&A, 1, all), Some(vec![2]));
        assert_eq!(cache.node_at(&B, 1, all), Some(vec![3]));
        let set = cache.flush_set(1);
        let (held, _) = cache.pending();
        assert_eq!(set.nodes.len(), 1);
        assert_eq!(held, set.nodes[0].1.bytes());
    }
}
