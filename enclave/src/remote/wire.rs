//! JSON models of Tessera's enclave REST API (`EnclavePayload`, `EnclaveRawPayload`,
//! `EnclaveUnencryptPayload`, `KeyValuePair`, find-invalid-security-hashes request/response).
//! Byte fields are base64 strings; `privacyMode` is Tessera's enum name (a number is accepted).

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::EnclaveError;
use crate::payload::{EncodedPayload, RawTransaction};
use crate::types::{AffectedTransaction, MessageHash, PrivacyMetadata, PrivacyMode, PublicKey};

/// Serde helpers for base64 byte fields.
pub mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes base64 (or null, as empty) into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(deserializer)?;
        match text {
            None => Ok(Vec::new()),
            Some(text) => STANDARD.decode(text).map_err(serde::de::Error::custom),
        }
    }

    /// Optional base64 field.
    pub mod option {
        use super::*;

        /// Serializes `Some(bytes)` as base64, `None` as null.
        pub fn serialize<S: Serializer>(
            bytes: &Option<Vec<u8>>,
            serializer: S,
        ) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(bytes) => super::serialize(bytes, serializer),
                None => serializer.serialize_none(),
            }
        }

        /// Deserializes optional base64 (empty counts as absent).
        pub fn deserialize<'de, D: Deserializer<'de>>(
            deserializer: D,
        ) -> Result<Option<Vec<u8>>, D::Error> {
            let bytes = super::deserialize(deserializer)?;
            Ok((!bytes.is_empty()).then_some(bytes))
        }
    }
}

/// A JSON `null` list (Java clients may send them) reads as empty.
fn null_as_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Tessera's `KeyValuePair` (base64 key and value).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyValuePair {
    /// Key bytes.
    #[serde(with = "b64")]
    pub key: Vec<u8>,
    /// Value bytes.
    #[serde(with = "b64")]
    pub value: Vec<u8>,
}

fn serialize_mode<S: Serializer>(
    mode: &Option<PrivacyMode>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match mode {
        Some(mode) => serializer.serialize_str(mode.name()),
        None => serializer.serialize_none(),
    }
}

fn deserialize_mode<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<PrivacyMode>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Mode {
        Name(String),
        Flag(u32),
    }
    match Option::<Mode>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Mode::Name(name)) => PrivacyMode::from_name(&name)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown privacy mode {name}"))),
        Some(Mode::Flag(flag)) => {
            PrivacyMode::from_flag(flag).map(Some).map_err(serde::de::Error::custom)
        }
    }
}

/// Privacy fields shared by `EnclavePayload` and `EnclaveRawPayload`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WireMetadata {
    /// Recipients.
    #[serde(default, deserialize_with = "null_as_default")]
    pub recipient_public_keys: Vec<PublicKey>,
    /// Privacy mode (enum name).
    #[serde(default, serialize_with = "serialize_mode", deserialize_with = "deserialize_mode")]
    pub privacy_mode: Option<PrivacyMode>,
    /// Affected transactions: hash → LEGACY-encoded payload.
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected_contract_transactions: Vec<KeyValuePair>,
    /// Execution hash.
    #[serde(default, with = "b64")]
    pub exec_hash: Vec<u8>,
    /// Mandatory recipients.
    #[serde(default, deserialize_with = "null_as_default")]
    pub mandatory_recipients: Vec<PublicKey>,
    /// Privacy group id.
    #[serde(default, with = "b64::option", skip_serializing_if = "Option::is_none")]
    pub privacy_group_id: Option<Vec<u8>>,
    /// Precomputed security hashes: hash → security hash (quorum-rs extension).
    #[serde(default, deserialize_with = "null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub qrs_security_hashes: Vec<KeyValuePair>,
}

impl WireMetadata {
    /// Converts recipients and metadata to the wire form.
    pub fn from_meta(recipients: &[PublicKey], meta: &PrivacyMetadata) -> Self {
        Self {
            recipient_public_keys: recipients.to_vec(),
            privacy_mode: Some(meta.privacy_mode),
            affected_contract_transactions: meta
                .affected_transactions
                .iter()
                .map(|a| KeyValuePair { key: a.hash.0.to_vec(), value: a.payload.encode_legacy() })
                .collect(),
            exec_hash: meta.exec_hash.clone(),
            mandatory_recipients: meta.mandatory_recipients.clone(),
            privacy_group_id: meta.privacy_group_id.clone(),
            qrs_security_hashes: meta
                .affected_contract_transactions
                .iter()
                .map(|(hash, security_hash)| KeyValuePair {
                    key: hash.0.to_vec(),
                    value: security_hash.clone(),
                })
                .collect(),
        }
    }

    /// Converts back to recipients and metadata.
    pub fn into_meta(self) -> Result<(Vec<PublicKey>, PrivacyMetadata), EnclaveError> {
        let affected_transactions = decode_affected(&self.affected_contract_transactions)?;
        let affected_contract_transactions = self
            .qrs_security_hashes
            .into_iter()
            .map(|pair| Ok((hash_of(&pair.key)?, pair.value)))
            .collect::<Result<BTreeMap<_, _>, EnclaveError>>()?;
        Ok((
            self.recipient_public_keys,
            PrivacyMetadata {
                privacy_mode: self.privacy_mode.unwrap_or_default(),
                affected_contract_transactions,
                exec_hash: self.exec_hash,
                mandatory_recipients: self.mandatory_recipients,
                privacy_group_id: self.privacy_group_id,
                affected_transactions,
            },
        ))
    }
}

fn hash_of(bytes: &[u8]) -> Result<MessageHash, EnclaveError> {
    MessageHash::from_slice(bytes).map_err(|_| EnclaveError::InvalidKeyLength {
        what: "affected transaction hash",
        expected: MessageHash::LEN,
        actual: bytes.len(),
    })
}

/// Decodes `[{key: hash, value: LEGACY payload}]`.
pub fn decode_affected(pairs: &[KeyValuePair]) -> Result<Vec<AffectedTransaction>, EnclaveError> {
    pairs
        .iter()
        .map(|pair| {
            Ok(AffectedTransaction {
                hash: hash_of(&pair.key)?,
                payload: EncodedPayload::decode_legacy(&pair.value)?,
            })
        })
        .collect()
}

/// `EnclavePayload`: `/encrypt` and `/encrypt/toraw` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnclavePayload {
    /// The plaintext.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
    /// The sender.
    pub sender_key: PublicKey,
    /// Recipients and metadata.
    #[serde(flatten)]
    pub meta: WireMetadata,
}

/// `EnclaveRawPayload`: `/encrypt/raw` and `/unencrypt/raw` request, `/encrypt/toraw` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnclaveRawPayload {
    /// Payload sealed under the master key.
    #[serde(with = "b64")]
    pub encrypted_payload: Vec<u8>,
    /// Master key sealed to the sender.
    #[serde(with = "b64")]
    pub encrypted_key: Vec<u8>,
    /// Nonce.
    #[serde(with = "b64")]
    pub nonce: Vec<u8>,
    /// Sender.
    pub from: PublicKey,
    /// Recipients and metadata (for `/encrypt/raw`).
    #[serde(flatten)]
    pub meta: WireMetadata,
}

impl EnclaveRawPayload {
    /// Wire form of a raw transaction (no recipients).
    pub fn from_raw(raw: &RawTransaction, meta: WireMetadata) -> Self {
        Self {
            encrypted_payload: raw.encrypted_payload.clone(),
            encrypted_key: raw.encrypted_key.clone(),
            nonce: raw.nonce.clone(),
            from: raw.from,
            meta,
        }
    }

    /// Splits into the raw transaction and the wire metadata.
    pub fn into_raw(self) -> (RawTransaction, WireMetadata) {
        (
            RawTransaction {
                encrypted_payload: self.encrypted_payload,
                encrypted_key: self.encrypted_key,
                nonce: self.nonce,
                from: self.from,
            },
            self.meta,
        )
    }
}

/// `EnclaveUnencryptPayload`: `/unencrypt` and `/addRecipient` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnclaveUnencryptPayload {
    /// LEGACY-encoded payload.
    #[serde(with = "b64")]
    pub data: Vec<u8>,
    /// The local key to decrypt with, or the new recipient.
    #[serde(default)]
    pub provided_key: Option<PublicKey>,
}

/// `/findinvalidsecurityhashes` request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindInvalidSecurityHashesRequest {
    /// LEGACY-encoded payload.
    #[serde(with = "b64")]
    pub encoded_payload: Vec<u8>,
    /// Affected transactions found locally: hash → LEGACY payload.
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected_contract_transactions: Vec<KeyValuePair>,
}

/// `/findinvalidsecurityhashes` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindInvalidSecurityHashesResponse {
    /// Invalid hashes (base64).
    pub invalid_security_hashes: Vec<MessageHash>,
}
