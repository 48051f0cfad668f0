//! [`EnclaveError`]: everything an enclave operation can fail with.

use crate::codec::CodecError;
use crate::keys::KeyError;
use crate::types::PublicKey;

/// An enclave operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EnclaveError {
    /// The key is not one of this enclave's keys.
    #[error("no private key for public key {0}")]
    UnknownKey(PublicKey),
    /// The recipient is not among the payload's recipients.
    #[error("{0} is not a recipient of this payload")]
    NotARecipient(PublicKey),
    /// A low-order public key: the shared secret would be public.
    #[error("refusing weak (low-order) public key {0}")]
    WeakKey(PublicKey),
    /// A box or cipher text did not open (wrong key, tampered data).
    #[error("decryption failed")]
    DecryptionFailed,
    /// Encryption failed (only on absurd input sizes).
    #[error("encryption failed")]
    EncryptionFailed,
    /// A key, nonce or box has the wrong size.
    #[error("invalid {what} length: expected {expected}, got {actual}")]
    InvalidKeyLength {
        /// What was wrong (`"nonce"`, `"master key"`...).
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Actual length.
        actual: usize,
    },
    /// A privacy flag other than 0..=3.
    #[error("unknown privacy flag {0}")]
    UnknownPrivacyFlag(u32),
    /// Privacy metadata violating Tessera's invariants.
    #[error("invalid privacy metadata: {0}")]
    InvalidMetadata(&'static str),
    /// The enclave has no keys at all.
    #[error("the enclave has no keys")]
    NoKeys,
    /// A payload could not be decoded.
    #[error("payload codec error: {0}")]
    Codec(#[from] CodecError),
    /// Loading keys failed.
    #[error("key error: {0}")]
    Key(#[from] KeyError),
    /// The remote enclave answered with an error status.
    #[error("remote enclave {url} answered {status}: {message}")]
    Remote {
        /// The URL called.
        url: String,
        /// HTTP status.
        status: u16,
        /// Response body.
        message: String,
    },
    /// The remote enclave could not be reached or sent an unreadable answer.
    #[cfg(feature = "remote")]
    #[error("remote enclave {url} unavailable: {source}")]
    RemoteUnavailable {
        /// The URL called.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The remote enclave sent a malformed answer.
    #[error("remote enclave {url} sent an invalid response: {reason}")]
    RemoteProtocol {
        /// The URL called.
        url: String,
        /// What was wrong.
        reason: String,
    },
}
