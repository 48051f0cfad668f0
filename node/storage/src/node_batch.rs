//! The trie nodes one commit writes at one location, held in one arena.
//!
//! A block's state-root computation produces thousands of nodes. Holding each as its own
//! allocation (and, in the write-back cache, as its own hash-map entry) makes publishing,
//! looking up, flushing and pruning them cost a pointer chase and an allocation per node.
//! A [`NodeBatch`] keeps their bytes back to back in a few large buffers (one, in practice),
//! with one small fixed-size entry per node; [`IndexedBatch`] adds a hash index built once,
//! which is how the cache holds a block's nodes.

use std::sync::Arc;

use alloy_primitives::{B256, map::B256Map};

use crate::trie::NodeSink;

/// The most bytes one arena segment holds: entries address their bytes with `u32` offsets.
const SEGMENT_LIMIT: usize = u32::MAX as usize;

/// An entry's `len` when the node's length does not fit a `u32` (the node then fills a
/// segment of its own, from offset 0).
const WHOLE_SEGMENT: u32 = u32::MAX;

/// The first capacity of a shared segment (it grows by doubling up to the limit).
const INITIAL_SEGMENT: usize = 16 << 10;

/// Where a node's bytes are: segment, offset in it, length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    segment: u32,
    start: u32,
    len: u32,
}

/// The new trie nodes of one commit, all at one location, in their stored form (see
/// [`crate::trie::Loc`]): their bytes back to back in one arena, in the order they were put.
///
/// Cheap to share once built (the state update holds it in an [`Arc`]); iterate it with
/// [`NodeBatch::iter`].
#[derive(Debug, Clone)]
pub struct NodeBatch {
    /// The arena, in segments of at most `limit` bytes (a node longer than that gets a
    /// segment of its own).
    segments: Vec<Vec<u8>>,
    /// Whether the last segment still takes more nodes.
    open: bool,
    entries: Vec<(B256, Span)>,
    limit: usize,
}

impl Default for NodeBatch {
    fn default() -> Self {
        Self::with_segment_limit(SEGMENT_LIMIT)
    }
}

impl NodeBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty batch with room for `nodes` nodes of `bytes` bytes in all, allocated up front
    /// (a block's batch is sized like the previous block's: growing a ~0.5 MiB arena by
    /// doubling copies it several times and touches fresh pages each time).
    pub fn with_capacity(bytes: usize, nodes: usize) -> Self {
        let mut batch = Self::default();
        batch.entries.reserve(nodes);
        if bytes > 0 {
            batch.segments.push(Vec::with_capacity(bytes.min(batch.limit)));
            batch.open = true;
        }
        batch
    }

    /// The bytes of the nodes put.
    pub fn byte_len(&self) -> usize {
        self.segments.iter().map(Vec::len).sum()
    }

    /// An empty batch whose arena segments hold at most `limit` bytes (tests use a small one).
    fn with_segment_limit(limit: usize) -> Self {
        Self {
            segments: Vec::new(),
            open: false,
            entries: Vec::new(),
            limit: limit.clamp(1, SEGMENT_LIMIT),
        }
    }

    /// Adds a node (its hash and stored form). Putting a hash again adds another entry;
    /// the cache's index keeps the last one.
    pub fn put(&mut self, hash: B256, stored: &[u8]) {
        let len = stored.len();
        // shorter than a segment: shares one (every offset then fits a u32)
        let shared = len < self.limit;
        let appendable = shared
            && self.open
            && self
                .segments
                .last()
                .is_some_and(|arena| len <= self.limit.saturating_sub(arena.len()));
        if !appendable {
            // the first segment, or the last one is full or taken by one long node
            let capacity = if shared { len.max(INITIAL_SEGMENT).min(self.limit) } else { len };
            self.segments.push(Vec::with_capacity(capacity));
            self.open = shared;
        }
        let segment = self.segments.len().saturating_sub(1);
        let Some(arena) = self.segments.last_mut() else { return };
        let start = arena.len();
        arena.extend_from_slice(stored);
        // `start + len <= limit <= u32::MAX` in a shared segment; a long node starts at 0
        let (Ok(segment), Ok(start)) = (u32::try_from(segment), u32::try_from(start)) else {
            // 4 billion segments, or more than 4 GiB in one: unreachable (see `limit`)
            tracing::error!(target: "storage", segment, start, "trie node batch overflow; node dropped");
            return;
        };
        let len = u32::try_from(len).unwrap_or(WHOLE_SEGMENT);
        self.entries.push((hash, Span { segment, start, len }));
    }

    /// The number of nodes put (a hash put twice counts twice).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no node was put.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The nodes in the order they were put: (hash, stored form).
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (B256, &[u8])> + '_ {
        self.entries.iter().map(|(hash, span)| (*hash, self.bytes(*span)))
    }

    /// A copy with every hash passed through `f` (benchmarks make fresh keys this way).
    pub fn map_hashes(&self, mut f: impl FnMut(B256) -> B256) -> Self {
        let mut copy = self.clone();
        for (hash, _) in &mut copy.entries {
            *hash = f(*hash);
        }
        copy
    }

    fn bytes(&self, span: Span) -> &[u8] {
        let Some(segment) = self.segments.get(span.segment as usize) else { return &[] };
        let start = span.start as usize;
        let end = if span.len == WHOLE_SEGMENT { segment.len() } else { start + span.len as usize };
        segment.get(start..end).unwrap_or_default()
    }

    /// Heap bytes held (for the cache's memory cap).
    fn heap_bytes(&self) -> usize {
        self.segments.iter().map(Vec::capacity).sum::<usize>()
            + self.segments.capacity() * size_of::<Vec<u8>>()
            + self.entries.capacity() * size_of::<(B256, Span)>()
    }
}

impl NodeSink for NodeBatch {
    fn put(&mut self, hash: B256, stored: &[u8]) {
        Self::put(self, hash, stored);
    }
}

impl FromIterator<(B256, Vec<u8>)> for NodeBatch {
    fn from_iter<I: IntoIterator<Item = (B256, Vec<u8>)>>(iter: I) -> Self {
        let mut batch = Self::default();
        for (hash, stored) in iter {
            batch.put(hash, &stored);
        }
        batch
    }
}

/// A [`NodeBatch`] with its hash index: how the write-back cache holds one block's nodes.
/// When a hash was put more than once, the last put wins (as a second write of the same
/// key would).
#[derive(Debug)]
pub(crate) struct IndexedBatch {
    batch: Arc<NodeBatch>,
    index: B256Map<Span>,
    bytes: usize,
}

impl IndexedBatch {
    /// Indexes `batch` (one pass, the map sized once).
    pub(crate) fn new(batch: Arc<NodeBatch>) -> Self {
        let mut index = B256Map::with_capacity_and_hasher(batch.len(), Default::default());
        for (hash, span) in &batch.entries {
            index.insert(*hash, *span);
        }
        let bytes = batch.heap_bytes()
            + index.capacity() * (size_of::<(B256, Span)>() + 1)
            + size_of::<Self>();
        Self { batch, index, bytes }
    }

    /// Several batches at one location as one (the later batch wins on a shared hash).
    pub(crate) fn merged(&self, later: &Self) -> Self {
        let mut batch = NodeBatch::default();
        for (hash, stored) in self.batch.iter().chain(later.batch.iter()) {
            batch.put(hash, stored);
        }
        Self::new(Arc::new(batch))
    }

    /// The stored form of the node with this hash.
    pub(crate) fn get(&self, hash: &B256) -> Option<&[u8]> {
        self.index.get(hash).map(|span| self.batch.bytes(*span))
    }

    /// The number of distinct nodes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.index.len()
    }

    /// The distinct nodes, sorted by hash (the order of their disk keys at one location).
    pub(crate) fn sorted(&self) -> Vec<(&B256, &[u8])> {
        let mut nodes: Vec<(&B256, &[u8])> =
            self.index.iter().map(|(hash, span)| (hash, self.batch.bytes(*span))).collect();
        nodes.sort_unstable_by_key(|(hash, _)| *hash);
        nodes
    }

    /// Estimated heap bytes (arena, entries and index), for the cache's memory cap.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::keccak256;

    fn node(i: u32) -> (B256, Vec<u8>) {
        let bytes: Vec<u8> = (0..(i % 70) as usize).map(|j| (i as usize + j) as u8).collect();
        (keccak256(i.to_be_bytes()), bytes)
    }

    #[test]
    fn put_iterates_in_order_and_looks_up_by_hash() {
        let mut batch = NodeBatch::new();
        let nodes: Vec<_> = (0..10).map(node).collect();
        for (hash, stored) in &nodes {
            batch.put(*hash, stored);
        }
        assert_eq!(batch.len(), 10);
        assert!(!batch.is_empty());
        let got: Vec<(B256, Vec<u8>)> = batch.iter().map(|(h, b)| (h, b.to_vec())).collect();
        assert_eq!(got, nodes, "insertion order, exact bytes");
        let indexed = IndexedBatch::new(Arc::new(batch));
        for (hash, stored) in &nodes {
            assert_eq!(indexed.get(hash), Some(&stored[..]));
        }
        assert_eq!(indexed.get(&B256::repeat_byte(1)), None);
        let sorted = indexed.sorted();
        assert_eq!(sorted.len(), 10);
        assert!(sorted.windows(2).all(|w| w[0].0 < w[1].0), "sorted by hash");
    }

    #[test]
    fn a_presized_batch_holds_the_same_nodes_in_its_one_segment() {
        let nodes: Vec<_> = (0..2_000).map(node).collect();
        let bytes: usize = nodes.iter().map(|(_, b)| b.len()).sum();
        for (room, count) in [(bytes, nodes.len()), (bytes / 3, 10), (0, 0)] {
            let mut batch = NodeBatch::with_capacity(room, count);
            for (hash, stored) in &nodes {
                batch.put(*hash, stored);
            }
            let got: Vec<(B256, Vec<u8>)> = batch.iter().map(|(h, b)| (h, b.to_vec())).collect();
            assert_eq!(got, nodes, "room {room}: insertion order, exact bytes");
            assert_eq!(batch.byte_len(), bytes);
            assert_eq!(batch.segments.len(), 1, "room {room}: one growing segment");
            if room == bytes {
                assert_eq!(batch.segments[0].capacity(), bytes, "sized up front, never grown");
            }
        }
    }

    #[test]
    fn many_nodes_share_one_segment() {
        let nodes: Vec<_> = (0..20_000).map(node).collect();
        let batch: NodeBatch = nodes.iter().cloned().collect();
        assert_eq!(batch.len(), 20_000);
        assert_eq!(batch.segments.len(), 1);
        let indexed = IndexedBatch::new(Arc::new(batch));
        assert_eq!(indexed.len(), 20_000);
        for (hash, stored) in &nodes {
            assert_eq!(indexed.get(hash), Some(&stored[..]));
        }
        let total: usize = nodes.iter().map(|(_, b)| b.len()).sum();
        assert!(indexed.bytes() >= total);
    }

    #[test]
    fn an_empty_batch_has_nothing() {
        let batch = NodeBatch::default();
        assert!(batch.is_empty());
        assert_eq!(batch.len(), 0);
        assert_eq!(batch.iter().count(), 0);
        let indexed = IndexedBatch::new(Arc::new(batch));
        assert_eq!(indexed.len(), 0);
        assert!(indexed.sorted().is_empty());
        assert_eq!(indexed.get(&B256::ZERO), None);
    }

    #[test]
    fn the_last_put_of_a_hash_wins_in_the_index() {
        let mut batch = NodeBatch::new();
        let hash = B256::repeat_byte(7);
        batch.put(hash, &[1, 2]);
        batch.put(B256::repeat_byte(8), &[3]);
        batch.put(hash, &[4, 5, 6]);
        assert_eq!(batch.len(), 3);
        let indexed = IndexedBatch::new(Arc::new(batch));
        assert_eq!(indexed.len(), 2);
        assert_eq!(indexed.get(&hash), Some(&[4u8, 5, 6][..]));
        let merged = indexed.merged(&IndexedBatch::new(Arc::new(
            [(hash, vec![9u8]), (B256::repeat_byte(10), vec![])].into_iter().collect(),
        )));
        assert_eq!(merged.len(), 3);
        assert_eq!(merged.get(&hash), Some(&[9u8][..]));
        assert_eq!(merged.get(&B256::repeat_byte(8)), Some(&[3u8][..]));
        assert_eq!(merged.get(&B256::repeat_byte(10)), Some(&[][..]));
    }

    /// Offsets are `u32`: a full segment starts another, a node longer than a segment gets one
    /// of its own (the real limit is 4 GiB; a small one shows the same paths).
    #[test]
    fn segments_split_at_the_limit() {
        let mut batch = NodeBatch::with_segment_limit(8);
        let nodes: Vec<(B256, Vec<u8>)> = [3usize, 4, 1, 0, 2, 12, 5, 8, 3]
            .iter()
            .enumerate()
            .map(|(i, len)| (B256::with_last_byte(i as u8), vec![i as u8; *len]))
            .collect();
        for (hash, stored) in &nodes {
            batch.put(*hash, stored);
        }
        // [3,4,1,0] | [2] | [12] own | [5] | [8] own | [3]
        assert_eq!(batch.segments.len(), 6);
        assert!(batch.segments.iter().all(|s| s.len() <= 8 || s.len() == 12));
        let got: Vec<(B256, Vec<u8>)> = batch.iter().map(|(h, b)| (h, b.to_vec())).collect();
        assert_eq!(got, nodes);
        let indexed = IndexedBatch::new(Arc::new(batch));
        for (hash, stored) in &nodes {
            assert_eq!(indexed.get(hash), Some(&stored[..]));
        }
    }

    #[test]
    fn a_batch_is_a_node_sink() {
        let mut batch = NodeBatch::new();
        let sink: &mut dyn NodeSink = &mut batch;
        sink.put(B256::repeat_byte(3), &[0xc0]);
        assert_eq!(batch.iter().collect::<Vec<_>>(), vec![(B256::repeat_byte(3), &[0xc0u8][..])]);
    }

    #[test]
    fn map_hashes_keeps_the_bytes() {
        let batch: NodeBatch = (0..5).map(node).collect();
        let salted = batch.map_hashes(keccak256);
        for ((h0, b0), (h1, b1)) in batch.iter().zip(salted.iter()) {
            assert_eq!(keccak256(h0), h1);
            assert_eq!(b0, b1);
        }
    }
}
