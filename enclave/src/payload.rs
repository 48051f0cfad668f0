//! [`EncodedPayload`] (an encrypted transaction as stored and pushed) and [`RawTransaction`]
//! (a `/storeraw` transaction encrypted to its sender only).

use std::collections::BTreeMap;

use crate::codec::{self, CodecError};
use crate::types::{MessageHash, PrivacyMetadata, PrivacyMode, PublicKey};

/// An encrypted transaction, field for field Tessera's `EncodedPayload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedPayload {
    /// The sender's public key.
    pub sender_key: PublicKey,
    /// The payload sealed with the master key (`MAC(16) || ciphertext` for NaCl).
    pub cipher_text: Vec<u8>,
    /// Nonce of `cipher_text` (24 bytes).
    pub cipher_text_nonce: Vec<u8>,
    /// One sealed master key per recipient, in `recipient_keys` order.
    pub recipient_boxes: Vec<Vec<u8>>,
    /// Nonce shared by all recipient boxes (24 bytes).
    pub recipient_nonce: Vec<u8>,
    /// Recipient keys (empty in Constellation-era payloads).
    pub recipient_keys: Vec<PublicKey>,
    /// Privacy mode.
    pub privacy_mode: PrivacyMode,
    /// Affected contract transaction hash → security hash.
    pub affected_contract_transactions: BTreeMap<MessageHash, Vec<u8>>,
    /// Execution hash (PSV only), opaque bytes.
    pub exec_hash: Vec<u8>,
    /// Mandatory recipients (mandatory-recipients mode only).
    pub mandatory_recipients: Vec<PublicKey>,
    /// Privacy group id, if any.
    pub privacy_group_id: Option<Vec<u8>>,
}

impl EncodedPayload {
    /// The transaction hash: SHA3-512 of the cipher text.
    pub fn hash(&self) -> MessageHash {
        MessageHash::of_cipher_text(&self.cipher_text)
    }

    /// Tessera's LEGACY binary encoding.
    pub fn encode_legacy(&self) -> Vec<u8> {
        codec::legacy::encode(self)
    }

    /// Decodes Tessera's LEGACY binary encoding, including every older layout (Constellation
    /// 5-field payloads, payloads without privacy data, without groups...).
    pub fn decode_legacy(bytes: &[u8]) -> Result<Self, CodecError> {
        codec::legacy::decode(bytes)
    }

    /// The privacy metadata carried by this payload (without affected payloads).
    pub fn privacy_metadata(&self) -> PrivacyMetadata {
        PrivacyMetadata {
            privacy_mode: self.privacy_mode,
            affected_contract_transactions: self.affected_contract_transactions.clone(),
            exec_hash: self.exec_hash.clone(),
            mandatory_recipients: self.mandatory_recipients.clone(),
            privacy_group_id: self.privacy_group_id.clone(),
            affected_transactions: Vec::new(),
        }
    }

    /// What gets pushed to `recipient` (Tessera's `forRecipient`): only that recipient's box;
    /// the recipient keys reduced to `[recipient]`, or for PSV all keys with `recipient` moved
    /// first. `None` if `recipient` is not a recipient (or has no box).
    pub fn for_recipient(&self, recipient: &PublicKey) -> Option<EncodedPayload> {
        let index = self.recipient_keys.iter().position(|k| k == recipient)?;
        let recipient_box = self.recipient_boxes.get(index)?.clone();
        let recipient_keys = if self.privacy_mode == PrivacyMode::PrivateStateValidation {
            std::iter::once(*recipient)
                .chain(self.recipient_keys.iter().copied().filter(|k| k != recipient))
                .collect()
        } else {
            vec![*recipient]
        };
        Some(EncodedPayload {
            recipient_boxes: vec![recipient_box],
            recipient_keys,
            ..self.clone()
        })
    }
}

/// A transaction encrypted to its sender only (`/storeraw`), waiting for `/sendsignedtx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTransaction {
    /// The payload sealed with the master key.
    pub encrypted_payload: Vec<u8>,
    /// The master key sealed to the sender itself.
    pub encrypted_key: Vec<u8>,
    /// The nonce used for both seals (24 bytes).
    pub nonce: Vec<u8>,
    /// The sender.
    pub from: PublicKey,
}

impl RawTransaction {
    /// The raw transaction hash: SHA3-512 of the encrypted payload.
    pub fn hash(&self) -> MessageHash {
        MessageHash::of_cipher_text(&self.encrypted_payload)
    }
}
