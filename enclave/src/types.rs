//! Value types shared by the enclave and the transaction manager: [`PublicKey`], [`MessageHash`],
//! [`PrivacyMode`], [`PrivacyMetadata`] and [`AffectedTransaction`].
//!
//! Keys and hashes are shown, parsed and serialized as standard padded base64 (Java's
//! `Base64.getEncoder()`), the only text form Tessera uses.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha3::{Digest, Sha3_512};

use crate::error::EnclaveError;
use crate::payload::EncodedPayload;

/// Why a base64 key or hash could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Not standard, padded base64.
    #[error("{what} is not valid standard base64: {source}")]
    Base64 {
        /// What was being parsed (`"public key"`, `"message hash"`...).
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: base64::DecodeError,
    },
    /// Valid base64 of the wrong number of bytes.
    #[error("{what} must be {expected} bytes, got {actual}")]
    Length {
        /// What was being parsed.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Decoded length.
        actual: usize,
    },
}

fn decode_fixed<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], ParseError> {
    let bytes =
        STANDARD.decode(text.trim()).map_err(|source| ParseError::Base64 { what, source })?;
    <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| ParseError::Length {
        what,
        expected: N,
        actual: bytes.len(),
    })
}

macro_rules! base64_bytes_type {
    ($name:ident, $len:expr, $what:expr) => {
        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Builds from a slice of exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, ParseError> {
                <[u8; $len]>::try_from(bytes).map(Self).map_err(|_| ParseError::Length {
                    what: $what,
                    expected: $len,
                    actual: bytes.len(),
                })
            }

            /// Standard padded base64.
            pub fn to_base64(&self) -> String {
                STANDARD.encode(self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_base64())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_base64())
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                decode_fixed::<$len>($what, s).map(Self)
            }
        }

        impl From<[u8; $len]> for $name {
            fn from(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }
        }

        impl AsRef<[u8]> for $name {
            fn as_ref(&self) -> &[u8] {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_base64())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A 32-byte Curve25519 public key (base64 in every text form).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey(pub [u8; 32]);
base64_bytes_type!(PublicKey, 32, "public key");

/// The 64-byte SHA3-512 of a payload's cipher text: the transaction hash (base64 in text form).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageHash(pub [u8; 64]);
base64_bytes_type!(MessageHash, 64, "message hash");

/// Tessera's name for the hash keying affected contract transactions.
pub type TxHash = MessageHash;

impl MessageHash {
    /// SHA3-512 of the cipher text (Tessera's `DefaultPayloadDigest`).
    pub fn of_cipher_text(cipher_text: &[u8]) -> Self {
        Self(Sha3_512::digest(cipher_text).into())
    }
}

/// Tessera's privacy modes, numbered as on the wire (`privacyFlag`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
#[repr(u8)]
pub enum PrivacyMode {
    /// 0: standard private transaction.
    #[default]
    StandardPrivate = 0,
    /// 1: party protection.
    PartyProtection = 1,
    /// 2: mandatory recipients.
    MandatoryRecipients = 2,
    /// 3: private state validation.
    PrivateStateValidation = 3,
}

impl PrivacyMode {
    /// All modes in flag order.
    pub const ALL: [PrivacyMode; 4] = [
        Self::StandardPrivate,
        Self::PartyProtection,
        Self::MandatoryRecipients,
        Self::PrivateStateValidation,
    ];

    /// Parses a wire flag. Unlike Tessera (which silently maps unknown flags to 0), unknown flags
    /// are rejected.
    pub fn from_flag(flag: u32) -> Result<Self, EnclaveError> {
        Self::ALL
            .into_iter()
            .find(|mode| mode.flag() == flag)
            .ok_or(EnclaveError::UnknownPrivacyFlag(flag))
    }

    /// The wire flag.
    pub fn flag(self) -> u32 {
        self as u32
    }

    /// Tessera's enum constant name (`STANDARD_PRIVATE`...), used by the enclave REST API.
    pub fn name(self) -> &'static str {
        match self {
            Self::StandardPrivate => "STANDARD_PRIVATE",
            Self::PartyProtection => "PARTY_PROTECTION",
            Self::MandatoryRecipients => "MANDATORY_RECIPIENTS",
            Self::PrivateStateValidation => "PRIVATE_STATE_VALIDATION",
        }
    }

    /// Parses a Tessera enum constant name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

impl fmt::Display for PrivacyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for PrivacyMode {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.flag())
    }
}

impl<'de> Deserialize<'de> for PrivacyMode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let flag = u32::deserialize(deserializer)?;
        Self::from_flag(flag).map_err(serde::de::Error::custom)
    }
}

/// The privacy metadata of a transaction, as given to the `encrypt_*` operations.
///
/// `affected_contract_transactions` maps an affected transaction's hash to its *security hash*
/// (what ends up in the payload). Security hashes need the affected transactions' master keys,
/// which only the enclave holds: put the affected transactions themselves in
/// `affected_transactions` and the enclave computes (and inserts) their security hashes.
/// Entries given directly in `affected_contract_transactions` are copied as is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrivacyMetadata {
    /// The privacy mode.
    pub privacy_mode: PrivacyMode,
    /// Affected contract transaction hash → security hash.
    pub affected_contract_transactions: BTreeMap<MessageHash, Vec<u8>>,
    /// Execution hash: the opaque bytes Tessera stores (for PSV, the UTF-8 bytes of GoQuorum's
    /// base64 string). Must be non-empty exactly when the mode is PSV.
    pub exec_hash: Vec<u8>,
    /// Mandatory recipients. Must be non-empty exactly when the mode is mandatory recipients.
    pub mandatory_recipients: Vec<PublicKey>,
    /// Privacy group id, if any.
    pub privacy_group_id: Option<Vec<u8>>,
    /// Affected transactions whose security hashes the enclave computes for the new payload.
    pub affected_transactions: Vec<AffectedTransaction>,
}

impl PrivacyMetadata {
    /// Standard-private metadata with nothing else set.
    pub fn standard() -> Self {
        Self::default()
    }

    /// Checks Tessera's builder invariants: PSV ⇔ execHash non-empty, MR ⇔ mandatory
    /// recipients non-empty.
    pub fn validate(&self) -> Result<(), EnclaveError> {
        let psv = self.privacy_mode == PrivacyMode::PrivateStateValidation;
        if psv == self.exec_hash.is_empty() {
            return Err(EnclaveError::InvalidMetadata(
                "an execution hash is required for, and only allowed with, private state validation",
            ));
        }
        let mr = self.privacy_mode == PrivacyMode::MandatoryRecipients;
        if mr == self.mandatory_recipients.is_empty() {
            return Err(EnclaveError::InvalidMetadata(
                "mandatory recipients are required for, and only allowed with, the mandatory recipients mode",
            ));
        }
        Ok(())
    }
}

/// An affected contract transaction: its hash and its full encoded payload (as stored locally).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedTransaction {
    /// The affected transaction's hash.
    pub hash: MessageHash,
    /// The affected transaction's payload.
    pub payload: EncodedPayload,
}
