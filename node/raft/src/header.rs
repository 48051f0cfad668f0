//! GoQuorum's Raft header rules (`raft/minter.go`):
//!
//! - `extraData = 0x00×32 ‖ RLP([raftIdAsciiHex, sig65])`, e.g. raft id 10 → `"a"`;
//! - `sig65 = secp256k1.sign(headerHash)` as `R ‖ S ‖ V` (V ∈ {0, 1}), where `headerHash` is the
//!   geth header hash computed while `extraData` is still **empty** (no extra hashing);
//! - the block hash is the normal `keccak(rlp(header))` over the final `extraData`;
//! - followers do not check the seal; [`recover_sealer`] exists for tooling and tests.
//!
//! Timestamps: see [`TimestampUnit`].

use alloy_consensus::Header;
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Encodable, Header as RlpHeader};
use secp256k1::{
    Message, PublicKey, SECP256K1, SecretKey,
    ecdsa::{RecoverableSignature, RecoveryId},
};

use crate::error::{RaftError, Result};

/// Zero bytes before the RLP seal in `extraData`.
pub const EXTRA_VANITY: usize = 32;

/// The decoded Raft seal of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaftSeal {
    /// The minter's raft id.
    pub raft_id: u16,
    /// `R ‖ S ‖ V`, V ∈ {0, 1} (geth `crypto.Sign` layout).
    pub signature: [u8; 65],
}

/// The unit of the block `timestamp` a Raft minter writes.
///
/// GoQuorum writes **nanoseconds** (`max(now_ns, parent.time + 1)`), which breaks ethers v5/v6
/// and web3.js 1.x (`timestamp` overflows 53-bit numbers). We therefore default to
/// [`TimestampUnit::Seconds`] and offer [`TimestampUnit::Nanoseconds`] for chains that must stay
/// byte-compatible with an existing GoQuorum Raft network. In seconds mode the timestamp is
/// `max(now_s, parent.time)`: with the default 50 ms block time several blocks share a second,
/// and requiring `parent + 1` would push timestamps ahead of the wall clock (GoQuorum's Raft
/// followers do not validate timestamps either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampUnit {
    /// Unix seconds (default; what Ethereum clients expect).
    #[default]
    Seconds,
    /// Unix nanoseconds (GoQuorum-compatible).
    Nanoseconds,
}

impl TimestampUnit {
    /// The timestamp of a block built at `now_ns` (Unix nanoseconds) on a parent with
    /// `parent_timestamp` (in this unit).
    pub fn next_timestamp(self, now_ns: u64, parent_timestamp: u64) -> u64 {
        match self {
            TimestampUnit::Seconds => (now_ns / 1_000_000_000).max(parent_timestamp),
            TimestampUnit::Nanoseconds => now_ns.max(parent_timestamp.saturating_add(1)),
        }
    }
}

/// The raft id as GoQuorum writes it in the seal: lower-case hex without `0x` (`hexutil.EncodeUint64`).
pub fn raft_id_ascii_hex(raft_id: u16) -> Vec<u8> {
    format!("{raft_id:x}").into_bytes()
}

/// Builds `extraData` for a seal.
pub fn encode_extra(seal: &RaftSeal) -> Bytes {
    let id = raft_id_ascii_hex(seal.raft_id);
    let payload = id.as_slice().length().saturating_add(seal.signature.as_slice().length());
    let mut out = vec![0u8; EXTRA_VANITY];
    RlpHeader { list: true, payload_length: payload }.encode(&mut out);
    id.as_slice().encode(&mut out);
    seal.signature.as_slice().encode(&mut out);
    out.into()
}

/// Parses `extraData` written by a GoQuorum (or our) Raft minter. Never panics.
pub fn decode_extra(extra: &[u8]) -> Result<RaftSeal> {
    let bad = |m| RaftError::rlp("raft extraData")(alloy_rlp::Error::Custom(m));
    let mut rest = extra.get(EXTRA_VANITY..).ok_or_else(|| bad("shorter than 32 bytes"))?;
    let mut body =
        RlpHeader::decode_bytes(&mut rest, true).map_err(RaftError::rlp("raft extraData"))?;
    let id = RlpHeader::decode_bytes(&mut body, false).map_err(RaftError::rlp("raft extraData"))?;
    let sig =
        RlpHeader::decode_bytes(&mut body, false).map_err(RaftError::rlp("raft extraData"))?;
    let id_str = std::str::from_utf8(id).map_err(|_| bad("raft id is not ASCII"))?;
    if id_str.is_empty() || id_str.len() > 4 {
        return Err(bad("raft id must be 1-4 hex digits"));
    }
    let raft_id = u16::from_str_radix(id_str, 16).map_err(|_| bad("raft id is not hex"))?;
    let signature: [u8; 65] = sig.try_into().map_err(|_| bad("signature must be 65 bytes"))?;
    Ok(RaftSeal { raft_id, signature })
}

/// The hash GoQuorum signs: the header hash with an empty `extraData`.
pub fn seal_hash(header: &Header) -> B256 {
    let mut unsealed = header.clone();
    unsealed.extra_data = Bytes::new();
    unsealed.hash_slow()
}

/// Signs `header` as the minter `raft_id` and writes the seal into `extraData`.
pub fn seal_header(header: &mut Header, raft_id: u16, key: &SecretKey) {
    let hash = seal_hash(header);
    let sig = SECP256K1.sign_ecdsa_recoverable(Message::from_digest(hash.0), key);
    let (recid, rs) = sig.serialize_compact();
    let mut signature = [0u8; 65];
    signature[..64].copy_from_slice(&rs);
    signature[64] = u8::try_from(i32::from(recid)).unwrap_or(0);
    header.extra_data = encode_extra(&RaftSeal { raft_id, signature });
}

/// Recovers the minter's raft id and public key from a sealed header.
pub fn recover_sealer(header: &Header) -> Result<(u16, PublicKey)> {
    let seal = decode_extra(&header.extra_data)?;
    let recid = RecoveryId::try_from(i32::from(seal.signature[64]))?;
    let sig = RecoverableSignature::from_compact(&seal.signature[..64], recid)?;
    let pk = SECP256K1.recover_ecdsa(Message::from_digest(seal_hash(header).0), &sig)?;
    Ok((seal.raft_id, pk))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn seal_roundtrip_and_layout() {
        let key = SecretKey::from_byte_array([7u8; 32]).unwrap();
        let mut h = Header { number: 5, timestamp: 1_700_000_000, ..Default::default() };
        let before = seal_hash(&h);
        seal_header(&mut h, 10, &key);
        assert_eq!(&h.extra_data[..32], &[0u8; 32]);
        // RLP list of ["a", 65-byte sig]: 0xf8 0x44 (68-byte payload) 0x61 0xb8 0x41 ...
        assert_eq!(&h.extra_data[32..37], &[0xf8, 0x44, 0x61, 0xb8, 0x41]);
        assert_eq!(seal_hash(&h), before, "seal hash ignores extraData");
        let (id, pk) = recover_sealer(&h).unwrap();
        assert_eq!(id, 10);
        assert_eq!(pk, PublicKey::from_secret_key(SECP256K1, &key));
        assert_ne!(h.hash_slow(), before, "block hash covers the seal");
    }

    #[test]
    fn timestamps() {
        let now = 1_700_000_000_123_456_789u64;
        assert_eq!(TimestampUnit::Seconds.next_timestamp(now, 0), 1_700_000_000);
        assert_eq!(TimestampUnit::Seconds.next_timestamp(now, 1_700_000_005), 1_700_000_005);
        assert_eq!(TimestampUnit::Nanoseconds.next_timestamp(now, 0), now);
        assert_eq!(TimestampUnit::Nanoseconds.next_timestamp(now, now), now + 1);
    }

    proptest! {
        #[test]
        fn extra_roundtrip(id in any::<u16>(), sig in proptest::collection::vec(any::<u8>(), 65)) {
            let seal = RaftSeal { raft_id: id, signature: sig.try_into().unwrap() };
            prop_assert_eq!(decode_extra(&encode_extra(&seal)).unwrap(), seal);
        }

        #[test]
        fn arbitrary_extra_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_extra(&bytes);
        }
    }
}
