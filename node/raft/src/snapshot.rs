//! The application payload of a Raft snapshot (GoQuorum `SnapshotWithHostnames`): the cluster
//! members' addresses, the permanently removed raft ids and the chain head hash, RLP-encoded as
//! `[[address…], [removedId…], headHash]`.

use alloy_primitives::B256;
use alloy_rlp::{Decodable, Encodable, Header};

use crate::{
    error::{RaftError, Result},
    peer::PeerAddress,
};

/// What a node needs to rejoin after applying a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SnapshotData {
    /// Every member (voters and learners), sorted by raft id.
    pub addresses: Vec<PeerAddress>,
    /// Permanently removed raft ids.
    pub removed: Vec<u16>,
    /// Hash of the chain head when the snapshot was taken.
    pub head_hash: B256,
}

impl SnapshotData {
    /// RLP encoding. As in GoQuorum, every address uses the host-less layout when all hosts are
    /// IP literals, and the host-name layout otherwise.
    pub fn to_rlp(&self) -> Vec<u8> {
        let with_names = self.addresses.iter().any(|a| !a.has_ip_host());
        let addr_len: usize = self
            .addresses
            .iter()
            .map(|a| if with_names { a.length_with_hostname() } else { a.length() })
            .sum();
        let removed_len: usize = self.removed.iter().map(Encodable::length).sum();
        let payload = [
            addr_len,
            alloy_rlp::length_of_length(addr_len),
            removed_len,
            alloy_rlp::length_of_length(removed_len),
            self.head_hash.length(),
        ]
        .iter()
        .fold(0usize, |a, b| a.saturating_add(*b));
        let mut out = Vec::with_capacity(payload.saturating_add(9));
        Header { list: true, payload_length: payload }.encode(&mut out);
        Header { list: true, payload_length: addr_len }.encode(&mut out);
        for a in &self.addresses {
            if with_names {
                a.encode_with_hostname(&mut out);
            } else {
                a.encode(&mut out);
            }
        }
        Header { list: true, payload_length: removed_len }.encode(&mut out);
        for r in &self.removed {
            r.encode(&mut out);
        }
        self.head_hash.encode(&mut out);
        out
    }

    /// Decodes [`SnapshotData::to_rlp`] (either address layout). Never panics.
    pub fn from_rlp(mut bytes: &[u8]) -> Result<Self> {
        let decode = |buf: &mut &[u8]| -> alloy_rlp::Result<Self> {
            let mut body = Header::decode_bytes(buf, true)?;
            let mut addrs = Header::decode_bytes(&mut body, true)?;
            let mut addresses = Vec::new();
            while !addrs.is_empty() {
                addresses.push(PeerAddress::decode(&mut addrs)?);
            }
            let mut removed_bytes = Header::decode_bytes(&mut body, true)?;
            let mut removed = Vec::new();
            while !removed_bytes.is_empty() {
                removed.push(u16::decode(&mut removed_bytes)?);
            }
            let head_hash = B256::decode(&mut body)?;
            Ok(Self { addresses, removed, head_hash })
        };
        decode(&mut bytes).map_err(RaftError::rlp("snapshot data"))
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::B512;
    use proptest::prelude::*;

    use super::*;

    fn addr(id: u16, host: &str) -> PeerAddress {
        PeerAddress {
            raft_id: id,
            node_id: B512::repeat_byte(id as u8),
            hostname: host.into(),
            p2p_port: 30303,
            raft_port: 50400 + id,
        }
    }

    #[test]
    fn roundtrip_both_layouts() {
        for hosts in [["10.0.0.1", "10.0.0.2"], ["10.0.0.1", "node2.local"]] {
            let d = SnapshotData {
                addresses: vec![addr(1, hosts[0]), addr(2, hosts[1])],
                removed: vec![3, 4],
                head_hash: B256::repeat_byte(9),
            };
            assert_eq!(SnapshotData::from_rlp(&d.to_rlp()).unwrap(), d);
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = SnapshotData::from_rlp(&bytes);
            let _ = PeerAddress::from_rlp(&bytes);
        }
    }
}
