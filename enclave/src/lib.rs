//! Key management and Tessera-compatible payload cryptography (in-process or as `qenclave`).
//!
//! * [`types`]: public keys, message hashes, privacy modes and metadata.
//! * [`payload`]: [`EncodedPayload`] / [`RawTransaction`] and the per-recipient reduction.
//! * [`codec`]: Tessera's LEGACY binary codec for encoded payloads.
//! * [`keys`]: private keys, Tessera key files (unlocked / `argon2sbox`), key configuration, keygen.
//! * [`config`]: crypto suite selection and the Tessera config file parts the enclave reads.
//! * [`enclave`]: the [`Enclave`] trait.
//! * [`crypto`]: the NaCl suite (bit-compatible with Tessera) and X25519 + XChaCha20-Poly1305.
//! * [`local`]: [`LocalEnclave`], the in-process enclave.
//! * `remote` (feature `remote`, default): Tessera's enclave REST API: `RemoteEnclave` client
//!   and the `qenclave` server.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod codec;
pub mod config;
pub mod crypto;
pub mod enclave;
pub mod error;
pub mod keys;
pub mod local;
pub mod payload;
#[cfg(feature = "remote")]
pub mod remote;
pub mod types;

pub use codec::CodecError;
pub use config::{CryptoSuite, EnclaveConfig, TesseraConfig};
pub use enclave::{Enclave, EnclaveStatus};
pub use error::EnclaveError;
pub use keys::{
    KeyConfiguration, KeyData, KeyError, KeyPair, PrivateKey, generate_key_files, load_key_pairs,
};
pub use local::LocalEnclave;
pub use payload::{EncodedPayload, RawTransaction};
#[cfg(feature = "remote")]
pub use remote::RemoteEnclave;
pub use secrecy::{ExposeSecret, SecretString};
pub use types::{
    AffectedTransaction, MessageHash, ParseError, PrivacyMetadata, PrivacyMode, PublicKey, TxHash,
};
