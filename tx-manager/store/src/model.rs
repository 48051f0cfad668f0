//! Plain data rows kept by the store: encrypted payloads, raw payloads, privacy groups.

use std::fmt;

/// A 64-byte message hash (SHA3-512 of the cipher text), Tessera's `MessageHash`.
pub type MessageHash = [u8; 64];
/// A 32-byte Curve25519 public key.
pub type PublicKey = [u8; 32];

/// How `encoded_payload` is encoded. The store never decodes it; it only keeps the tag
/// (Tessera's `PAYLOAD_CODEC` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PayloadCodec {
    /// Tessera's big-endian length-prefixed binary encoding.
    Legacy,
    /// CBOR (peers advertising API 5.0).
    Cbor,
}

impl PayloadCodec {
    /// The tag stored in the database (Tessera's spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            PayloadCodec::Legacy => "LEGACY",
            PayloadCodec::Cbor => "CBOR",
        }
    }

    /// Parses a stored tag; `None` for an unknown tag.
    pub fn from_db(tag: &str) -> Option<Self> {
        match tag {
            "LEGACY" => Some(PayloadCodec::Legacy),
            "CBOR" => Some(PayloadCodec::Cbor),
            _ => None,
        }
    }
}

impl fmt::Display for PayloadCodec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored encrypted transaction (a row of Tessera's `ENCRYPTED_TRANSACTION`), plus the
/// recipient keys that feed the recipient index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPayload {
    /// SHA3-512 of the cipher text.
    pub hash: MessageHash,
    /// The encoded `EncodedPayload` bytes (opaque to the store; must not be empty).
    pub encoded_payload: Vec<u8>,
    /// Encoding of `encoded_payload`.
    pub codec: PayloadCodec,
    /// Recipient public keys; each gets an entry in the recipient index.
    /// Duplicates are stored once; order is preserved as given.
    pub recipients: Vec<PublicKey>,
    /// Sender public key.
    pub sender: PublicKey,
    /// Unix time in milliseconds.
    pub timestamp: i64,
}

/// One stored raw transaction (Tessera's `ENCRYPTED_RAW_TRANSACTION`, written by `/storeraw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRawPayload {
    /// SHA3-512 of `encrypted_payload`.
    pub hash: MessageHash,
    /// The secretbox cipher text.
    pub encrypted_payload: Vec<u8>,
    /// The master key sealed for the sender.
    pub encrypted_key: Vec<u8>,
    /// Nonce(s) used.
    pub nonce: Vec<u8>,
    /// Sender public key.
    pub sender: PublicKey,
    /// Unix time in milliseconds.
    pub timestamp: i64,
}

/// One stored privacy group (Tessera's `PRIVACY_GROUP`): `data` is the encoded group (opaque),
/// `lookup_id` is the hash of the sorted member list used to search groups by members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPrivacyGroup {
    /// Group id.
    pub id: Vec<u8>,
    /// Lookup id (derived from the members).
    pub lookup_id: Vec<u8>,
    /// Encoded group (opaque to the store).
    pub data: Vec<u8>,
    /// Unix time in milliseconds.
    pub timestamp: i64,
}

/// Displays a hash or key as standard padded base64, as Tessera and GoQuorum log them.
#[derive(Clone, Copy)]
pub struct B64<'a>(pub &'a [u8]);

impl fmt::Display for B64<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use base64::Engine as _;
        f.write_str(&base64::engine::general_purpose::STANDARD.encode(self.0))
    }
}

impl fmt::Debug for B64<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}
