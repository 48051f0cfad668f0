//! geth v3 keystore files and the node's account manager.
//!
//! - [`KeyFile`]: read and write geth's v3 key files (scrypt or PBKDF2, AES-128-CTR, Keccak
//!   MAC) byte-compatible with geth; a wrong password gives geth's
//!   `could not decrypt key with given password`.
//! - [`Keystore`]: the accounts in `<datadir>/keystore` (geth order: by file name), new and
//!   imported keys written as `UTC--<ISO 8601>--<address>`, timed unlock/lock, and signing of
//!   hashes, EIP-191 messages, typed transactions and GoQuorum private transactions.
//! - [`PrivateKey`]: zeroized on drop, never shown by `Debug`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod error;
pub mod filename;
pub mod kdf;
mod key;
pub mod keyfile;
mod keystore;
mod scrypt_rfc;

pub use error::KeystoreError;
pub use kdf::ScryptCost;
pub use key::{PrivateKey, public_key_address};
pub use keyfile::KeyFile;
pub use keystore::Keystore;
