//! Keystore errors. Where geth has a message for the condition, `Display` is geth's text.

use std::path::PathBuf;

use alloy_primitives::Address;

/// Everything that can go wrong reading, writing or using keys.
#[derive(Debug, thiserror::Error)]
pub enum KeystoreError {
    /// Wrong password (MAC mismatch) — geth `keystore.ErrDecrypt`.
    #[error("could not decrypt key with given password")]
    Decrypt,
    /// The account is not in the keystore — geth `accounts.ErrUnknownAccount`.
    #[error("unknown account")]
    UnknownAccount,
    /// `unlock` (and other key-store level operations) of an address without a key file —
    /// geth `keystore.ErrNoMatch`.
    #[error("no key for given address or file")]
    NoMatch,
    /// The account is locked — geth `keystore.ErrLocked`.
    #[error("authentication needed: password or unlock")]
    Locked,
    /// Importing a key that is already stored — geth `keystore.ErrAccountAlreadyExists`.
    #[error("account already exists")]
    AccountAlreadyExists,
    /// More than one key file holds the address — geth `AmbiguousAddrError`.
    #[error("multiple keys match address ({address})")]
    AmbiguousAddress {
        /// The address found in several files.
        address: Address,
    },
    /// Key file `version` other than 3.
    #[error("version not supported: {0}")]
    UnsupportedVersion(u64),
    /// Cipher other than `aes-128-ctr`.
    #[error("cipher not supported: {0}")]
    UnsupportedCipher(String),
    /// KDF other than `scrypt`/`pbkdf2`.
    #[error("unsupported KDF: {0}")]
    UnsupportedKdf(String),
    /// PBKDF2 PRF other than `hmac-sha256`.
    #[error("unsupported PBKDF2 PRF: {0}")]
    UnsupportedPrf(String),
    /// KDF parameters missing, malformed, or beyond the resource limits.
    #[error("invalid KDF parameters: {reason}")]
    InvalidKdfParams {
        /// What is wrong.
        reason: &'static str,
    },
    /// A hex field of the key file does not decode or has the wrong length.
    #[error("invalid key file field {field}")]
    InvalidField {
        /// `ciphertext`, `iv`, `salt`, `mac` or `address`.
        field: &'static str,
    },
    /// The key file is not JSON of the expected shape.
    #[error("invalid key file: {0}")]
    Json(#[from] serde_json::Error),
    /// The decrypted bytes are not a valid secp256k1 private key.
    #[error("invalid private key")]
    InvalidKey,
    /// The decrypted key belongs to another address than the file says (geth's message).
    #[error("key content mismatch: have account {have:x}, want {want:x}")]
    KeyMismatch {
        /// Address derived from the decrypted key.
        have: Address,
        /// Address recorded in the key file.
        want: Address,
    },
    /// Signing failed in libsecp256k1 (cannot happen with a valid key).
    #[error("signing failed")]
    Signing,
    /// A file system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing.
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
