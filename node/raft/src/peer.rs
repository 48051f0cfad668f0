//! Peer addresses: enode URL parsing (`enode://<id>@<host>:<port>?discport=0&raftport=N`), the
//! GoQuorum `Address` RLP carried in `ConfChange` contexts and snapshots, and the
//! `raft_cluster` JSON shape.

use std::net::IpAddr;

use alloy_primitives::B512;
use alloy_rlp::{Decodable, Encodable, Header};
use serde::Serialize;

use crate::error::{RaftError, Result};

/// One cluster member, as GoQuorum's `raft.Address`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PeerAddress {
    /// Raft id (1-based; `static-nodes.json` index + 1 for the initial members).
    pub raft_id: u16,
    /// The 64-byte node public key (the enode id).
    pub node_id: B512,
    /// IP address or (with `--raftdnsenable`) host name.
    pub hostname: String,
    /// devp2p TCP port.
    pub p2p_port: u16,
    /// Raft transport port (`?raftport=`).
    pub raft_port: u16,
}

/// An enode URL split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enode {
    /// The 64-byte public key.
    pub node_id: B512,
    /// Host (IP literal or name, without IPv6 brackets).
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// `raftport` query parameter, if present.
    pub raft_port: Option<u16>,
}

impl Enode {
    /// Parses `enode://<128 hex>@<host>:<port>[?discport=N&raftport=N]`.
    pub fn parse(url: &str) -> Result<Self> {
        let bad = |reason| RaftError::InvalidEnode { url: url.to_string(), reason };
        let rest = url.strip_prefix("enode://").ok_or_else(|| bad("missing enode:// scheme"))?;
        let (id_hex, rest) = rest.split_once('@').ok_or_else(|| bad("missing @host"))?;
        if id_hex.len() != 128 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad("node id must be 128 hex characters"));
        }
        let mut id = [0u8; 64];
        for (byte, pair) in id.iter_mut().zip(id_hex.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).map_err(|_| bad("node id is not hex"))?;
            *byte = u8::from_str_radix(pair, 16).map_err(|_| bad("node id is not hex"))?;
        }
        let (hostport, query) = match rest.split_once('?') {
            Some((h, q)) => (h, Some(q)),
            None => (rest, None),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, p) = v6.split_once("]:").ok_or_else(|| bad("bad [ipv6]:port"))?;
            (h, p)
        } else {
            hostport.rsplit_once(':').ok_or_else(|| bad("missing :port"))?
        };
        if host.is_empty() {
            return Err(bad("empty host"));
        }
        let port: u16 = port.parse().map_err(|_| bad("port is not a number"))?;
        let mut raft_port = None;
        for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k == "raftport" {
                raft_port = Some(v.parse().map_err(|_| bad("raftport is not a number"))?);
            }
        }
        Ok(Self { node_id: B512::from(id), host: host.to_string(), port, raft_port })
    }

    /// The address this enode gets under `raft_id`; errors if `?raftport=` is missing (as GoQuorum).
    pub fn into_address(self, raft_id: u16, url: &str) -> Result<PeerAddress> {
        let raft_port = self.raft_port.ok_or_else(|| {
            RaftError::Membership(format!(
                "enodeId is missing raftport querystring parameter: {url}"
            ))
        })?;
        Ok(PeerAddress {
            raft_id,
            node_id: self.node_id,
            hostname: self.host,
            p2p_port: self.port,
            raft_port,
        })
    }
}

impl PeerAddress {
    /// Parses an enode URL (which must carry `?raftport=`) as the member `raft_id`.
    pub fn from_enode(raft_id: u16, url: &str) -> Result<Self> {
        Enode::parse(url)?.into_address(raft_id, url)
    }

    /// The initial members from `static-nodes.json` content: raft id = index + 1.
    pub fn from_static_nodes(json: &str) -> Result<Vec<Self>> {
        let urls: Vec<String> = serde_json::from_str(json)
            .map_err(|e| RaftError::Config(format!("static-nodes.json: {e}")))?;
        urls.iter()
            .enumerate()
            .map(|(i, url)| {
                let id = u16::try_from(i.saturating_add(1))
                    .map_err(|_| RaftError::Config("more than 65535 static nodes".into()))?;
                Self::from_enode(id, url)
            })
            .collect()
    }

    /// The enode URL of this member (`enode://id@host:port?discport=0&raftport=N`).
    pub fn enode_url(&self) -> String {
        let host = match self.hostname.parse::<IpAddr>() {
            Ok(IpAddr::V6(v6)) => format!("[{v6}]"),
            _ => self.hostname.clone(),
        };
        format!(
            "enode://{}@{}:{}?discport=0&raftport={}",
            hex_lower(self.node_id.as_slice()),
            host,
            self.p2p_port,
            self.raft_port
        )
    }

    /// The node id as `raft_leader` prints it: 128 lower-case hex characters, no prefix.
    pub fn node_id_hex(&self) -> String {
        hex_lower(self.node_id.as_slice())
    }

    /// GoQuorum's `Address.toBytes`: `[raftId, nodeId, ip16, p2pPort, raftPort]` when the host is
    /// an IP literal (Go's 16-byte `net.IP`), `[raftId, nodeId, "", p2pPort, raftPort, hostname]`
    /// otherwise.
    pub fn to_rlp(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }

    /// Decodes [`PeerAddress::to_rlp`] output (both layouts). Never panics.
    pub fn from_rlp(mut bytes: &[u8]) -> Result<Self> {
        Self::decode(&mut bytes).map_err(RaftError::rlp("peer address"))
    }
}

fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn ip16(ip: IpAddr) -> [u8; 16] {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}

impl PeerAddress {
    /// Whether the host is an IP literal (GoQuorum's old, host-less RLP layout applies).
    pub fn has_ip_host(&self) -> bool {
        self.hostname.parse::<IpAddr>().is_ok()
    }

    /// Encodes with the host-name layout even for IP hosts (GoQuorum uses it for every address
    /// of a snapshot as soon as one member has a DNS name).
    pub fn encode_with_hostname(&self, out: &mut dyn alloy_rlp::BufMut) {
        let (_, payload_length) = self.fields_with(true);
        Header { list: true, payload_length }.encode(out);
        self.raft_id.encode(out);
        self.node_id.as_slice().encode(out);
        [0u8; 0].as_slice().encode(out);
        self.p2p_port.encode(out);
        self.raft_port.encode(out);
        self.hostname.as_bytes().encode(out);
    }

    /// Encoded length of [`PeerAddress::encode_with_hostname`].
    pub fn length_with_hostname(&self) -> usize {
        let (_, payload_length) = self.fields_with(true);
        payload_length.saturating_add(alloy_rlp::length_of_length(payload_length))
    }

    fn fields(&self) -> (Option<[u8; 16]>, usize) {
        self.fields_with(false)
    }

    fn fields_with(&self, force_hostname: bool) -> (Option<[u8; 16]>, usize) {
        let ip = if force_hostname { None } else { self.hostname.parse::<IpAddr>().ok().map(ip16) };
        let host_len = match ip {
            Some(ip) => ip.as_slice().length(),
            None => [0u8; 0].as_slice().length().saturating_add(self.hostname.as_bytes().length()),
        };
        let len = [
            self.raft_id.length(),
            self.node_id.as_slice().length(),
            self.p2p_port.length(),
            self.raft_port.length(),
            host_len,
        ]
        .iter()
        .fold(0usize, |a, b| a.saturating_add(*b));
        (ip, len)
    }
}

impl Encodable for PeerAddress {
    fn encode(&self, out: &mut dyn alloy_rlp::BufMut) {
        let (ip, payload_length) = self.fields();
        Header { list: true, payload_length }.encode(out);
        self.raft_id.encode(out);
        self.node_id.as_slice().encode(out);
        match ip {
            Some(ip) => {
                ip.as_slice().encode(out);
                self.p2p_port.encode(out);
                self.raft_port.encode(out);
            }
            None => {
                [0u8; 0].as_slice().encode(out);
                self.p2p_port.encode(out);
                self.raft_port.encode(out);
                self.hostname.as_bytes().encode(out);
            }
        }
    }

    fn length(&self) -> usize {
        let (_, payload_length) = self.fields();
        payload_length.saturating_add(alloy_rlp::length_of_length(payload_length))
    }
}

impl Decodable for PeerAddress {
    fn decode(buf: &mut &[u8]) -> alloy_rlp::Result<Self> {
        let header = Header::decode(buf)?;
        if !header.list {
            return Err(alloy_rlp::Error::UnexpectedString);
        }
        let mut body = buf.get(..header.payload_length).ok_or(alloy_rlp::Error::InputTooShort)?;
        *buf = buf.get(header.payload_length..).unwrap_or_default();
        let raft_id = u16::decode(&mut body)?;
        let node_id_bytes = alloy_rlp::Bytes::decode(&mut body)?;
        let node_id = B512::try_from(node_id_bytes.as_ref())
            .map_err(|_| alloy_rlp::Error::Custom("node id must be 64 bytes"))?;
        let ip = alloy_rlp::Bytes::decode(&mut body)?;
        let p2p_port = u16::decode(&mut body)?;
        let raft_port = u16::decode(&mut body)?;
        // New layout: a host name follows (and possibly forward-compatible extra fields).
        let hostname = if body.is_empty() {
            ip_to_string(&ip)?
        } else {
            let h = alloy_rlp::Bytes::decode(&mut body)?;
            let s = String::from_utf8(h.to_vec())
                .map_err(|_| alloy_rlp::Error::Custom("host name is not UTF-8"))?;
            if s.is_empty() && !ip.is_empty() { ip_to_string(&ip)? } else { s }
        };
        Ok(Self { raft_id, node_id, hostname, p2p_port, raft_port })
    }
}

fn ip_to_string(ip: &[u8]) -> alloy_rlp::Result<String> {
    match ip.len() {
        4 => {
            let a: [u8; 4] = ip.try_into().map_err(|_| alloy_rlp::Error::Custom("ip"))?;
            Ok(std::net::Ipv4Addr::from(a).to_string())
        }
        16 => {
            let a: [u8; 16] = ip.try_into().map_err(|_| alloy_rlp::Error::Custom("ip"))?;
            let v6 = std::net::Ipv6Addr::from(a);
            Ok(v6.to_ipv4_mapped().map_or_else(|| v6.to_string(), |v4| v4.to_string()))
        }
        _ => Err(alloy_rlp::Error::Custom("ip must be 4 or 16 bytes")),
    }
}

/// One row of `raft_cluster` (GoQuorum `ClusterInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Raft id.
    pub raft_id: u16,
    /// 128-hex node id, no prefix.
    pub node_id: String,
    /// devp2p port.
    pub p2p_port: u16,
    /// Raft port.
    pub raft_port: u16,
    /// Host name or IP.
    pub hostname: String,
    /// `minter`, `verifier`, `learner`, or `""` when no leader is known.
    pub role: String,
    /// Whether the transport currently reaches this member (always true for self).
    pub node_active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "ac6b1096ca56b9f6d004b779ae3728bf83f8e22453404cc3cef16a3d9b96608bc67c4b30db88e0a5a6c6390213f7acbe1153ff6d23ce57380104288ae19373ef";

    #[test]
    fn parses_quickstart_enode() {
        let url = format!("enode://{ID}@172.16.239.11:30303?discport=0&raftport=53000");
        let a = PeerAddress::from_enode(1, &url).unwrap();
        assert_eq!(a.hostname, "172.16.239.11");
        assert_eq!((a.p2p_port, a.raft_port), (30303, 53000));
        assert_eq!(a.node_id_hex(), ID);
        assert_eq!(a.enode_url(), url);
    }

    #[test]
    fn missing_raftport_is_refused() {
        let url = format!("enode://{ID}@127.0.0.1:30303?discport=0");
        let e = PeerAddress::from_enode(1, &url).unwrap_err().to_string();
        assert!(e.contains("missing raftport"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_enode_strings_never_panic(s in ".{0,200}") {
            let _ = Enode::parse(&s);
            let _ = Enode::parse(&format!("enode://{ID}@{s}"));
        }

        #[test]
        fn enode_roundtrip(port in 1u16.., raft_port in 1u16.., a in proptest::prelude::any::<[u8; 4]>()) {
            let host = std::net::Ipv4Addr::from(a).to_string();
            let url = format!("enode://{ID}@{host}:{port}?discport=0&raftport={raft_port}");
            let p = PeerAddress::from_enode(3, &url).unwrap();
            proptest::prop_assert_eq!(p.enode_url(), url);
            proptest::prop_assert_eq!(PeerAddress::from_rlp(&p.to_rlp()).unwrap(), p);
        }
    }

    #[test]
    fn rlp_roundtrip_ip_and_hostname() {
        for host in ["10.0.0.1", "::1", "node-1.example"] {
            let a = PeerAddress {
                raft_id: 7,
                node_id: B512::repeat_byte(0xab),
                hostname: host.into(),
                p2p_port: 21000,
                raft_port: 50400,
            };
            assert_eq!(PeerAddress::from_rlp(&a.to_rlp()).unwrap(), a);
            assert_eq!(a.to_rlp().len(), a.length());
        }
    }

    #[test]
    fn ip_layout_matches_goquorum() {
        // [raftId=1, nodeId(64), ip16(::ffff:127.0.0.1), 30303, 50400]
        let a = PeerAddress {
            raft_id: 1,
            node_id: B512::repeat_byte(1),
            hostname: "127.0.0.1".into(),
            p2p_port: 30303,
            raft_port: 50400,
        };
        let rlp = a.to_rlp();
        let mut expected = vec![0xf8, 1 + 66 + 17 + 3 + 3, 0x01, 0xb8, 64];
        expected.extend([1u8; 64]);
        expected.push(0x90);
        expected.extend([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1]);
        expected.extend([0x82, 0x76, 0x5f, 0x82, 0xc4, 0xe0]);
        assert_eq!(rlp, expected);
    }
}
