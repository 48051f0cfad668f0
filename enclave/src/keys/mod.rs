//! Private keys and their sources: [`PrivateKey`] (zeroized, never printed), Tessera key files
//! ([`file`]), the Tessera `keys` configuration section ([`config`]) and key generation
//! ([`keygen`]).

pub mod config;
pub mod file;
pub mod keygen;

use std::fmt;
use std::path::PathBuf;

use rand::RngCore as _;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::types::PublicKey;

pub use config::{KeyConfiguration, KeyData, load_key_pairs};
pub use file::{ArgonOptions, ArgonVariant, ArgonVersion, PrivateKeyFile};
pub use keygen::{generate_key_files, generate_key_files_with};

/// A 32-byte X25519 private key. Zeroized on drop; `Debug`/`Display` print `<redacted>`; its
/// bytes are only reachable inside this crate.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct PrivateKey([u8; 32]);

impl PrivateKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh random key from the OS generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The matching X25519 public key.
    pub fn public_key(&self) -> PublicKey {
        let secret = x25519_dalek::StaticSecret::from(self.0);
        PublicKey(x25519_dalek::PublicKey::from(&secret).to_bytes())
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A public key with its private key.
#[derive(Debug, Clone)]
pub struct KeyPair {
    /// The public key.
    pub public: PublicKey,
    /// The private key.
    pub private: PrivateKey,
}

impl KeyPair {
    /// Builds the pair from a private key.
    pub fn from_private(private: PrivateKey) -> Self {
        Self { public: private.public_key(), private }
    }
}

/// Why keys could not be loaded, unlocked or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing a key file failed.
    #[error("cannot access key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A key file or config entry is not valid JSON of the expected shape.
    #[error("invalid private key JSON in {origin}: {source}")]
    Json {
        /// Where the JSON came from.
        origin: String,
        /// The parser error.
        #[source]
        source: serde_json::Error,
    },
    /// A key or a base64 value in a key file is malformed.
    #[error("invalid key data in {origin}: {source}")]
    Parse {
        /// Where the value came from.
        origin: String,
        /// What was wrong.
        #[source]
        source: crate::types::ParseError,
    },
    /// A locked key needs a password and none was given.
    #[error("the private key in {origin} is locked and no password was given")]
    PasswordRequired {
        /// Where the key came from.
        origin: String,
    },
    /// The password does not open the locked key.
    #[error("wrong password for the private key in {origin}")]
    WrongPassword {
        /// Where the key came from.
        origin: String,
    },
    /// Argon2 rejected the options of a locked key.
    #[error("invalid argon2 options in {origin}: {reason}")]
    Argon2 {
        /// Where the key came from.
        origin: String,
        /// The argon2 error.
        reason: String,
    },
    /// The configured public key does not belong to the private key.
    #[error(
        "public key {configured} does not match the private key (which gives {derived}) in {origin}"
    )]
    PublicKeyMismatch {
        /// Where the key came from.
        origin: String,
        /// The configured public key.
        configured: PublicKey,
        /// The public key derived from the private key.
        derived: PublicKey,
    },
    /// A `keyData` entry uses a source this enclave does not support (vaults).
    #[error("keyData[{index}]: unsupported key source: {reason}")]
    UnsupportedSource {
        /// Index in `keyData`.
        index: usize,
        /// Which source.
        reason: String,
    },
    /// A `keyData` entry is incomplete.
    #[error("keyData[{index}]: {reason}")]
    Incomplete {
        /// Index in `keyData`.
        index: usize,
        /// What is missing.
        reason: &'static str,
    },
    /// Key generation refuses to overwrite an existing file.
    #[error("refusing to overwrite existing key file {0}")]
    AlreadyExists(PathBuf),
}
