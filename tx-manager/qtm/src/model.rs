//! Tessera's JSON request and response models (field names exactly as Tessera's JAXB models).

use std::collections::BTreeMap;

use qrs_enclave::{MessageHash, PublicKey};
use serde::{Deserialize, Serialize};

/// Serde helpers for `byte[]` fields (standard padded base64).
pub mod b64 {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes base64 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.trim())
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }

    /// Optional base64 bytes (`null`/absent → `None`).
    pub mod opt {
        use super::*;

        /// Serializes optional bytes.
        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }

        /// Deserializes optional bytes; an empty string is `None`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            let text = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
            match text {
                None => Ok(None),
                Some(t) if t.trim().is_empty() => Ok(None),
                Some(t) => STANDARD
                    .decode(t.trim())
                    .map(Some)
                    .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}"))),
            }
        }
    }
}

/// An optional key where `""` counts as absent (GoQuorum sends `from` with `omitempty`).
fn opt_key<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<PublicKey>, D::Error> {
    let text = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
    match text {
        None => Ok(None),
        Some(t) if t.trim().is_empty() => Ok(None),
        Some(t) => t.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

/// A list that may be `null`.
fn nullable_vec<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// `SendRequest` (`/send`, `/encodedpayload/create`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The plaintext.
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Sender key (default key if absent).
    #[serde(default, deserialize_with = "opt_key")]
    pub from: Option<PublicKey>,
    /// Recipients.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub to: Vec<PublicKey>,
    /// Privacy flag (0..=3).
    #[serde(default)]
    pub privacy_flag: Option<i64>,
    /// Affected contract transaction hashes.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub affected_contract_transactions: Vec<MessageHash>,
    /// Execution hash string (its UTF-8 bytes are stored).
    #[serde(default)]
    pub exec_hash: Option<String>,
    /// Privacy group id.
    #[serde(default, with = "b64::opt")]
    pub privacy_group_id: Option<Vec<u8>>,
    /// Mandatory recipients.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub mandatory_recipients: Vec<PublicKey>,
}

/// `SendSignedRequest` (`/sendsignedtx` JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendSignedRequest {
    /// The raw transaction hash returned by `/storeraw`.
    #[serde(with = "b64")]
    pub hash: Vec<u8>,
    /// Recipients.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub to: Vec<PublicKey>,
    /// Privacy flag.
    #[serde(default)]
    pub privacy_flag: Option<i64>,
    /// Affected contract transaction hashes.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub affected_contract_transactions: Vec<MessageHash>,
    /// Execution hash string.
    #[serde(default)]
    pub exec_hash: Option<String>,
    /// Privacy group id.
    #[serde(default, with = "b64::opt")]
    pub privacy_group_id: Option<Vec<u8>>,
    /// Mandatory recipients.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub mandatory_recipients: Vec<PublicKey>,
}

/// `SendResponse`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResponse {
    /// The transaction hash.
    pub key: MessageHash,
    /// Local keys that are parties (enhanced media types only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_parties: Option<Vec<PublicKey>>,
    /// The sender (enhanced media types only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_key: Option<PublicKey>,
}

/// `StoreRawRequest`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreRawRequest {
    /// The plaintext.
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Sender (default key if absent).
    #[serde(default, deserialize_with = "opt_key")]
    pub from: Option<PublicKey>,
}

/// `StoreRawResponse`.
#[derive(Debug, Clone, Serialize)]
pub struct StoreRawResponse {
    /// The raw transaction hash.
    pub key: MessageHash,
}

/// `ReceiveResponse`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiveResponse {
    /// The plaintext.
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Affected contract transaction hashes.
    pub affected_contract_transactions: Vec<MessageHash>,
    /// Execution hash as a string (Tessera's `new String(bytes)`).
    pub exec_hash: String,
    /// Privacy flag.
    pub privacy_flag: u32,
    /// Local keys that are parties (enhanced media types only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_parties: Option<Vec<PublicKey>>,
    /// The sender (enhanced media types only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_key: Option<PublicKey>,
    /// Privacy group id.
    #[serde(skip_serializing_if = "Option::is_none", with = "b64::opt")]
    pub privacy_group_id: Option<Vec<u8>>,
}

/// `POST /receiveBatch` (a qtm extension; Tessera answers 404): many `GET /transaction/{hash}`
/// in one request, as a node asks for a block's private payloads.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveBatchRequest {
    /// The transaction hashes, base64.
    pub hashes: Vec<MessageHash>,
}

/// The answer to [`ReceiveBatchRequest`]: one entry per hash asked, in order; `null` where the
/// single receive would answer 404 (not stored here, or no local key is a party).
#[derive(Debug, Clone, Serialize)]
pub struct ReceiveBatchResponse {
    /// The payloads.
    pub payloads: Vec<Option<ReceiveResponse>>,
}

/// `DeleteRequest` (`POST /delete`).
#[derive(Debug, Clone, Deserialize)]
pub struct DeleteRequest {
    /// The transaction hash.
    pub key: MessageHash,
}

/// `PayloadEncryptResponse` / `PayloadDecryptRequest`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncodedPayloadJson {
    /// Sender key.
    pub sender_key: PublicKey,
    /// Cipher text.
    #[serde(with = "b64")]
    pub cipher_text: Vec<u8>,
    /// Cipher text nonce.
    #[serde(with = "b64")]
    pub cipher_text_nonce: Vec<u8>,
    /// Recipient nonce.
    #[serde(with = "b64")]
    pub recipient_nonce: Vec<u8>,
    /// Recipient boxes.
    #[serde(deserialize_with = "b64_list")]
    #[serde(serialize_with = "b64_list_ser")]
    pub recipient_boxes: Vec<Vec<u8>>,
    /// Recipient keys.
    #[serde(default, deserialize_with = "nullable_vec")]
    pub recipient_keys: Vec<PublicKey>,
    /// Privacy mode flag.
    #[serde(default)]
    pub privacy_mode: Option<i64>,
    /// Affected contract transactions: b64 tx hash → b64 security hash.
    #[serde(default, deserialize_with = "nullable_map")]
    pub affected_contract_transactions: BTreeMap<MessageHash, String>,
    /// Execution hash bytes.
    #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
    pub exec_hash: Option<Vec<u8>>,
    /// Mandatory recipients.
    #[serde(default, deserialize_with = "nullable_vec", skip_serializing_if = "Vec::is_empty")]
    pub mandatory_recipients: Vec<PublicKey>,
    /// Privacy group id.
    #[serde(default, with = "b64::opt", skip_serializing_if = "Option::is_none")]
    pub privacy_group_id: Option<Vec<u8>>,
}

fn nullable_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<MessageHash, String>, D::Error> {
    Ok(Option::<BTreeMap<MessageHash, String>>::deserialize(d)?.unwrap_or_default())
}

fn b64_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Vec<u8>>, D::Error> {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    let items = Option::<Vec<String>>::deserialize(d)?.unwrap_or_default();
    items
        .iter()
        .map(|s| {
            STANDARD
                .decode(s.trim())
                .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
        })
        .collect()
}

fn b64_list_ser<S: serde::Serializer>(items: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(items.len()))?;
    for item in items {
        seq.serialize_element(&STANDARD.encode(item))?;
    }
    seq.end()
}

/// `ResendRequest` (`POST /resend`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendRequest {
    /// `ALL` or `INDIVIDUAL`.
    #[serde(rename = "type")]
    pub kind: ResendType,
    /// The key to resend for.
    pub public_key: PublicKey,
    /// The transaction hash (INDIVIDUAL only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<MessageHash>,
}

/// Resend type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ResendType {
    /// Every transaction of the key.
    All,
    /// One transaction.
    Individual,
}

/// `ResendBatchRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResendBatchRequest {
    /// The key to resend for.
    pub public_key: PublicKey,
    /// Payloads per `/pushBatch`.
    #[serde(default)]
    pub batch_size: Option<i64>,
}

/// `ResendBatchResponse`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ResendBatchResponse {
    /// How many payloads will be pushed.
    pub total: u64,
}

/// `PushBatchRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PushBatchRequest {
    /// LEGACY-encoded payloads.
    #[serde(deserialize_with = "b64_list", serialize_with = "b64_list_ser")]
    pub encoded_payloads: Vec<Vec<u8>>,
}

/// One `{"key": ...}` entry of `/keys` and `/partyinfo/keys`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    /// A public key.
    pub key: PublicKey,
}

/// `/keys` and `/partyinfo/keys` response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyList {
    /// The keys.
    pub keys: Vec<KeyEntry>,
}

/// `GET /partyinfo` (JSON) response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PartyInfoJson {
    /// This node's URL.
    pub url: String,
    /// Known node URLs.
    pub peers: Vec<PeerUrl>,
    /// Known keys and the URL of their node.
    pub keys: Vec<KeyUrl>,
}

/// `{"url": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PeerUrl {
    /// A node URL.
    pub url: String,
}

/// `{"key": ..., "url": ...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeyUrl {
    /// A public key.
    pub key: PublicKey,
    /// The URL of the node that holds it.
    pub url: String,
}
