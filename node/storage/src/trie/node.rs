//! Merkle-Patricia trie nodes and their RLP encoding (Ethereum yellow paper, appendix D).

use alloy_primitives::B256;
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
/// not loaded yet; `Stored` is a stored node held decoded (loaded, or written by a commit and
/// kept in memory for the next block's update): a parent refers to it by hash, and changing
/// it turns it back into a plain (dirty) node.
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
    Stored {
        hash: B256,
        loc: Loc,
        node: Box<Node>,
    },
}

impl Node {
    /// The in-memory root of a trie known only by its root hash (found through the store's
    /// root index when loaded).
    pub(crate) fn root_ref(root: B256) -> Node {
        if root == super::EMPTY_ROOT_HASH { Node::Empty } else { Node::Hash(root, ROOT_LOC) }
    }

    /// Where this node is stored, if it is a stored node (held or referenced) whose location
    /// is known (not [`ROOT_LOC`]).
    pub(crate) fn stored_loc(&self) -> Option<Loc> {
        match self {
            Node::Hash(_, loc) | Node::Stored { loc, .. } if *loc != ROOT_LOC => Some(*loc),
            _ => None,
        }
    }

    /// Held in memory and unchanged since it was stored, this node becomes a reference again.
    pub(crate) fn collapse(&mut self) {
        if let Node::Stored { hash, loc, .. } = self {
            *self = Node::Hash(*hash, *loc);
        }
    }
}

/// Hex-prefix encoding of a nibble path (appendix C); the encoder writes it in place
/// (`encode::encode_path`), this is the reference its tests compare with.
#[cfg(test)]
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
        use crate::trie::encode::push_loc;
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
