//! Tessera's LEGACY payload codec (`PayloadEncoderImpl`): big-endian, every field an 8-byte
//! signed length followed by its bytes, every list an 8-byte count followed by fields.
//!
//! Layout: sender, cipherText, cipherTextNonce, [recipientBoxes], recipientNonce,
//! [recipientKeys]?, flag?, affected map (with flag), execHash (PSV), [mandatory] (MR),
//! privacyGroupId?. Older layouts stop after the recipient nonce (Constellation) or after the
//! recipient keys. Decoding is strict: lengths are checked against the remaining input before
//! anything is allocated, fixed-size fields must have their size, Tessera's builder invariants
//! hold, and trailing bytes are rejected.

use std::collections::BTreeMap;

use super::CodecError;
use crate::payload::EncodedPayload;
use crate::types::{MessageHash, PrivacyMode, PublicKey};

const LEN: usize = 8;

/// Encodes a payload in the LEGACY layout, byte for byte as Tessera writes it (affected
/// transactions in hash order). The execution hash is written only for PSV payloads and the
/// mandatory recipients only for MR payloads, so the output always decodes unambiguously.
pub fn encode(payload: &EncodedPayload) -> Vec<u8> {
    let mut out = Vec::with_capacity(encoded_len(payload));
    put_field(&mut out, payload.sender_key.as_bytes());
    put_field(&mut out, &payload.cipher_text);
    put_field(&mut out, &payload.cipher_text_nonce);
    put_count(&mut out, payload.recipient_boxes.len());
    for recipient_box in &payload.recipient_boxes {
        put_field(&mut out, recipient_box);
    }
    put_field(&mut out, &payload.recipient_nonce);
    put_count(&mut out, payload.recipient_keys.len());
    for key in &payload.recipient_keys {
        put_field(&mut out, key.as_bytes());
    }
    put_field(&mut out, &[payload.privacy_mode as u8]);
    put_count(&mut out, payload.affected_contract_transactions.len());
    for (hash, security_hash) in &payload.affected_contract_transactions {
        put_field(&mut out, hash.as_bytes());
        put_field(&mut out, security_hash);
    }
    if payload.privacy_mode == PrivacyMode::PrivateStateValidation && !payload.exec_hash.is_empty()
    {
        put_field(&mut out, &payload.exec_hash);
    }
    if payload.privacy_mode == PrivacyMode::MandatoryRecipients {
        put_count(&mut out, payload.mandatory_recipients.len());
        for key in &payload.mandatory_recipients {
            put_field(&mut out, key.as_bytes());
        }
    }
    if let Some(group) = &payload.privacy_group_id {
        put_field(&mut out, group);
    }
    out
}

fn encoded_len(payload: &EncodedPayload) -> usize {
    let fields = |items: usize, bytes: usize| items.saturating_mul(LEN).saturating_add(bytes);
    [
        fields(1, PublicKey::LEN),
        fields(1, payload.cipher_text.len()),
        fields(1, payload.cipher_text_nonce.len()),
        fields(
            1 + payload.recipient_boxes.len(),
            payload.recipient_boxes.iter().map(Vec::len).sum(),
        ),
        fields(1, payload.recipient_nonce.len()),
        fields(
            1 + payload.recipient_keys.len(),
            payload.recipient_keys.len().saturating_mul(PublicKey::LEN),
        ),
        fields(1, 1),
        fields(
            1 + 2 * payload.affected_contract_transactions.len(),
            payload
                .affected_contract_transactions
                .values()
                .map(|v| v.len() + MessageHash::LEN)
                .sum(),
        ),
        fields(1, payload.exec_hash.len()),
        fields(
            1 + payload.mandatory_recipients.len(),
            payload.mandatory_recipients.len().saturating_mul(PublicKey::LEN),
        ),
        fields(1, payload.privacy_group_id.as_ref().map_or(0, Vec::len)),
    ]
    .into_iter()
    .fold(0usize, usize::saturating_add)
}

fn put_count(out: &mut Vec<u8>, count: usize) {
    // A Vec never holds more than isize::MAX elements, so this is lossless.
    out.extend_from_slice(&(count as u64).to_be_bytes());
}

fn put_field(out: &mut Vec<u8>, bytes: &[u8]) {
    put_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

/// Decodes a LEGACY payload (every layout Tessera decodes), strictly.
pub fn decode(input: &[u8]) -> Result<EncodedPayload, CodecError> {
    let mut reader = Reader { rest: input };
    let sender_key = PublicKey(reader.fixed("senderKey")?);
    let cipher_text = reader.field("cipherText")?.to_vec();
    let cipher_text_nonce = reader.field("cipherTextNonce")?.to_vec();
    let recipient_boxes =
        reader.list("recipientBoxes", |r| Ok(r.field("recipientBox")?.to_vec()))?;
    let recipient_nonce = reader.field("recipientNonce")?.to_vec();

    let mut payload = EncodedPayload {
        sender_key,
        cipher_text,
        cipher_text_nonce,
        recipient_boxes,
        recipient_nonce,
        recipient_keys: Vec::new(),
        privacy_mode: PrivacyMode::StandardPrivate,
        affected_contract_transactions: BTreeMap::new(),
        exec_hash: Vec::new(),
        mandatory_recipients: Vec::new(),
        privacy_group_id: None,
    };
    if reader.is_empty() {
        return Ok(payload);
    }
    payload.recipient_keys =
        reader.list("recipientKeys", |r| Ok(PublicKey(r.fixed("recipientKey")?)))?;
    if reader.is_empty() {
        return Ok(payload);
    }

    let flag = reader.field("privacyFlag")?;
    let flag = match flag {
        [flag] => *flag,
        other => {
            return Err(CodecError::InvalidFieldLength {
                field: "privacyFlag",
                expected: 1,
                actual: other.len(),
            });
        }
    };
    payload.privacy_mode = PrivacyMode::from_flag(u32::from(flag))
        .map_err(|_| CodecError::UnknownPrivacyFlag(flag))?;

    let affected = reader.list("affectedContractTransactions", |r| {
        let hash = MessageHash(r.fixed("affectedTxHash")?);
        let security_hash = r.field("securityHash")?.to_vec();
        Ok((hash, security_hash))
    })?;
    for (hash, security_hash) in affected {
        if payload.affected_contract_transactions.insert(hash, security_hash).is_some() {
            return Err(CodecError::DuplicateAffectedTransaction(hash));
        }
    }

    if payload.privacy_mode == PrivacyMode::PrivateStateValidation && !reader.is_empty() {
        payload.exec_hash = reader.field("execHash")?.to_vec();
    }
    if payload.privacy_mode == PrivacyMode::MandatoryRecipients && !reader.is_empty() {
        payload.mandatory_recipients = reader
            .list("mandatoryRecipients", |r| Ok(PublicKey(r.fixed("mandatoryRecipient")?)))?;
    }
    if !reader.is_empty() {
        let group = reader.field("privacyGroupId")?;
        if !group.is_empty() {
            payload.privacy_group_id = Some(group.to_vec());
        }
    }
    if !reader.is_empty() {
        return Err(CodecError::TrailingBytes(reader.rest.len()));
    }
    check_invariants(&payload)?;
    Ok(payload)
}

fn check_invariants(payload: &EncodedPayload) -> Result<(), CodecError> {
    let psv = payload.privacy_mode == PrivacyMode::PrivateStateValidation;
    if psv == payload.exec_hash.is_empty() {
        return Err(CodecError::Inconsistent(
            "execution hash must be present exactly for private state validation",
        ));
    }
    let mr = payload.privacy_mode == PrivacyMode::MandatoryRecipients;
    if mr == payload.mandatory_recipients.is_empty() {
        return Err(CodecError::Inconsistent(
            "mandatory recipients must be present exactly for the mandatory recipients mode",
        ));
    }
    Ok(())
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// Reads a length prefix and checks `0 <= length * unit <= remaining`.
    fn length(&mut self, field: &'static str, unit: usize) -> Result<usize, CodecError> {
        let (prefix, rest) = self
            .rest
            .split_first_chunk::<LEN>()
            .ok_or(CodecError::TruncatedLength { field, remaining: self.rest.len() })?;
        let length = i64::from_be_bytes(*prefix);
        let exceeds = CodecError::LengthExceedsInput { field, length, remaining: rest.len() };
        let count =
            usize::try_from(length).map_err(|_| CodecError::NegativeLength { field, length })?;
        if count.checked_mul(unit).is_none_or(|needed| needed > rest.len()) {
            return Err(exceeds);
        }
        self.rest = rest;
        Ok(count)
    }

    fn field(&mut self, field: &'static str) -> Result<&'a [u8], CodecError> {
        let length = self.length(field, 1)?;
        let remaining = self.rest.len();
        let (bytes, rest) =
            self.rest.split_at_checked(length).ok_or(CodecError::LengthExceedsInput {
                field,
                length: i64::try_from(length).unwrap_or(i64::MAX),
                remaining,
            })?;
        self.rest = rest;
        Ok(bytes)
    }

    fn fixed<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], CodecError> {
        let bytes = self.field(field)?;
        <[u8; N]>::try_from(bytes).map_err(|_| CodecError::InvalidFieldLength {
            field,
            expected: N,
            actual: bytes.len(),
        })
    }

    /// Reads a counted list; every element needs at least one 8-byte length, which bounds the
    /// count by the remaining input before anything is allocated.
    fn list<T>(
        &mut self,
        field: &'static str,
        mut element: impl FnMut(&mut Self) -> Result<T, CodecError>,
    ) -> Result<Vec<T>, CodecError> {
        let count = self.length(field, LEN)?;
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(element(self)?);
        }
        Ok(items)
    }
}
