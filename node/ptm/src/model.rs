//! Q2T JSON models. Every byte field is standard, padded base64, as Tessera and GoQuorum send it.

use std::fmt;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use serde::{Deserialize, Serialize};

/// The 64-byte hash of an encrypted payload (SHA3-512 of the ciphertext): what replaces a
/// private transaction's data.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TmHash(pub [u8; 64]);

impl TmHash {
    /// From exactly 64 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 64]>::try_from(bytes).ok().map(Self)
    }

    /// From base64 (what the TM returns).
    pub fn from_base64(text: &str) -> Option<Self> {
        STANDARD.decode(text.trim()).ok().and_then(|b| Self::from_slice(&b))
    }

    /// Standard base64.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Lower-case hex without `0x`.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for TmHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TmHash(0x{})", self.to_hex())
    }
}

impl fmt::Display for TmHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", self.to_hex())
    }
}

/// Standard, padded base64 of `bytes` (how `execHash` and every byte field travel).
pub fn base64_of(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

pub(crate) mod b64 {
    use base64::{Engine as _, engine::general_purpose::STANDARD};
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = Option::<String>::deserialize(d)?.unwrap_or_default();
        STANDARD.decode(text.as_bytes()).map_err(serde::de::Error::custom)
    }
}

/// `POST /send`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    /// The plaintext (contract init code or call data).
    #[serde(with = "b64")]
    pub payload: Vec<u8>,
    /// Sender key (base64); the TM's default key when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recipient keys (base64).
    pub to: Vec<String>,
    /// Creation hashes of affected contracts (base64 of 64 bytes).
    pub affected_contract_transactions: Vec<String>,
    /// PSV merkle root (base64 of 32 bytes), omitted when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec_hash: Option<String>,
    /// 0 standard, 1 party protection, 2 mandatory recipients, 3 private state validation.
    pub privacy_flag: u8,
    /// Mandatory recipients (flag 2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mandatory_recipients: Vec<String>,
}

/// `POST /sendsignedtx` (JSON variant).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendSignedRequest {
    /// The hash `/storeraw` returned.
    #[serde(serialize_with = "ser_hash")]
    pub hash: TmHash,
    /// Recipient keys (base64).
    pub to: Vec<String>,
    /// Creation hashes of affected contracts.
    pub affected_contract_transactions: Vec<String>,
    /// PSV merkle root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec_hash: Option<String>,
    /// Privacy flag.
    pub privacy_flag: u8,
    /// Mandatory recipients (flag 2).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mandatory_recipients: Vec<String>,
}

fn ser_hash<S: serde::Serializer>(hash: &TmHash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hash.to_base64())
}

/// The answer to `/send` and `/sendsignedtx`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendResponse {
    /// The payload hash.
    pub key: TmHash,
    /// This TM's keys that are party (API ≥ 2.1).
    pub managed_parties: Vec<String>,
    /// The sender key (API ≥ 2.1).
    pub sender_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawSendResponse {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) managed_parties: Option<Vec<String>>,
    #[serde(default)]
    pub(crate) sender_key: Option<String>,
}

/// A payload this node is party to (`GET /transaction/{hash}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// The plaintext.
    #[serde(with = "b64", default)]
    pub payload: Vec<u8>,
    /// Creation hashes of affected contracts (base64).
    #[serde(default)]
    pub affected_contract_transactions: Vec<String>,
    /// PSV merkle root (base64, may be empty).
    #[serde(default)]
    pub exec_hash: String,
    /// Privacy flag.
    #[serde(default)]
    pub privacy_flag: u8,
    /// This TM's keys that are party.
    #[serde(default)]
    pub managed_parties: Vec<String>,
    /// The sender key.
    #[serde(default)]
    pub sender_key: Option<String>,
}

/// `POST /receiveBatch` (qtm's extension): many receives in one request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReceiveBatchRequest {
    /// Base64 transaction hashes.
    pub(crate) hashes: Vec<String>,
}

/// The answer: one entry per hash, in order, `null` where `GET /transaction/{hash}` gives 404.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ReceiveBatchResponse {
    pub(crate) payloads: Vec<Option<Received>>,
}

impl Received {
    /// The affected contracts' creation hashes (entries that are not base64 of 64 bytes are
    /// skipped).
    pub fn affected_hashes(&self) -> Vec<TmHash> {
        self.affected_contract_transactions.iter().filter_map(|h| TmHash::from_base64(h)).collect()
    }

    /// `execHash` as GoQuorum reads it (`common.Base64ToHash`): empty or undecodable = zero,
    /// otherwise the last 32 bytes of the decoded value (left-padded when shorter).
    pub fn exec_hash_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(bytes) = STANDARD.decode(self.exec_hash.trim()) {
            let tail = &bytes[bytes.len().saturating_sub(32)..];
            out[32 - tail.len()..].copy_from_slice(tail);
        }
        out
    }
}

/// An encrypted payload as `POST /encodedpayload/create` returns it and `/encodedpayload/decrypt`
/// takes it (GoQuorum's `common.DecryptRequest`): byte fields are base64 strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EncodedPayload {
    /// The sender's public key.
    pub sender_key: String,
    /// The payload encrypted with the master key.
    pub cipher_text: String,
    /// The nonce of `cipher_text`.
    pub cipher_text_nonce: String,
    /// The master key boxed for each recipient.
    #[serde(default)]
    pub recipient_boxes: Vec<String>,
    /// The nonce of the recipient boxes.
    pub recipient_nonce: String,
    /// The recipients' public keys.
    #[serde(default)]
    pub recipient_keys: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct KeyOnly {
    pub(crate) key: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tm_hash_base64_round_trips(bytes in proptest::array::uniform32(any::<u8>()), more in proptest::array::uniform32(any::<u8>())) {
            let mut all = [0u8; 64];
            all[..32].copy_from_slice(&bytes);
            all[32..].copy_from_slice(&more);
            let h = TmHash(all);
            prop_assert_eq!(TmHash::from_base64(&h.to_base64()), Some(h));
        }

        #[test]
        fn received_decoder_never_panics(text in ".{0,200}") {
            let _ = serde_json::from_str::<Received>(&text);
        }
    }

    #[test]
    fn exec_hash_is_read_as_goquorum_does() {
        let r = |exec: &str| Received { exec_hash: exec.into(), ..Default::default() };
        assert_eq!(r("").exec_hash_bytes(), [0u8; 32]);
        assert_eq!(r(&STANDARD.encode([7u8; 32])).exec_hash_bytes(), [7u8; 32]);
        let mut short = [0u8; 32];
        short[31] = 1;
        assert_eq!(r(&STANDARD.encode([1u8])).exec_hash_bytes(), short);
        let received = Received {
            affected_contract_transactions: vec![TmHash([3; 64]).to_base64(), "bad".into()],
            ..Default::default()
        };
        assert_eq!(received.affected_hashes(), vec![TmHash([3; 64])]);
    }

    #[test]
    fn tm_hash_refuses_wrong_lengths() {
        assert_eq!(TmHash::from_base64(&STANDARD.encode([1u8; 32])), None);
        assert_eq!(TmHash::from_base64("not base64!"), None);
    }

    #[test]
    fn send_request_is_tesseras_json() {
        let req = SendRequest {
            payload: vec![1, 2, 3],
            to: vec!["QfeDAys9MPDs2XHExtc84jKGHxZg/aj52DTh0vtA3Xc=".into()],
            ..Default::default()
        };
        let json = serde_json::to_value(&req).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"payload": "AQID", "to": ["QfeDAys9MPDs2XHExtc84jKGHxZg/aj52DTh0vtA3Xc="],
                "affectedContractTransactions": [], "privacyFlag": 0})
        );
    }
}
