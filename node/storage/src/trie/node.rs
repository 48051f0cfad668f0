//! Merkle-Patricia trie nodes and their RLP encoding (Ethereum yellow paper, appendix D).

use alloy_primitives::{B256, keccak256};
use alloy_rlp::{Header, PayloadView};

use super::TrieError;

/// A path of nibbles (each element is 0..16).
pub(crate) type Path = Vec<u8>;

/// An in-memory trie node. `Hash` is a reference to a node stored by hash, not loaded yet.
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
    Hash(B256),
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

/// Something that collects the nodes a commit produces.
pub(crate) trait NodeSink {
    fn put(&mut self, hash: B256, rlp: Vec<u8>);
}

impl NodeSink for Vec<(B256, Vec<u8>)> {
    fn put(&mut self, hash: B256, rlp: Vec<u8>) {
        self.push((hash, rlp));
    }
}

/// Encodes `node` to its RLP. Children of 32 bytes or more are hashed and handed to `sink`.
/// `Hash` nodes must not be passed at the top level.
pub(crate) fn encode_node(node: &Node, sink: &mut dyn NodeSink) -> Vec<u8> {
    match node {
        Node::Empty => vec![alloy_rlp::EMPTY_STRING_CODE],
        Node::Hash(h) => {
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
            append_child_ref(&mut payload, child, sink);
            wrap_list(payload)
        }
        Node::Branch { children, value } => {
            let mut payload = Vec::with_capacity(16 * 33 + 1);
            for child in children.iter() {
                append_child_ref(&mut payload, child, sink);
            }
            match value {
                Some(v) => encode_bytes(&mut payload, v),
                None => payload.push(alloy_rlp::EMPTY_STRING_CODE),
            }
            wrap_list(payload)
        }
    }
}

/// Appends the reference to a child: embedded RLP when shorter than 32 bytes, else its hash.
fn append_child_ref(out: &mut Vec<u8>, child: &Node, sink: &mut dyn NodeSink) {
    match child {
        Node::Empty => out.push(alloy_rlp::EMPTY_STRING_CODE),
        Node::Hash(h) => encode_bytes(out, h.as_slice()),
        other => {
            let rlp = encode_node(other, sink);
            if rlp.len() < 32 {
                out.extend_from_slice(&rlp);
            } else {
                let hash = keccak256(&rlp);
                encode_bytes(out, hash.as_slice());
                sink.put(hash, rlp);
            }
        }
    }
}

/// Decodes a node from its RLP. Hashed children become `Node::Hash`.
pub(crate) fn decode_node(rlp: &[u8]) -> Result<Node, TrieError> {
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
                let child = decode_child(items[1])?;
                if matches!(child, Node::Empty) {
                    return Err(TrieError::Malformed("extension without child"));
                }
                Ok(Node::Extension { path, child: Box::new(child) })
            }
        }
        17 => {
            let mut children: Box<[Node; 16]> = Box::default();
            for (slot, item) in children.iter_mut().zip(&items[..16]) {
                *slot = decode_child(item)?;
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

fn decode_child(item: &[u8]) -> Result<Node, TrieError> {
    let mut buf = item;
    match Header::decode_raw(&mut buf).map_err(TrieError::Rlp)? {
        PayloadView::String([]) => Ok(Node::Empty),
        PayloadView::String(s) if s.len() == 32 => Ok(Node::Hash(B256::from_slice(s))),
        PayloadView::String(_) => {
            Err(TrieError::Malformed("child reference must be 0 or 32 bytes"))
        }
        PayloadView::List(_) => decode_node(item),
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
}
