//! Merkle-Patricia trie nodes and their RLP encoding (Ethereum yellow paper, appendix D).

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Header, PayloadView};

use super::TrieError;

/// A path of nibbles (each element is 0..16).
pub(crate) type Path = Vec<u8>;

/// Where a stored node is: the sequence (block number + 1) of the block whose commit wrote it,
/// with [`PRIVATE_SPACE`] set for the node's private state. Stored nodes are keyed by
/// `loc ‖ hash`, so each flush appends at the end of the table instead of dirtying random
/// pages; a parent records the location of each hashed child next to its RLP.
pub type Loc = u64;

/// The location of a trie root whose location is not known yet: the store finds it through
/// its root index.
pub const ROOT_LOC: Loc = 0;

/// Set in the locations of private-state nodes, which are written outside the public state's
/// write-back cache (a private node never shares a key with a public one).
pub const PRIVATE_SPACE: Loc = 1 << 63;

/// An in-memory trie node. `Hash` is a reference to a stored node (its hash and location),
/// not loaded yet.
#[derive(Debug, Clone, Default)]
pub(crate) enum Node {
    #[default]
    Empty,
    Leaf {
        path: Path,
        value: Vec<u8>,
    },
    Extension {
        path: Path,
        child: Box<Node>,
    },
    Branch {
        children: Box<[Node; 16]>,
        value: Option<Vec<u8>>,
    },
    Hash(B256, Loc),
}

/// Hex-prefix encoding of a nibble path (appendix C).
pub(crate) fn hex_prefix(path: &[u8], leaf: bool) -> Vec<u8> {
    let flag: u8 = if leaf { 2 } else { 0 };
    let mut out = Vec::with_capacity(path.len() / 2 + 1);
    let odd = path.len() % 2 == 1;
    let mut rest = path;
    if let Some((first, tail)) = path.split_first().filter(|_| odd) {
        out.push(((flag | 1) << 4) | first);
        rest = tail;
    } else {
        out.push(flag << 4);
    }
    for pair in rest.chunks_exact(2) {
        out.push((pair[0] << 4) | pair[1]);
    }
    out
}

/// Decodes a hex-prefix path; returns (nibbles, is_leaf).
fn decode_hex_prefix(bytes: &[u8]) -> Result<(Path, bool), TrieError> {
    let (&first, rest) =
        bytes.split_first().ok_or(TrieError::Malformed("empty hex-prefix path"))?;
    let flag = first >> 4;
    if flag > 3 {
        return Err(TrieError::Malformed("bad hex-prefix flag"));
    }
    let leaf = flag & 2 != 0;
    let mut path = Vec::with_capacity(rest.len() * 2 + 1);
    if flag & 1 != 0 {
        path.push(first & 0x0f);
    } else if first & 0x0f != 0 {
        return Err(TrieError::Malformed("non-zero padding nibble"));
    }
    for b in rest {
        path.push(b >> 4);
        path.push(b & 0x0f);
    }
    Ok((path, leaf))
}

/// Splits a byte key into nibbles.
pub(crate) fn nibbles(key: &[u8]) -> Path {
    let mut out = Vec::with_capacity(key.len() * 2);
    for b in key {
        out.push(b >> 4);
        out.push(b & 0x0f);
    }
    out
}

/// Appends an RLP string header + bytes.
fn encode_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    alloy_rlp::Encodable::encode(bytes, out);
}

fn wrap_list(payload: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend_from_slice(&payload);
    out
}

/// Something that collects the nodes a commit produces, in their stored form
/// (see [`StoredNode`]).
pub(crate) trait NodeSink {
    fn put(&mut self, hash: B256, stored: Vec<u8>);
}

impl NodeSink for Vec<(B256, Vec<u8>)> {
    fn put(&mut self, hash: B256, stored: Vec<u8>) {
        self.push((hash, stored));
    }
}

/// What a commit needs while encoding: where new nodes go and the location they get.
pub(crate) struct Commit<'a> {
    pub sink: &'a mut dyn NodeSink,
    pub loc: Loc,
}

/// Appends `loc` as LEB128.
fn push_loc(out: &mut Vec<u8>, mut loc: Loc) {
    loop {
        let byte = (loc & 0x7f) as u8;
        loc >>= 7;
        if loc == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Reads the LEB128 locations that follow a stored node's RLP, one per hashed child.
pub(crate) struct Locs<'a>(&'a [u8]);

impl Locs<'_> {
    fn next(&mut self) -> Result<Loc, TrieError> {
        let mut loc: Loc = 0;
        for (i, byte) in self.0.iter().enumerate() {
            let shift = 7 * u32::try_from(i).map_err(|_| TrieError::Malformed("location"))?;
            if shift > 63 {
                break;
            }
            loc |= Loc::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                self.0 = &self.0[i + 1..];
                return Ok(loc);
            }
        }
        Err(TrieError::Malformed("child location missing or too long"))
    }
}

/// A node as stored: its RLP, then the location of each hashed child in RLP order.
#[derive(Debug)]
pub struct StoredNode;

impl StoredNode {
    /// The node's RLP (what its hash is over, and what a proof holds).
    pub fn rlp(stored: &[u8]) -> Result<&[u8], TrieError> {
        let mut buf = stored;
        let header = Header::decode(&mut buf).map_err(TrieError::Rlp)?;
        let short = TrieError::Malformed("trie node shorter than its rlp header");
        let len =
            (stored.len() - buf.len()).checked_add(header.payload_length).ok_or(short.clone())?;
        stored.get(..len).ok_or(short)
    }
}

/// Encodes `node` to its RLP and the locations of its hashed children. Children of 32 bytes
/// or more are hashed and handed to the commit's sink. `Hash` nodes must not be passed at the
/// top level.
pub(crate) fn encode_node(node: &Node, commit: &mut Commit<'_>) -> (Vec<u8>, Vec<u8>) {
    let mut locs = Vec::new();
    let rlp = match node {
        Node::Empty => vec![alloy_rlp::EMPTY_STRING_CODE],
        Node::Hash(h, loc) => {
            push_loc(&mut locs, *loc);
            let mut out = Vec::with_capacity(33);
            encode_bytes(&mut out, h.as_slice());
            out
        }
        Node::Leaf { path, value } => {
            let mut payload = Vec::with_capacity(value.len() + path.len() / 2 + 4);
            encode_bytes(&mut payload, &hex_prefix(path, true));
            encode_bytes(&mut payload, value);
            wrap_list(payload)
        }
        Node::Extension { path, child } => {
            let mut payload = Vec::with_capacity(40 + path.len() / 2);
            encode_bytes(&mut payload, &hex_prefix(path, false));
            append_child_ref(&mut payload, &mut locs, child, commit);
            wrap_list(payload)
        }
        Node::Branch { children, value } => {
            let mut payload = Vec::with_capacity(16 * 33 + 1);
            for child in children.iter() {
                append_child_ref(&mut payload, &mut locs, child, commit);
            }
            match value {
                Some(v) => encode_bytes(&mut payload, v),
                None => payload.push(alloy_rlp::EMPTY_STRING_CODE),
            }
            wrap_list(payload)
        }
    };
    (rlp, locs)
}

/// Hashes an encoded node, hands its stored form to the sink and returns the hash.
pub(crate) fn store_node(rlp: Vec<u8>, locs: &[u8], commit: &mut Commit<'_>) -> B256 {
    let hash = keccak256(&rlp);
    let mut stored = rlp;
    stored.extend_from_slice(locs);
    commit.sink.put(hash, stored);
    hash
}

/// Appends the reference to a child: embedded RLP when shorter than 32 bytes, else its hash
/// (and its location to `locs`).
fn append_child_ref(out: &mut Vec<u8>, locs: &mut Vec<u8>, child: &Node, commit: &mut Commit<'_>) {
    match child {
        Node::Empty => out.push(alloy_rlp::EMPTY_STRING_CODE),
        Node::Hash(h, loc) => {
            encode_bytes(out, h.as_slice());
            push_loc(locs, *loc);
        }
        other => {
            let (rlp, child_locs) = encode_node(other, commit);
            if rlp.len() < 32 {
                // an embedded node is too short to hold a hashed child: `child_locs` is empty
                out.extend_from_slice(&rlp);
            } else {
                let hash = store_node(rlp, &child_locs, commit);
                encode_bytes(out, hash.as_slice());
                push_loc(locs, commit.loc);
            }
        }
    }
}

/// Decodes a stored node (RLP, then its children's locations). Hashed children become
/// `Node::Hash`.
pub(crate) fn decode_stored(stored: &[u8]) -> Result<Node, TrieError> {
    let rlp = StoredNode::rlp(stored)?;
    let mut locs = Locs(&stored[rlp.len()..]);
    let node = decode_node(rlp, &mut locs)?;
    if !locs.0.is_empty() {
        return Err(TrieError::Malformed("more child locations than hashed children"));
    }
    Ok(node)
}

/// Decodes a node from its RLP, taking hashed children's locations from `locs`.
fn decode_node(rlp: &[u8], locs: &mut Locs<'_>) -> Result<Node, TrieError> {
    let mut buf = rlp;
    let items = match Header::decode_raw(&mut buf).map_err(TrieError::Rlp)? {
        PayloadView::List(items) => items,
        PayloadView::String(_) => return Err(TrieError::Malformed("trie node is not a list")),
    };
    if !buf.is_empty() {
        return Err(TrieError::Malformed("trailing bytes after trie node"));
    }
    match items.len() {
        2 => {
            let path_bytes = string_payload(items[0])?;
            let (path, leaf) = decode_hex_prefix(path_bytes)?;
            if leaf {
                Ok(Node::Leaf { path, value: string_payload(items[1])?.to_vec() })
            } else {
                let child = decode_child(items[1], locs)?;
                if matches!(child, Node::Empty) {
                    return Err(TrieError::Malformed("extension without child"));
                }
                Ok(Node::Extension { path, child: Box::new(child) })
            }
        }
        17 => {
            let mut children: Box<[Node; 16]> = Box::default();
            for (slot, item) in children.iter_mut().zip(&items[..16]) {
                *slot = decode_child(item, locs)?;
            }
            let value = string_payload(items[16])?;
            let value = (!value.is_empty()).then(|| value.to_vec());
            Ok(Node::Branch { children, value })
        }
        _ => Err(TrieError::Malformed("trie node must have 2 or 17 items")),
    }
}

fn string_payload(item: &[u8]) -> Result<&[u8], TrieError> {
    let mut buf = item;
    match Header::decode_raw(&mut buf).map_err(TrieError::Rlp)? {
        PayloadView::String(s) => Ok(s),
        PayloadView::List(_) => Err(TrieError::Malformed("expected string item")),
    }
}

fn decode_child(item: &[u8], locs: &mut Locs<'_>) -> Result<Node, TrieError> {
    let mut buf = item;
    match Header::decode_raw(&mut buf).map_err(TrieError::Rlp)? {
        PayloadView::String([]) => Ok(Node::Empty),
        PayloadView::String(s) if s.len() == 32 => {
            Ok(Node::Hash(B256::from_slice(s), locs.next()?))
        }
        PayloadView::String(_) => {
            Err(TrieError::Malformed("child reference must be 0 or 32 bytes"))
        }
        PayloadView::List(_) => decode_node(item, locs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_prefix_matches_yellow_paper_examples() {
        assert_eq!(hex_prefix(&[1, 2, 3, 4, 5], false), vec![0x11, 0x23, 0x45]);
        assert_eq!(hex_prefix(&[0, 1, 2, 3, 4, 5], false), vec![0x00, 0x01, 0x23, 0x45]);
        assert_eq!(hex_prefix(&[0, 0xf, 1, 0xc, 0xb, 8], true), vec![0x20, 0x0f, 0x1c, 0xb8]);
        assert_eq!(hex_prefix(&[0xf, 1, 0xc, 0xb, 8], true), vec![0x3f, 0x1c, 0xb8]);
        for (path, leaf) in [(vec![1, 2, 3], true), (vec![], false), (vec![0, 0xa], true)] {
            assert_eq!(decode_hex_prefix(&hex_prefix(&path, leaf)).unwrap(), (path, leaf));
        }
    }

    #[test]
    fn locations_round_trip_as_leb128() {
        for loc in [0, 1, 127, 128, 300, u64::from(u32::MAX), PRIVATE_SPACE | 5, u64::MAX] {
            let mut out = Vec::new();
            push_loc(&mut out, loc);
            let mut locs = Locs(&out);
            assert_eq!(locs.next().unwrap(), loc);
            assert!(locs.0.is_empty());
        }
        assert!(Locs(&[0x80]).next().is_err());
        assert!(Locs(&[]).next().is_err());
        assert!(Locs(&[0xff; 11]).next().is_err());
    }
}
