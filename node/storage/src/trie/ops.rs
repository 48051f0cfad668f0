//! Get, insert, remove and proof walks over [`Node`]s, loading stored nodes on demand.

use super::{NodeStore, Trie, TrieError, node::Node};
use crate::trie::encode::{Commit, commit_node};

fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

pub(super) fn get<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: &Node,
    path: &[u8],
) -> Result<Option<Vec<u8>>, TrieError> {
    match node {
        Node::Empty => Ok(None),
        Node::Hash(h, loc) => {
            let resolved = trie.resolve(h, *loc)?;
            get(trie, &resolved, path)
        }
        Node::Stored { node, .. } => get(trie, node, path),
        Node::Leaf { path: lp, value } => Ok((lp.as_slice() == path).then(|| value.clone())),
        Node::Extension { path: ep, child } => match path.strip_prefix(ep.as_slice()) {
            Some(rest) => get(trie, child, rest),
            None => Ok(None),
        },
        Node::Branch { children, value } => match path.split_first() {
            None => Ok(value.clone()),
            Some((&i, rest)) => get(trie, &children[usize::from(i)], rest),
        },
    }
}

/// Like [`get`], but resolves the stored nodes on the path in place, so a following insert or
/// remove of the same key does not load them again.
pub(super) fn load<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: Node,
    path: &[u8],
) -> Result<(Node, Option<Vec<u8>>), TrieError> {
    Ok(match node {
        Node::Empty => (Node::Empty, None),
        Node::Hash(hash, loc) => {
            // loaded, not changed: it stays a stored node
            let (node, found) = load(trie, trie.resolve(&hash, loc)?, path)?;
            (Node::Stored { hash, loc, node: Box::new(node) }, found)
        }
        Node::Stored { hash, loc, node } => {
            let (node, found) = load(trie, *node, path)?;
            (Node::Stored { hash, loc, node: Box::new(node) }, found)
        }
        Node::Leaf { path: lp, value } => {
            let found = (lp.as_slice() == path).then(|| value.clone());
            (Node::Leaf { path: lp, value }, found)
        }
        Node::Extension { path: ep, child } => match path.strip_prefix(ep.as_slice()) {
            Some(rest) => {
                let (child, found) = load(trie, *child, rest)?;
                (Node::Extension { path: ep, child: Box::new(child) }, found)
            }
            None => (Node::Extension { path: ep, child }, None),
        },
        Node::Branch { mut children, value } => match path.split_first() {
            None => {
                let found = value.clone();
                (Node::Branch { children, value }, found)
            }
            Some((&i, rest)) => {
                let slot = std::mem::take(&mut children[usize::from(i)]);
                let (child, found) = load(trie, slot, rest)?;
                children[usize::from(i)] = child;
                (Node::Branch { children, value }, found)
            }
        },
    })
}

/// Builds a branch holding two entries that diverge right after their common prefix.
fn split(
    existing_path: &[u8],
    existing: impl FnOnce(&[u8]) -> Node,
    existing_value_at_branch: Option<Vec<u8>>,
    path: &[u8],
    value: Vec<u8>,
    common: usize,
) -> Node {
    let mut branch_children: Box<[Node; 16]> = Box::default();
    let mut branch_value = None;
    if existing_path.len() == common {
        branch_value = existing_value_at_branch;
    } else {
        branch_children[usize::from(existing_path[common])] =
            existing(&existing_path[common + 1..]);
    }
    if path.len() == common {
        branch_value = Some(value);
    } else {
        branch_children[usize::from(path[common])] =
            Node::Leaf { path: path[common + 1..].to_vec(), value };
    }
    let branch = Node::Branch { children: branch_children, value: branch_value };
    if common > 0 {
        Node::Extension { path: path[..common].to_vec(), child: Box::new(branch) }
    } else {
        branch
    }
}

pub(super) fn insert<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: Node,
    path: &[u8],
    value: Vec<u8>,
) -> Result<Node, TrieError> {
    Ok(match node {
        Node::Empty => Node::Leaf { path: path.to_vec(), value },
        Node::Hash(h, loc) => insert(trie, trie.resolve(&h, loc)?, path, value)?,
        Node::Stored { node, .. } => insert(trie, *node, path, value)?,
        Node::Leaf { path: lp, value: lv } => {
            let common = common_prefix(&lp, path);
            if common == lp.len() && common == path.len() {
                Node::Leaf { path: lp, value }
            } else {
                let leaf_value = lv.clone();
                let at_branch = (lp.len() == common).then_some(lv);
                let make_existing =
                    move |rest: &[u8]| Node::Leaf { path: rest.to_vec(), value: leaf_value };
                split(&lp, make_existing, at_branch, path, value, common)
            }
        }
        Node::Extension { path: ep, child } => {
            let common = common_prefix(&ep, path);
            if common == ep.len() {
                Node::Extension {
                    path: ep,
                    child: Box::new(insert(trie, *child, &path[common..], value)?),
                }
            } else {
                let make_existing = move |rest: &[u8]| {
                    if rest.is_empty() {
                        *child
                    } else {
                        Node::Extension { path: rest.to_vec(), child }
                    }
                };
                split(&ep, make_existing, None, path, value, common)
            }
        }
        Node::Branch { mut children, value: bv } => match path.split_first() {
            None => Node::Branch { children, value: Some(value) },
            Some((&i, rest)) => {
                let slot = std::mem::take(&mut children[usize::from(i)]);
                children[usize::from(i)] = insert(trie, slot, rest, value)?;
                Node::Branch { children, value: bv }
            }
        },
    })
}

pub(super) fn remove<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: Node,
    path: &[u8],
) -> Result<Node, TrieError> {
    Ok(match node {
        Node::Empty => Node::Empty,
        Node::Hash(h, loc) => {
            let resolved = trie.resolve(&h, loc)?;
            if !contains_path(trie, &resolved, path)? {
                return Ok(Node::Hash(h, loc));
            }
            remove(trie, resolved, path)?
        }
        Node::Stored { hash, loc, node } => {
            if !contains_path(trie, &node, path)? {
                return Ok(Node::Stored { hash, loc, node });
            }
            remove(trie, *node, path)?
        }
        Node::Leaf { path: lp, value } => {
            if lp.as_slice() == path {
                Node::Empty
            } else {
                Node::Leaf { path: lp, value }
            }
        }
        Node::Extension { path: ep, child } => match path.strip_prefix(ep.as_slice()) {
            Some(rest) => {
                let child = remove(trie, *child, rest)?;
                normalize_extension(trie, ep, child)?
            }
            None => Node::Extension { path: ep, child },
        },
        Node::Branch { mut children, value } => match path.split_first() {
            None => normalize_branch(trie, children, None)?.unwrap_or(Node::Empty),
            Some((&i, rest)) => {
                let slot = std::mem::take(&mut children[usize::from(i)]);
                children[usize::from(i)] = remove(trie, slot, rest)?;
                normalize_branch(trie, children, value)?.unwrap_or(Node::Empty)
            }
        },
    })
}

fn contains_path<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: &Node,
    path: &[u8],
) -> Result<bool, TrieError> {
    Ok(get(trie, node, path)?.is_some())
}

/// Collapses an extension whose child changed shape.
fn normalize_extension<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    mut ep: Vec<u8>,
    child: Node,
) -> Result<Node, TrieError> {
    let child = match child {
        Node::Hash(h, loc) => trie.resolve(&h, loc)?.keep_hash_if_branch(h, loc),
        Node::Stored { hash, loc, node } => match *node {
            branch @ Node::Branch { .. } => Node::Stored { hash, loc, node: Box::new(branch) },
            other => other,
        },
        other => other,
    };
    Ok(match child {
        Node::Empty => Node::Empty,
        Node::Leaf { path, value } => {
            ep.extend_from_slice(&path);
            Node::Leaf { path: ep, value }
        }
        Node::Extension { path, child } => {
            ep.extend_from_slice(&path);
            Node::Extension { path: ep, child }
        }
        other => Node::Extension { path: ep, child: Box::new(other) },
    })
}

impl Node {
    /// After resolving `h` only to learn its shape: a branch can stay referenced by hash.
    fn keep_hash_if_branch(self, h: alloy_primitives::B256, loc: super::Loc) -> Node {
        match self {
            Node::Branch { .. } => Node::Hash(h, loc),
            other => other,
        }
    }
}

/// Collapses a branch left with a single child and no value (or only a value).
/// Returns `None` when the branch became empty.
fn normalize_branch<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    mut children: Box<[Node; 16]>,
    value: Option<Vec<u8>>,
) -> Result<Option<Node>, TrieError> {
    let mut used = children.iter().enumerate().filter(|(_, c)| !matches!(c, Node::Empty));
    let first = used.next().map(|(i, _)| i);
    let more = used.next().is_some();
    Ok(match (first, more, value) {
        (None, _, None) => None,
        (None, _, Some(value)) => Some(Node::Leaf { path: Vec::new(), value }),
        (Some(i), false, None) => {
            let child = std::mem::take(&mut children[i]);
            let nibble = u8::try_from(i).unwrap_or_default();
            Some(normalize_extension(trie, vec![nibble], child)?)
        }
        (_, _, value) => Some(Node::Branch { children, value }),
    })
}

pub(super) fn proof<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: &Node,
    path: &[u8],
    out: &mut Vec<Vec<u8>>,
) -> Result<(), TrieError> {
    match node {
        Node::Empty => Ok(()),
        Node::Hash(h, loc) => {
            let stored = trie.store.node(h, *loc)?.ok_or(TrieError::MissingNode(*h))?;
            let resolved = super::node::decode_stored(&stored)?;
            out.push(super::StoredNode::rlp(&stored)?.to_vec());
            proof_inner(trie, &resolved, path, out)
        }
        Node::Stored { node, .. } => {
            out.push(rlp_of(node));
            proof_inner(trie, node, path, out)
        }
        other => {
            out.push(rlp_of(other));
            proof_inner(trie, other, path, out)
        }
    }
}

/// The RLP of an in-memory node (its changed children are encoded, not stored; a proof of
/// changes not committed yet is rare enough to encode a copy).
fn rlp_of(node: &Node) -> Vec<u8> {
    let mut discard: Vec<(alloy_primitives::B256, Vec<u8>)> = Vec::new();
    let mut commit = Commit::new(&mut discard, super::ROOT_LOC);
    commit_node(node.clone(), &mut commit).1.rlp().to_vec()
}

/// Continues a proof below a node already added to `out`; embedded children are not added again.
fn proof_inner<S: NodeStore + ?Sized>(
    trie: &Trie<'_, S>,
    node: &Node,
    path: &[u8],
    out: &mut Vec<Vec<u8>>,
) -> Result<(), TrieError> {
    let next = match node {
        Node::Extension { path: ep, child } => {
            path.strip_prefix(ep.as_slice()).map(|rest| (child.as_ref(), rest))
        }
        Node::Branch { children, .. } => {
            path.split_first().map(|(&i, rest)| (&children[usize::from(i)], rest))
        }
        _ => None,
    };
    match next {
        Some((child @ (Node::Hash(..) | Node::Stored { .. }), rest)) => {
            proof(trie, child, rest, out)
        }
        Some((child, rest)) => proof_inner(trie, child, rest, out),
        None => Ok(()),
    }
}
