//! GoQuorum / geth enode URLs: `enode://<128 hex>@host:port?discport=0&raftport=50000`.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr},
    str::FromStr,
};

use libp2p::{Multiaddr, PeerId, identity, multiaddr::Protocol};

use crate::error::{NetworkError, NetworkResult};

/// A parsed enode URL.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Enode {
    /// The node id: uncompressed secp256k1 public key without the `04` prefix.
    pub id: [u8; 64],
    /// Host: an IP literal (IPv6 without brackets) or a DNS name.
    pub host: String,
    /// TCP (devp2p, here libp2p) port.
    pub port: u16,
    /// `raftport` query parameter (Raft transport port).
    pub raft_port: Option<u16>,
    /// `discport` query parameter (UDP discovery port; GoQuorum writes `0`).
    pub discport: Option<u16>,
}

impl Enode {
    /// Parses an enode URL.
    pub fn parse(url: &str) -> NetworkResult<Self> {
        let bad = |reason| NetworkError::InvalidEnode { url: url.to_owned(), reason };
        let rest =
            url.trim().strip_prefix("enode://").ok_or_else(|| bad("missing enode:// scheme"))?;
        let (id_hex, rest) = rest.split_once('@').ok_or_else(|| bad("missing '@'"))?;
        if id_hex.len() != 128 {
            return Err(bad("node id must be 128 hex characters"));
        }
        let mut id = [0u8; 64];
        hex::decode_to_slice(id_hex, &mut id).map_err(|_| bad("node id is not hexadecimal"))?;
        public_key_of(&id).ok_or_else(|| bad("node id is not a secp256k1 public key"))?;

        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, port) = v6.split_once("]:").ok_or_else(|| bad("malformed IPv6 host"))?;
            (host, port)
        } else {
            authority.rsplit_once(':').ok_or_else(|| bad("missing port"))?
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        // IP literals (v6 with an optional %zone) and DNS names only.
        if !host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:_%".contains(&b)) {
            return Err(bad("invalid character in host"));
        }
        let port = port.parse::<u16>().map_err(|_| bad("invalid port"))?;

        let mut enode = Enode { id, host: host.to_owned(), port, raft_port: None, discport: None };
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "discport" => {
                    enode.discport = Some(value.parse().map_err(|_| bad("invalid discport"))?)
                }
                "raftport" => {
                    enode.raft_port = Some(value.parse().map_err(|_| bad("invalid raftport"))?)
                }
                // geth ignores other query parameters.
                _ => {}
            }
        }
        Ok(enode)
    }

    /// The libp2p peer id of this node: the same secp256k1 key, wrapped as a libp2p public key.
    pub fn peer_id(&self) -> PeerId {
        // `parse` and `from_key` guarantee a valid key; a hand-built invalid id maps to a peer id
        // nobody can own, so it can never match a connection.
        match public_key_of(&self.id) {
            Some(pk) => identity::PublicKey::from(pk).to_peer_id(),
            None => PeerId::random(),
        }
    }

    /// The dial address: `/ip4|ip6/<host>/tcp/<port>`; `localhost` maps to 127.0.0.1.
    pub fn multiaddr(&self) -> NetworkResult<Multiaddr> {
        let ip = if self.host.eq_ignore_ascii_case("localhost") {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            IpAddr::from_str(&self.host)
                .map_err(|_| NetworkError::UnresolvedHost(self.host.clone()))?
        };
        Ok(Multiaddr::empty().with(Protocol::from(ip)).with(Protocol::Tcp(self.port)))
    }
}

/// The enode id (64 bytes) of a libp2p peer id, when the peer id embeds a secp256k1 key
/// (all our peer ids do: the key is inlined with the identity multihash).
pub fn enode_id_of(peer: &PeerId) -> Option<[u8; 64]> {
    let multihash = peer.as_ref();
    if multihash.code() != 0 {
        return None;
    }
    let pk = identity::PublicKey::try_decode_protobuf(multihash.digest()).ok()?;
    let uncompressed = pk.try_into_secp256k1().ok()?.to_bytes_uncompressed();
    let mut id = [0u8; 64];
    id.copy_from_slice(uncompressed.get(1..)?);
    Some(id)
}

fn public_key_of(id: &[u8; 64]) -> Option<identity::secp256k1::PublicKey> {
    let mut sec1 = [0u8; 65];
    sec1[0] = 4;
    sec1[1..].copy_from_slice(id);
    identity::secp256k1::PublicKey::try_from_bytes(&sec1).ok()
}

impl fmt::Display for Enode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "enode://{}@", hex::encode(self.id))?;
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{}:{}", self.host, self.port)?;
        }
        let mut sep = '?';
        if let Some(d) = self.discport {
            write!(f, "{sep}discport={d}")?;
            sep = '&';
        }
        if let Some(r) = self.raft_port {
            write!(f, "{sep}raftport={r}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Enode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Enode({self})")
    }
}

impl FromStr for Enode {
    type Err = NetworkError;
    fn from_str(s: &str) -> NetworkResult<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NodeKey;
    use proptest::prelude::*;

    fn sample_id() -> String {
        hex::encode(NodeKey::from_hex(&"22".repeat(32)).unwrap().enode_id())
    }

    #[test]
    fn parses_ipv6_and_plain() {
        let id = sample_id();
        let e = Enode::parse(&format!("enode://{id}@[::1]:30303")).unwrap();
        assert_eq!(e.host, "::1");
        assert_eq!(e.to_string(), format!("enode://{id}@[::1]:30303"));
        assert_eq!(e.multiaddr().unwrap().to_string(), "/ip6/::1/tcp/30303");
        let e = Enode::parse(&format!("enode://{id}@10.0.0.1:1?raftport=5")).unwrap();
        assert_eq!((e.raft_port, e.discport), (Some(5), None));
        assert_eq!(e.to_string(), format!("enode://{id}@10.0.0.1:1?raftport=5"));
    }

    #[test]
    fn rejects_garbage() {
        let id = sample_id();
        for bad in [
            "".to_owned(),
            "enode://".to_owned(),
            format!("enode://{id}"),
            format!("enode://{id}@host"),
            format!("enode://{id}@host:99999"),
            format!("enode://{}@1.2.3.4:1", "00".repeat(64)),
            format!("enode://{}@1.2.3.4:1", &id[..126]),
            format!("enode://{id}@1.2.3.4:1?raftport=x"),
            format!("enode://{id}@:1"),
            format!("enode://{id}@x]:y:1"),
            format!("enode://{id}@a b:1"),
        ] {
            assert!(Enode::parse(&bad).is_err(), "{bad}");
        }
        let dns = Enode::parse(&format!("enode://{id}@example.org:1")).unwrap();
        assert!(matches!(dns.multiaddr(), Err(NetworkError::UnresolvedHost(_))));
    }

    #[test]
    fn peer_id_embeds_enode_id() {
        let key = NodeKey::from_hex(&"33".repeat(32)).unwrap();
        let e =
            Enode::parse(&format!("enode://{}@127.0.0.1:1", hex::encode(key.enode_id()))).unwrap();
        assert_eq!(e.peer_id(), key.peer_id());
        assert_eq!(enode_id_of(&e.peer_id()), Some(key.enode_id()));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_never_panic(s in ".{0,300}") {
            let _ = Enode::parse(&s);
            let _ = Enode::parse(&format!("enode://{}@{s}", sample_id()));
        }

        #[test]
        fn roundtrip(a in any::<[u8; 4]>(), port in any::<u16>(), d in any::<Option<u16>>(), r in any::<Option<u16>>()) {
            let host = std::net::Ipv4Addr::from(a).to_string();
            let e = Enode { id: NodeKey::from_hex(&"44".repeat(32)).unwrap().enode_id(), host, port, raft_port: r, discport: d };
            prop_assert_eq!(Enode::parse(&e.to_string()).unwrap(), e);
        }
    }
}
