//! The istanbul `extraData` formats: QBFT's RLP list and legacy IBFT's `vanity ‖ RLP(list)`.
//!
//! Reference: GoQuorum `core/types/istanbul.go` (`QbftExtra`, `ValidatorVote`, `IstanbulExtra`).

use alloy_primitives::{Address, Bytes};
use alloy_rlp::{BufMut, Decodable, Encodable, Error as RlpError, Header};

use crate::rlp_util::{decode_list_with, finish, list_payload};

/// Bytes of vanity at the start of IBFT extra data (`IstanbulExtraVanity`).
pub const EXTRA_VANITY: usize = 32;
/// Length of a proposer or committed seal (`IstanbulExtraSeal`).
pub const EXTRA_SEAL: usize = 65;
/// QBFT vote type that adds a validator (`QbftAuthVote`).
pub const QBFT_AUTH_VOTE: u8 = 0xff;
/// QBFT vote type that removes a validator (`QbftDropVote`).
pub const QBFT_DROP_VOTE: u8 = 0x00;

/// Why extra data could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExtraError {
    /// IBFT extra data shorter than the 32-byte vanity (`ErrInvalidIstanbulHeaderExtra`).
    #[error("invalid istanbul header extra-data")]
    TooShort,
    /// The RLP part is malformed.
    #[error("invalid extra data RLP: {0}")]
    Rlp(#[from] RlpError),
}

/// A validator vote carried in QBFT extra data (`ValidatorVote`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ValidatorVote {
    /// The candidate voted on.
    pub recipient: Address,
    /// [`QBFT_AUTH_VOTE`] or [`QBFT_DROP_VOTE`]; any other byte decodes but is an invalid vote.
    pub vote_type: u8,
}

impl ValidatorVote {
    /// A vote to add (`authorize = true`) or remove `recipient`.
    pub fn new(recipient: Address, authorize: bool) -> Self {
        let vote_type = if authorize { QBFT_AUTH_VOTE } else { QBFT_DROP_VOTE };
        Self { recipient, vote_type }
    }

    /// `Some(true)` for an add vote, `Some(false)` for a drop vote, `None` for any other byte
    /// (GoQuorum `ReadVote` returns `ErrInvalidVote`).
    pub fn authorize(&self) -> Option<bool> {
        match self.vote_type {
            QBFT_AUTH_VOTE => Some(true),
            QBFT_DROP_VOTE => Some(false),
            _ => None,
        }
    }

    fn payload_len(&self) -> usize {
        self.recipient.length().saturating_add(self.vote_type.length())
    }
}

impl Encodable for ValidatorVote {
    fn encode(&self, out: &mut dyn BufMut) {
        Header { list: true, payload_length: self.payload_len() }.encode(out);
        self.recipient.encode(out);
        self.vote_type.encode(out);
    }
    fn length(&self) -> usize {
        let p = self.payload_len();
        p.saturating_add(alloy_rlp::length_of_length(p))
    }
}

impl Decodable for ValidatorVote {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut p = list_payload(buf)?;
        let recipient = Address::decode(&mut p)?;
        let vote_type = u8::decode(&mut p)?;
        finish(p)?;
        Ok(Self { recipient, vote_type })
    }
}

/// QBFT header extra data: `RLP([vanity, validators, vote, round, committedSeals])`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QbftExtra {
    /// Vanity bytes (32 in practice, any length on the wire).
    pub vanity: Bytes,
    /// The validator set after this block, byte-sorted.
    pub validators: Vec<Address>,
    /// An optional vote; `None` encodes as the empty list `0xc0`.
    pub vote: Option<ValidatorVote>,
    /// The round in which the block was committed.
    pub round: u32,
    /// 65-byte committed seals.
    pub committed_seals: Vec<Bytes>,
}

fn list_len<T: Encodable>(items: &[T]) -> usize {
    items.iter().map(Encodable::length).fold(0usize, usize::saturating_add)
}

fn encode_list<T: Encodable>(items: &[T], out: &mut dyn BufMut) {
    Header { list: true, payload_length: list_len(items) }.encode(out);
    for item in items {
        item.encode(out);
    }
}

fn encoded_list_len<T: Encodable>(items: &[T]) -> usize {
    let p = list_len(items);
    p.saturating_add(alloy_rlp::length_of_length(p))
}

impl QbftExtra {
    /// Decodes QBFT extra data, refusing trailing bytes (GoQuorum `ExtractQbftExtra`).
    pub fn decode_extra(extra: &[u8]) -> Result<Self, ExtraError> {
        let mut buf = extra;
        let value = Self::decode(&mut buf)?;
        finish(buf)?;
        Ok(value)
    }

    /// Encodes to the bytes that go into `header.extraData`.
    pub fn to_extra_bytes(&self) -> Bytes {
        alloy_rlp::encode(self).into()
    }

    /// GoQuorum `getExtra`: extra data shorter than the vanity is treated as vanity only
    /// (padded with zeros), anything else must decode as [`QbftExtra`].
    pub fn from_header_extra_or_vanity(extra: &[u8]) -> Result<Self, ExtraError> {
        if extra.len() < EXTRA_VANITY {
            let mut vanity = extra.to_vec();
            vanity.resize(EXTRA_VANITY, 0);
            return Ok(Self { vanity: vanity.into(), ..Self::default() });
        }
        Self::decode_extra(extra)
    }

    fn payload_len(&self) -> usize {
        let vote_len = self.vote.as_ref().map_or(1, Encodable::length);
        [
            self.vanity.length(),
            encoded_list_len(&self.validators),
            vote_len,
            self.round.length(),
            encoded_list_len(&self.committed_seals),
        ]
        .into_iter()
        .fold(0usize, usize::saturating_add)
    }
}

impl Encodable for QbftExtra {
    fn encode(&self, out: &mut dyn BufMut) {
        Header { list: true, payload_length: self.payload_len() }.encode(out);
        self.vanity.encode(out);
        encode_list(&self.validators, out);
        match &self.vote {
            Some(v) => v.encode(out),
            None => out.put_u8(alloy_rlp::EMPTY_LIST_CODE),
        }
        self.round.encode(out);
        encode_list(&self.committed_seals, out);
    }
    fn length(&self) -> usize {
        let p = self.payload_len();
        p.saturating_add(alloy_rlp::length_of_length(p))
    }
}

impl Decodable for QbftExtra {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut p = list_payload(buf)?;
        let vanity = Bytes::decode(&mut p)?;
        let validators = decode_list_with(&mut p, Address::decode)?;
        // `rlp:"nil"` on a struct pointer: an empty list is nil, an empty string is an error.
        let vote = match p.first() {
            Some(&alloy_rlp::EMPTY_LIST_CODE) => {
                p = p.get(1..).unwrap_or_default();
                None
            }
            Some(&alloy_rlp::EMPTY_STRING_CODE) => {
                return Err(RlpError::Custom("wrong kind of empty value for vote"));
            }
            _ => Some(ValidatorVote::decode(&mut p)?),
        };
        let round = u32::decode(&mut p)?;
        let committed_seals = decode_list_with(&mut p, Bytes::decode)?;
        finish(p)?;
        Ok(Self { vanity, validators, vote, round, committed_seals })
    }
}

/// Legacy IBFT extra data: `vanity[32] ‖ RLP([validators, seal, committedSeals])`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IbftExtra {
    /// The 32 vanity bytes.
    pub vanity: [u8; EXTRA_VANITY],
    /// The validator set after this block, byte-sorted.
    pub validators: Vec<Address>,
    /// The proposer seal (65 bytes, or empty before sealing).
    pub seal: Bytes,
    /// 65-byte committed seals.
    pub committed_seals: Vec<Bytes>,
}

impl IbftExtra {
    /// Decodes IBFT extra data (GoQuorum `ExtractIstanbulExtra`).
    pub fn decode_extra(extra: &[u8]) -> Result<Self, ExtraError> {
        let (vanity, mut rest) =
            extra.split_at_checked(EXTRA_VANITY).ok_or(ExtraError::TooShort)?;
        let mut p = list_payload(&mut rest)?;
        finish(rest)?;
        let validators = decode_list_with(&mut p, Address::decode)?;
        let seal = Bytes::decode(&mut p)?;
        let committed_seals = decode_list_with(&mut p, Bytes::decode)?;
        finish(p)?;
        let mut v = [0u8; EXTRA_VANITY];
        v.copy_from_slice(vanity);
        Ok(Self { vanity: v, validators, seal, committed_seals })
    }

    /// Encodes to the bytes that go into `header.extraData`.
    pub fn to_extra_bytes(&self) -> Bytes {
        let payload = self
            .seal
            .length()
            .saturating_add(encoded_list_len(&self.validators))
            .saturating_add(encoded_list_len(&self.committed_seals));
        let mut out = Vec::with_capacity(EXTRA_VANITY.saturating_add(payload).saturating_add(9));
        out.extend_from_slice(&self.vanity);
        Header { list: true, payload_length: payload }.encode(&mut out);
        encode_list(&self.validators, &mut out);
        self.seal.encode(&mut out);
        encode_list(&self.committed_seals, &mut out);
        out.into()
    }
}
