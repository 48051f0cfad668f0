//! QBFT wire messages: PRE-PREPARE, PREPARE, COMMIT and ROUND-CHANGE.
//!
//! Reference: GoQuorum `consensus/istanbul/qbft/types/{prepare,commit,preprepare,roundchange,
//! decode}.go`. Messages travel as p2p message codes 0x12..=0x15 with the RLP below as payload.
//! Each message is signed with the hashing `Sign` over `rlp([code, payload])`.
//!
//! | code | message | wire RLP |
//! |------|---------|----------|
//! | 0x12 | PRE-PREPARE | `[[[seq, round, block], sig], [[SignedRoundChange…], [Prepare…]]]` |
//! | 0x13 | PREPARE | `[[seq, round, digest], sig]` |
//! | 0x14 | COMMIT | `[[seq, round, digest, commitSeal], sig]` |
//! | 0x15 | ROUND-CHANGE | `[[[seq, round, [preparedRound, preparedDigest] or []], sig], block or 0xc0, [Prepare…]]` |

use alloy_primitives::{Address, B256, Bytes};
use alloy_rlp::{BufMut, Decodable, Encodable, Error as RlpError, Header};

use crate::{
    block::Proposal,
    crypto::{SignatureError, ValidatorKey, recover_hashed},
    rlp_util::{decode_list_with, finish, list_payload, next_is_empty},
};

/// PRE-PREPARE (PROPOSAL) message code.
pub const PREPREPARE_CODE: u64 = 0x12;
/// PREPARE message code.
pub const PREPARE_CODE: u64 = 0x13;
/// COMMIT message code.
pub const COMMIT_CODE: u64 = 0x14;
/// ROUND-CHANGE message code.
pub const ROUND_CHANGE_CODE: u64 = 0x15;

/// Why a message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// Not one of the four QBFT codes (`ErrInvalidMessage`).
    #[error("invalid message code {0:#x}")]
    UnknownCode(u64),
    /// The RLP does not match the message shape.
    #[error("failed to decode {kind} message: {source}")]
    Rlp {
        /// Which message.
        kind: &'static str,
        /// The RLP error.
        source: RlpError,
    },
    /// A ROUND-CHANGE carries a prepared block whose hash is not the prepared digest.
    #[error("prepared block hash does not match the prepared digest")]
    PreparedBlockMismatch,
}

/// Consensus instance and round of a message (`istanbul.View`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct View {
    /// Block height (`Sequence`). Declared first so views order by height, then round.
    pub sequence: u64,
    /// Round.
    pub round: u64,
}

fn list_header(payload_length: usize) -> Header {
    Header { list: true, payload_length }
}

fn enc_len(payload: usize) -> usize {
    payload.saturating_add(alloy_rlp::length_of_length(payload))
}

fn sum(parts: &[usize]) -> usize {
    parts.iter().fold(0usize, |a, b| a.saturating_add(*b))
}

fn vec_len<T: Encodable>(items: &[T]) -> usize {
    enc_len(items.iter().map(Encodable::length).fold(0usize, usize::saturating_add))
}

fn encode_vec<T: Encodable>(items: &[T], out: &mut dyn BufMut) {
    list_header(items.iter().map(Encodable::length).fold(0usize, usize::saturating_add))
        .encode(out);
    for i in items {
        i.encode(out);
    }
}

/// `rlp([code, payload])` where `payload` is already encoded.
fn signing_bytes(code: u64, encoded_payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_payload.len().saturating_add(10));
    list_header(code.length().saturating_add(encoded_payload.len())).encode(&mut out);
    code.encode(&mut out);
    out.extend_from_slice(encoded_payload);
    out
}

fn rlp_err(kind: &'static str) -> impl Fn(RlpError) -> MessageError {
    move |source| MessageError::Rlp { kind, source }
}

// ---------------------------------------------------------------------------------------------
// PREPARE

/// A signed PREPARE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepare {
    /// View.
    pub view: View,
    /// Hash of the proposed block.
    pub digest: B256,
    /// Signature over [`Prepare::signing_payload`].
    pub signature: Bytes,
}

impl Prepare {
    fn payload_len(&self) -> usize {
        sum(&[self.view.sequence.length(), self.view.round.length(), self.digest.length()])
    }
    fn encode_payload(&self, out: &mut dyn BufMut) {
        list_header(self.payload_len()).encode(out);
        self.view.sequence.encode(out);
        self.view.round.encode(out);
        self.digest.encode(out);
    }

    /// `rlp([0x13, [seq, round, digest]])`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        self.encode_payload(&mut p);
        signing_bytes(PREPARE_CODE, &p)
    }

    /// Creates and signs a PREPARE.
    pub fn signed(key: &ValidatorKey, view: View, digest: B256) -> Self {
        let mut m = Self { view, digest, signature: Bytes::new() };
        m.signature = key.sign_hashed(&m.signing_payload()).to_vec().into();
        m
    }

    /// The signer's address.
    pub fn signer(&self) -> Result<Address, SignatureError> {
        recover_hashed(&self.signing_payload(), &self.signature)
    }
}

impl Encodable for Prepare {
    fn encode(&self, out: &mut dyn BufMut) {
        list_header(enc_len(self.payload_len()).saturating_add(self.signature.length()))
            .encode(out);
        self.encode_payload(out);
        self.signature.encode(out);
    }
    fn length(&self) -> usize {
        enc_len(enc_len(self.payload_len()).saturating_add(self.signature.length()))
    }
}

impl Decodable for Prepare {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut outer = list_payload(buf)?;
        let mut p = list_payload(&mut outer)?;
        let sequence = u64::decode(&mut p)?;
        let round = u64::decode(&mut p)?;
        let digest = B256::decode(&mut p)?;
        finish(p)?;
        let signature = Bytes::decode(&mut outer)?;
        finish(outer)?;
        Ok(Self { view: View { sequence, round }, digest, signature })
    }
}

// ---------------------------------------------------------------------------------------------
// COMMIT

/// A signed COMMIT carrying the sender's committed seal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// View.
    pub view: View,
    /// Hash of the proposed block.
    pub digest: B256,
    /// The committed seal for the block at this round.
    pub commit_seal: Bytes,
    /// Signature over [`Commit::signing_payload`].
    pub signature: Bytes,
}

impl Commit {
    fn payload_len(&self) -> usize {
        sum(&[
            self.view.sequence.length(),
            self.view.round.length(),
            self.digest.length(),
            self.commit_seal.length(),
        ])
    }
    fn encode_payload(&self, out: &mut dyn BufMut) {
        list_header(self.payload_len()).encode(out);
        self.view.sequence.encode(out);
        self.view.round.encode(out);
        self.digest.encode(out);
        self.commit_seal.encode(out);
    }

    /// `rlp([0x14, [seq, round, digest, commitSeal]])`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        self.encode_payload(&mut p);
        signing_bytes(COMMIT_CODE, &p)
    }

    /// Creates and signs a COMMIT.
    pub fn signed(key: &ValidatorKey, view: View, digest: B256, commit_seal: [u8; 65]) -> Self {
        let mut m = Self {
            view,
            digest,
            commit_seal: commit_seal.to_vec().into(),
            signature: Bytes::new(),
        };
        m.signature = key.sign_hashed(&m.signing_payload()).to_vec().into();
        m
    }

    /// The signer's address.
    pub fn signer(&self) -> Result<Address, SignatureError> {
        recover_hashed(&self.signing_payload(), &self.signature)
    }
}

impl Encodable for Commit {
    fn encode(&self, out: &mut dyn BufMut) {
        list_header(enc_len(self.payload_len()).saturating_add(self.signature.length()))
            .encode(out);
        self.encode_payload(out);
        self.signature.encode(out);
    }
    fn length(&self) -> usize {
        enc_len(enc_len(self.payload_len()).saturating_add(self.signature.length()))
    }
}

impl Decodable for Commit {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut outer = list_payload(buf)?;
        let mut p = list_payload(&mut outer)?;
        let sequence = u64::decode(&mut p)?;
        let round = u64::decode(&mut p)?;
        let digest = B256::decode(&mut p)?;
        let commit_seal = Bytes::decode(&mut p)?;
        finish(p)?;
        let signature = Bytes::decode(&mut outer)?;
        finish(outer)?;
        Ok(Self { view: View { sequence, round }, digest, commit_seal, signature })
    }
}

// ---------------------------------------------------------------------------------------------
// ROUND-CHANGE

/// The last round and block a validator prepared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prepared {
    /// The prepared round.
    pub round: u64,
    /// The prepared block's hash.
    pub digest: B256,
}

/// A signed ROUND-CHANGE payload (`SignedRoundChangePayload`), also used as justification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRoundChange {
    /// The view the sender moves to.
    pub view: View,
    /// What the sender prepared, if anything. A zero digest encodes as "nothing", as in Go.
    pub prepared: Option<Prepared>,
    /// Signature over [`SignedRoundChange::signing_payload`].
    pub signature: Bytes,
}

impl SignedRoundChange {
    fn prepared_effective(&self) -> Option<Prepared> {
        self.prepared.filter(|p| p.digest != B256::ZERO)
    }
    fn prepared_len(&self) -> usize {
        self.prepared_effective().map_or(0, |p| p.round.length().saturating_add(p.digest.length()))
    }
    fn payload_len(&self) -> usize {
        sum(&[self.view.sequence.length(), self.view.round.length(), enc_len(self.prepared_len())])
    }
    fn encode_payload(&self, out: &mut dyn BufMut) {
        list_header(self.payload_len()).encode(out);
        self.view.sequence.encode(out);
        self.view.round.encode(out);
        list_header(self.prepared_len()).encode(out);
        if let Some(p) = self.prepared_effective() {
            p.round.encode(out);
            p.digest.encode(out);
        }
    }

    /// `rlp([0x15, [seq, round, prepared]])`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        self.encode_payload(&mut p);
        signing_bytes(ROUND_CHANGE_CODE, &p)
    }

    /// Creates and signs a ROUND-CHANGE payload.
    pub fn signed(key: &ValidatorKey, view: View, prepared: Option<Prepared>) -> Self {
        let mut m = Self { view, prepared, signature: Bytes::new() };
        m.signature = key.sign_hashed(&m.signing_payload()).to_vec().into();
        m
    }

    /// The signer's address.
    pub fn signer(&self) -> Result<Address, SignatureError> {
        recover_hashed(&self.signing_payload(), &self.signature)
    }

    fn decode_fields(outer: &mut &[u8]) -> Result<Self, RlpError> {
        let mut p = list_payload(outer)?;
        let sequence = u64::decode(&mut p)?;
        let round = u64::decode(&mut p)?;
        let mut prep = list_payload(&mut p)?;
        let prepared = if prep.is_empty() {
            None
        } else {
            let round = u64::decode(&mut prep)?;
            let digest = B256::decode(&mut prep)?;
            finish(prep)?;
            Some(Prepared { round, digest })
        };
        finish(p)?;
        let signature = Bytes::decode(outer)?;
        Ok(Self { view: View { sequence, round }, prepared, signature })
    }
}

impl Encodable for SignedRoundChange {
    fn encode(&self, out: &mut dyn BufMut) {
        list_header(enc_len(self.payload_len()).saturating_add(self.signature.length()))
            .encode(out);
        self.encode_payload(out);
        self.signature.encode(out);
    }
    fn length(&self) -> usize {
        enc_len(enc_len(self.payload_len()).saturating_add(self.signature.length()))
    }
}

impl Decodable for SignedRoundChange {
    fn decode(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut outer = list_payload(buf)?;
        let m = Self::decode_fields(&mut outer)?;
        finish(outer)?;
        Ok(m)
    }
}

/// A ROUND-CHANGE: the signed payload plus the prepared block and its PREPARE justification.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundChange<B> {
    /// The signed payload.
    pub payload: SignedRoundChange,
    /// The prepared block (`nil` → `0xc0` on the wire).
    pub prepared_block: Option<B>,
    /// A quorum of PREPAREs for the prepared block.
    pub justification: Vec<Prepare>,
}

impl<B: Proposal> RoundChange<B> {
    fn block_len(&self) -> usize {
        self.prepared_block.as_ref().map_or(1, Encodable::length)
    }
    fn payload_len(&self) -> usize {
        sum(&[self.payload.length(), self.block_len(), vec_len(&self.justification)])
    }

    fn decode_with(buf: &mut &[u8]) -> Result<Self, MessageError> {
        let e = rlp_err("ROUND-CHANGE");
        let mut outer = list_payload(buf).map_err(&e)?;
        let payload = SignedRoundChange::decode(&mut outer).map_err(&e)?;
        let prepared_block = if next_is_empty(outer) {
            outer = outer.get(1..).unwrap_or_default();
            None
        } else {
            let b = B::decode(&mut outer).map_err(&e)?;
            let digest = payload.prepared.map(|p| p.digest).unwrap_or_default();
            if b.hash() != digest {
                return Err(MessageError::PreparedBlockMismatch);
            }
            Some(b)
        };
        let justification = if next_is_empty(outer) {
            outer = outer.get(1..).unwrap_or_default();
            Vec::new()
        } else {
            decode_list_with(&mut outer, Prepare::decode).map_err(&e)?
        };
        finish(outer).map_err(&e)?;
        Ok(Self { payload, prepared_block, justification })
    }
}

impl<B: Proposal> Encodable for RoundChange<B> {
    fn encode(&self, out: &mut dyn BufMut) {
        list_header(self.payload_len()).encode(out);
        self.payload.encode(out);
        match &self.prepared_block {
            Some(b) => b.encode(out),
            None => out.put_u8(alloy_rlp::EMPTY_LIST_CODE),
        }
        encode_vec(&self.justification, out);
    }
    fn length(&self) -> usize {
        enc_len(self.payload_len())
    }
}

// ---------------------------------------------------------------------------------------------
// PRE-PREPARE

/// A signed PRE-PREPARE (PROPOSAL) with its round-change justification.
#[derive(Debug, Clone, PartialEq)]
pub struct Preprepare<B> {
    /// View.
    pub view: View,
    /// The proposed block.
    pub block: B,
    /// Signature over [`Preprepare::signing_payload`].
    pub signature: Bytes,
    /// A quorum of ROUND-CHANGE payloads (rounds > 0).
    pub round_change_justification: Vec<SignedRoundChange>,
    /// The PREPAREs justifying a re-proposed block (rounds > 0).
    pub prepare_justification: Vec<Prepare>,
}

impl<B: Proposal> Preprepare<B> {
    fn payload_len(&self) -> usize {
        sum(&[self.view.sequence.length(), self.view.round.length(), self.block.length()])
    }
    fn encode_payload(&self, out: &mut dyn BufMut) {
        list_header(self.payload_len()).encode(out);
        self.view.sequence.encode(out);
        self.view.round.encode(out);
        self.block.encode(out);
    }
    fn signed_len(&self) -> usize {
        enc_len(enc_len(self.payload_len()).saturating_add(self.signature.length()))
    }
    fn justification_len(&self) -> usize {
        enc_len(
            vec_len(&self.round_change_justification)
                .saturating_add(vec_len(&self.prepare_justification)),
        )
    }

    /// `rlp([0x12, [seq, round, block]])`.
    pub fn signing_payload(&self) -> Vec<u8> {
        let mut p = Vec::new();
        self.encode_payload(&mut p);
        signing_bytes(PREPREPARE_CODE, &p)
    }

    /// Creates and signs a PRE-PREPARE.
    pub fn signed(
        key: &ValidatorKey,
        view: View,
        block: B,
        round_change_justification: Vec<SignedRoundChange>,
        prepare_justification: Vec<Prepare>,
    ) -> Self {
        let mut m = Self {
            view,
            block,
            signature: Bytes::new(),
            round_change_justification,
            prepare_justification,
        };
        m.signature = key.sign_hashed(&m.signing_payload()).to_vec().into();
        m
    }

    /// The signer's address.
    pub fn signer(&self) -> Result<Address, SignatureError> {
        recover_hashed(&self.signing_payload(), &self.signature)
    }

    fn decode_with(buf: &mut &[u8]) -> Result<Self, RlpError> {
        let mut outer = list_payload(buf)?;
        let mut signed = list_payload(&mut outer)?;
        let mut p = list_payload(&mut signed)?;
        let sequence = u64::decode(&mut p)?;
        let round = u64::decode(&mut p)?;
        let block = B::decode(&mut p)?;
        finish(p)?;
        let signature = Bytes::decode(&mut signed)?;
        finish(signed)?;
        let mut just = list_payload(&mut outer)?;
        let round_change_justification = decode_list_with(&mut just, SignedRoundChange::decode)?;
        let prepare_justification = decode_list_with(&mut just, Prepare::decode)?;
        finish(just)?;
        finish(outer)?;
        Ok(Self {
            view: View { sequence, round },
            block,
            signature,
            round_change_justification,
            prepare_justification,
        })
    }
}

impl<B: Proposal> Encodable for Preprepare<B> {
    fn encode(&self, out: &mut dyn BufMut) {
        list_header(self.signed_len().saturating_add(self.justification_len())).encode(out);
        list_header(enc_len(self.payload_len()).saturating_add(self.signature.length()))
            .encode(out);
        self.encode_payload(out);
        self.signature.encode(out);
        list_header(
            vec_len(&self.round_change_justification)
                .saturating_add(vec_len(&self.prepare_justification)),
        )
        .encode(out);
        encode_vec(&self.round_change_justification, out);
        encode_vec(&self.prepare_justification, out);
    }
    fn length(&self) -> usize {
        enc_len(self.signed_len().saturating_add(self.justification_len()))
    }
}

// ---------------------------------------------------------------------------------------------
// Any message

/// Any QBFT message.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<B> {
    /// 0x12.
    Preprepare(Preprepare<B>),
    /// 0x13.
    Prepare(Prepare),
    /// 0x14.
    Commit(Commit),
    /// 0x15.
    RoundChange(RoundChange<B>),
}

impl<B: Proposal> Message<B> {
    /// Decodes untrusted bytes received with p2p message `code` (GoQuorum `qbfttypes.Decode`).
    pub fn decode(code: u64, data: &[u8]) -> Result<Self, MessageError> {
        let mut buf = data;
        let msg = match code {
            PREPREPARE_CODE => {
                let e = rlp_err("PRE-PREPARE");
                let m = Preprepare::decode_with(&mut buf).map_err(&e)?;
                finish(buf).map_err(&e)?;
                Self::Preprepare(m)
            }
            PREPARE_CODE => {
                let e = rlp_err("PREPARE");
                let m = Prepare::decode(&mut buf).map_err(&e)?;
                finish(buf).map_err(&e)?;
                Self::Prepare(m)
            }
            COMMIT_CODE => {
                let e = rlp_err("COMMIT");
                let m = Commit::decode(&mut buf).map_err(&e)?;
                finish(buf).map_err(&e)?;
                Self::Commit(m)
            }
            ROUND_CHANGE_CODE => {
                let m = RoundChange::decode_with(&mut buf)?;
                finish(buf).map_err(rlp_err("ROUND-CHANGE"))?;
                Self::RoundChange(m)
            }
            other => return Err(MessageError::UnknownCode(other)),
        };
        Ok(msg)
    }

    /// The p2p message code.
    pub fn code(&self) -> u64 {
        match self {
            Self::Preprepare(_) => PREPREPARE_CODE,
            Self::Prepare(_) => PREPARE_CODE,
            Self::Commit(_) => COMMIT_CODE,
            Self::RoundChange(_) => ROUND_CHANGE_CODE,
        }
    }

    /// The wire payload.
    pub fn encode_payload(&self) -> Vec<u8> {
        match self {
            Self::Preprepare(m) => alloy_rlp::encode(m),
            Self::Prepare(m) => alloy_rlp::encode(m),
            Self::Commit(m) => alloy_rlp::encode(m),
            Self::RoundChange(m) => alloy_rlp::encode(m),
        }
    }

    /// The message's view.
    pub fn view(&self) -> View {
        match self {
            Self::Preprepare(m) => m.view,
            Self::Prepare(m) => m.view,
            Self::Commit(m) => m.view,
            Self::RoundChange(m) => m.payload.view,
        }
    }

    /// Recovers the sender from the message signature.
    pub fn signer(&self) -> Result<Address, SignatureError> {
        match self {
            Self::Preprepare(m) => m.signer(),
            Self::Prepare(m) => m.signer(),
            Self::Commit(m) => m.signer(),
            Self::RoundChange(m) => m.payload.signer(),
        }
    }
}
