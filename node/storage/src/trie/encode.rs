//! Encoding trie nodes to RLP and committing changed nodes (hashing them and handing their
//! stored form, RLP then children's locations, to a [`NodeSink`]).
//!
//! A commit encodes thousands of nodes per block, so it allocates nothing per node: each trie
//! level being encoded borrows a buffer from the commit's pool, the list header goes into room
//! left in front of the payload, and children's locations go into a fixed-size array.

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{EMPTY_STRING_CODE, Header};

use super::node::{Loc, Node};

/// Something that collects the nodes a commit produces, in their stored form
/// (see [`super::StoredNode`]).
pub(crate) trait NodeSink {
    fn put(&mut self, hash: B256, stored: &[u8]);
}

impl NodeSink for Vec<(B256, Vec<u8>)> {
    fn put(&mut self, hash: B256, stored: &[u8]) {
        self.push((hash, stored.to_vec()));
    }
}

/// Room in front of a payload for its list header: a payload below 2^24 bytes (every real
/// node; larger ones are copied once) needs at most 4 header bytes.
const HEADER_ROOM: usize = 4;

/// The most bytes of children's locations one node has: 16 children, 10 LEB128 bytes each.
const MAX_LOCS: usize = 16 * 10;

/// Appends `loc` as LEB128.
#[cfg(test)]
pub(crate) fn push_loc(out: &mut Vec<u8>, loc: Loc) {
    let mut locs = ChildLocs::default();
    locs.push(loc);
    out.extend_from_slice(locs.as_slice());
}

/// The LEB128 locations of a node's hashed children, in RLP order.
#[derive(Clone, Copy)]
struct ChildLocs {
    bytes: [u8; MAX_LOCS],
    len: usize,
}

impl Default for ChildLocs {
    fn default() -> Self {
        Self { bytes: [0; MAX_LOCS], len: 0 }
    }
}

impl ChildLocs {
    fn push(&mut self, mut loc: Loc) {
        loop {
            // at most 16 children per node, each at most 10 bytes: never past the end
            let Some(slot) = self.bytes.get_mut(self.len) else { return };
            let byte = (loc & 0x7f) as u8;
            loc >>= 7;
            self.len += 1;
            if loc == 0 {
                *slot = byte;
                return;
            }
            *slot = byte | 0x80;
        }
    }

    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len.min(MAX_LOCS)]
    }
}

/// What a commit needs while encoding: where new nodes go, the location they get, and
/// reusable encoding buffers.
pub(crate) struct Commit<'a> {
    sink: &'a mut dyn NodeSink,
    loc: Loc,
    buffers: Vec<Vec<u8>>,
}

/// An encoded node: its RLP is `buf[start..]`; `locs` are its hashed children's locations.
pub(crate) struct Encoded {
    buf: Vec<u8>,
    start: usize,
    locs: ChildLocs,
}

impl Encoded {
    /// The node's RLP.
    pub(crate) fn rlp(&self) -> &[u8] {
        self.buf.get(self.start..).unwrap_or_default()
    }
}

impl<'a> Commit<'a> {
    /// A commit handing nodes located at `loc` to `sink`.
    pub(crate) fn new(sink: &'a mut dyn NodeSink, loc: Loc) -> Self {
        Self { sink, loc, buffers: Vec::new() }
    }

    /// A buffer with room for a list header.
    fn start(&mut self) -> Vec<u8> {
        let mut buf = self.buffers.pop().unwrap_or_else(|| Vec::with_capacity(640));
        buf.clear();
        buf.resize(HEADER_ROOM, 0);
        buf
    }

    /// Returns an encoding's buffer to the pool.
    pub(crate) fn recycle(&mut self, encoded: Encoded) {
        self.buffers.push(encoded.buf);
    }

    /// Writes the list header in front of the payload in `buf`.
    fn finish(&mut self, mut buf: Vec<u8>, locs: ChildLocs) -> Encoded {
        let payload_length = buf.len().saturating_sub(HEADER_ROOM);
        let mut header = [0u8; 9];
        let header_len = {
            let mut out: &mut [u8] = &mut header;
            let h = Header { list: true, payload_length };
            let len = h.length();
            if len <= out.len() {
                h.encode(&mut out);
            }
            len
        };
        let start = if header_len <= HEADER_ROOM {
            let start = HEADER_ROOM - header_len;
            buf[start..HEADER_ROOM].copy_from_slice(&header[..header_len]);
            start
        } else {
            // a payload of 16 MiB or more: not a state trie node, but encode it right anyway
            let mut out = Vec::with_capacity(payload_length + header_len);
            Header { list: true, payload_length }.encode(&mut out);
            out.extend_from_slice(&buf[HEADER_ROOM..]);
            buf = out;
            0
        };
        Encoded { buf, start, locs }
    }

    /// Hashes an encoded node, hands its stored form to the sink and returns the hash.
    pub(crate) fn store(&mut self, mut encoded: Encoded) -> B256 {
        let hash = keccak256(encoded.rlp());
        encoded.buf.extend_from_slice(encoded.locs.as_slice());
        self.sink.put(hash, encoded.buf.get(encoded.start..).unwrap_or_default());
        self.recycle(encoded);
        hash
    }
}

/// Appends an RLP string header + bytes.
fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    alloy_rlp::Encodable::encode(bytes, out);
}

/// Appends the hex-prefix encoding of a nibble path (appendix C) as an RLP string.
fn encode_path(out: &mut Vec<u8>, path: &[u8], leaf: bool) {
    let flag: u8 = if leaf { 2 } else { 0 };
    let odd = path.len() % 2 == 1;
    let len = path.len() / 2 + 1;
    let (first, rest) = match path.split_first().filter(|_| odd) {
        Some((first, rest)) => (((flag | 1) << 4) | first, rest),
        None => (flag << 4, path),
    };
    if len == 1 && first < EMPTY_STRING_CODE {
        out.push(first);
        return;
    }
    // a path has at most 64 nibbles: 33 bytes, a one-byte string header
    out.push(EMPTY_STRING_CODE.saturating_add(u8::try_from(len).unwrap_or(u8::MAX)));
    out.push(first);
    out.extend(rest.chunks_exact(2).map(|pair| (pair[0] << 4) | pair[1]));
}

fn encode_value(buf: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => encode_bytes(buf, v),
        None => buf.push(EMPTY_STRING_CODE),
    }
}

/// Appends an encoded child: embedded when shorter than 32 bytes (it then has no hashed
/// children), else stored and referenced by hash at the commit's location.
fn append_encoded(
    out: &mut Vec<u8>,
    locs: &mut ChildLocs,
    encoded: Encoded,
    commit: &mut Commit<'_>,
) -> Option<B256> {
    if encoded.rlp().len() < 32 {
        out.extend_from_slice(encoded.rlp());
        commit.recycle(encoded);
        None
    } else {
        let hash = commit.store(encoded);
        encode_bytes(out, hash.as_slice());
        locs.push(commit.loc);
        Some(hash)
    }
}

/// Commits a changed node: its changed descendants first (each hashed one is handed to the
/// sink and kept decoded as [`Node::Stored`]), then the node itself is encoded. Returns the
/// node with its children committed, and its encoding.
pub(crate) fn commit_node(node: Node, commit: &mut Commit<'_>) -> (Node, Encoded) {
    let mut buf = commit.start();
    let mut locs = ChildLocs::default();
    let node = match node {
        Node::Leaf { path, value } => {
            encode_path(&mut buf, &path, true);
            encode_bytes(&mut buf, &value);
            Node::Leaf { path, value }
        }
        Node::Extension { path, child } => {
            encode_path(&mut buf, &path, false);
            let child = commit_child(*child, &mut buf, &mut locs, commit);
            Node::Extension { path, child: Box::new(child) }
        }
        Node::Branch { mut children, value } => {
            for slot in children.iter_mut() {
                let child = std::mem::take(slot);
                *slot = commit_child(child, &mut buf, &mut locs, commit);
            }
            encode_value(&mut buf, value.as_deref());
            Node::Branch { children, value }
        }
        // not a node to commit: its reference (the empty string, or its hash)
        reference => {
            buf.truncate(0);
            let child = commit_child(reference, &mut buf, &mut locs, commit);
            return (child, Encoded { buf, start: 0, locs });
        }
    };
    (node, commit.finish(buf, locs))
}

/// Appends the reference to a child being committed (see [`commit_node`]) and returns the
/// child as it stays in memory.
fn commit_child(
    child: Node,
    out: &mut Vec<u8>,
    locs: &mut ChildLocs,
    commit: &mut Commit<'_>,
) -> Node {
    match child {
        Node::Empty => {
            out.push(EMPTY_STRING_CODE);
            Node::Empty
        }
        Node::Hash(h, loc) | Node::Stored { hash: h, loc, .. } => {
            encode_bytes(out, h.as_slice());
            locs.push(loc);
            child
        }
        other => {
            let (node, encoded) = commit_node(other, commit);
            match append_encoded(out, locs, encoded, commit) {
                Some(hash) => Node::Stored { hash, loc: commit.loc, node: Box::new(node) },
                None => node,
            }
        }
    }
}

/// Commits a trie's changed root node: it is stored whatever its length. Returns the root as
/// it stays in memory and its hash.
pub(crate) fn commit_root(root: Node, commit: &mut Commit<'_>) -> (Node, B256) {
    let (node, encoded) = commit_node(root, commit);
    let hash = commit.store(encoded);
    (Node::Stored { hash, loc: commit.loc, node: Box::new(node) }, hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_encode_as_the_rlp_of_their_hex_prefix() {
        for (path, leaf) in [
            (vec![], false),
            (vec![], true),
            (vec![1], true),
            (vec![0xf], false),
            (vec![1, 2], false),
            (vec![1, 2, 3, 4, 5], true),
            (vec![0xa; 64], true),
            (vec![0xb; 63], false),
        ] {
            let mut ours = Vec::new();
            encode_path(&mut ours, &path, leaf);
            let reference = alloy_rlp::encode(&super::super::node::hex_prefix(&path, leaf)[..]);
            assert_eq!(ours, reference, "{path:?} {leaf}");
        }
    }

    #[test]
    fn a_payload_too_long_for_the_header_room_is_still_encoded_right() {
        let value = vec![7u8; 1 << 24];
        let node = Node::Leaf { path: vec![1, 2], value: value.clone() };
        let mut sink: Vec<(B256, Vec<u8>)> = Vec::new();
        let mut commit = Commit::new(&mut sink, 1);
        let (_, encoded) = commit_node(node, &mut commit);
        let mut payload = alloy_rlp::encode(&super::super::node::hex_prefix(&[1, 2], true)[..]);
        payload.extend(alloy_rlp::encode(&value[..]));
        let mut reference = Vec::new();
        Header { list: true, payload_length: payload.len() }.encode(&mut reference);
        reference.extend(payload);
        // (not assert_eq: a failure would print 16 MiB)
        assert!(encoded.rlp() == &reference[..], "the 16 MiB leaf encodes as the reference");
    }
}
