//! The [`Enclave`] trait: every key-dependent operation the transaction manager needs, in-process
//! ([`LocalEnclave`](crate::LocalEnclave)) or over Tessera's enclave REST API
//! ([`RemoteEnclave`](crate::RemoteEnclave)).

use async_trait::async_trait;

use crate::error::EnclaveError;
use crate::payload::{EncodedPayload, RawTransaction};
use crate::types::{AffectedTransaction, MessageHash, PrivacyMetadata, PublicKey};

/// Enclave status, as reported by `GET /ping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnclaveStatus {
    /// Ready to serve.
    Started,
    /// Not serving.
    Stopped,
}

impl EnclaveStatus {
    /// Tessera's status name (`STARTED` / `STOPPED`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Started => "STARTED",
            Self::Stopped => "STOPPED",
        }
    }
}

/// Holder of the node's private keys: encrypts and decrypts payloads without ever exposing a key.
#[async_trait]
pub trait Enclave: Send + Sync + std::fmt::Debug {
    /// The default (first configured) public key.
    async fn default_public_key(&self) -> Result<PublicKey, EnclaveError>;

    /// Keys every transaction is also sent to (`alwaysSendTo`).
    async fn forwarding_keys(&self) -> Result<Vec<PublicKey>, EnclaveError>;

    /// All local public keys, default key first.
    async fn public_keys(&self) -> Result<Vec<PublicKey>, EnclaveError>;

    /// Encrypts `message` from `sender` (a local key) to `recipients`: random master key,
    /// cipher text, one box per distinct recipient (order kept, `sender` appended if missing).
    /// Security hashes of `meta.affected_transactions` are computed and added.
    async fn encrypt_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError>;

    /// Encrypts `message` to `sender` only (`/storeraw`).
    async fn encrypt_raw_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
    ) -> Result<RawTransaction, EnclaveError>;

    /// Re-wraps a raw transaction's master key for `recipients` (`/sendsignedtx`); the cipher
    /// text (hence the hash) is unchanged.
    async fn encrypt_payload_from_raw(
        &self,
        raw: &RawTransaction,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError>;

    /// Decrypts `payload` with the local key `provided_key` (Tessera's box selection rules).
    async fn unencrypt_transaction(
        &self,
        payload: &EncodedPayload,
        provided_key: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError>;

    /// Decrypts a raw transaction with its sender's key.
    async fn unencrypt_raw_payload(&self, raw: &RawTransaction) -> Result<Vec<u8>, EnclaveError>;

    /// Seals the payload's master key for a new recipient with the payload's recipient nonce.
    async fn create_new_recipient_box(
        &self,
        payload: &EncodedPayload,
        recipient: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError>;

    /// The affected-transaction hashes of `payload` whose security hash is wrong or whose
    /// affected transaction is not in `affected` (Tessera's `findInvalidSecurityHashes`).
    async fn find_invalid_security_hashes(
        &self,
        payload: &EncodedPayload,
        affected: &[AffectedTransaction],
    ) -> Result<Vec<MessageHash>, EnclaveError>;

    /// Enclave status.
    async fn status(&self) -> Result<EnclaveStatus, EnclaveError>;
}
