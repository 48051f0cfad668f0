//! [`LocalEnclave`]: the in-process enclave. Holds the private keys, caches shared keys per
//! (suite, our key, peer key), and implements Tessera's `EnclaveImpl` operations.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::RwLock;
use sha3::{Digest, Sha3_512};
use zeroize::Zeroizing;

use crate::config::{CryptoSuite, EnclaveConfig};
use crate::crypto::{self, MASTER_KEY_LEN, SharedKey};
use crate::enclave::{Enclave, EnclaveStatus};
use crate::error::EnclaveError;
use crate::keys::KeyPair;
use crate::payload::{EncodedPayload, RawTransaction};
use crate::types::{AffectedTransaction, MessageHash, PrivacyMetadata, PublicKey};

/// Shared keys kept at most; the cache is emptied when full (peer keys come from the network).
const SHARED_KEY_CACHE_LIMIT: usize = 16_384;

type CacheKey = (CryptoSuite, PublicKey, PublicKey);

/// The in-process enclave.
#[derive(Debug)]
pub struct LocalEnclave {
    keys: Vec<KeyPair>,
    forwarding_keys: Vec<PublicKey>,
    suite: CryptoSuite,
    shared_keys: RwLock<HashMap<CacheKey, Arc<SharedKey>>>,
}

impl LocalEnclave {
    /// Builds an enclave; fails without keys.
    pub fn new(config: EnclaveConfig) -> Result<Self, EnclaveError> {
        if config.keys.is_empty() {
            return Err(EnclaveError::NoKeys);
        }
        tracing::info!(
            target: "enclave::local",
            keys = config.keys.len(),
            suite = ?config.suite,
            "enclave started"
        );
        Ok(Self {
            keys: config.keys,
            forwarding_keys: config.forwarding_keys,
            suite: config.suite,
            shared_keys: RwLock::new(HashMap::new()),
        })
    }

    /// Loads (and unlocks) the keys of a Tessera `keys` section and builds the enclave.
    /// Argon2 for locked keys is slow (up to 1 GiB): call outside async tasks.
    pub fn from_key_configuration(
        keys: &crate::keys::KeyConfiguration,
        forwarding_keys: Vec<PublicKey>,
        suite: CryptoSuite,
    ) -> Result<Self, EnclaveError> {
        Self::new(EnclaveConfig { keys: keys.load()?, forwarding_keys, suite })
    }

    /// The suite used for encryption.
    pub fn suite(&self) -> CryptoSuite {
        self.suite
    }

    /// Suites tried when decrypting: ours first.
    fn decryption_suites(&self) -> [CryptoSuite; 2] {
        match self.suite {
            CryptoSuite::Nacl => [CryptoSuite::Nacl, CryptoSuite::X25519ChaCha20Poly1305],
            CryptoSuite::X25519ChaCha20Poly1305 => {
                [CryptoSuite::X25519ChaCha20Poly1305, CryptoSuite::Nacl]
            }
        }
    }

    fn key_pair(&self, public: &PublicKey) -> Result<&KeyPair, EnclaveError> {
        self.keys
            .iter()
            .find(|pair| pair.public == *public)
            .ok_or(EnclaveError::UnknownKey(*public))
    }

    fn is_local(&self, public: &PublicKey) -> bool {
        self.keys.iter().any(|pair| pair.public == *public)
    }

    /// The cached shared key of our `ours` and the peer `peer`.
    fn shared_key(
        &self,
        suite: CryptoSuite,
        ours: &PublicKey,
        peer: &PublicKey,
    ) -> Result<Arc<SharedKey>, EnclaveError> {
        let cache_key = (suite, *ours, *peer);
        if let Some(shared) = self.shared_keys.read().get(&cache_key) {
            return Ok(Arc::clone(shared));
        }
        let shared = Arc::new(SharedKey::derive(suite, self.key_pair(ours)?, peer)?);
        let mut cache = self.shared_keys.write();
        if cache.len() >= SHARED_KEY_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(cache_key, Arc::clone(&shared));
        Ok(shared)
    }

    /// Opens `sealed_key` (a master key box) between `ours` and `peer`, trying each suite.
    fn open_master_key(
        &self,
        ours: &PublicKey,
        peer: &PublicKey,
        nonce: &[u8],
        sealed_key: &[u8],
    ) -> Result<(CryptoSuite, Zeroizing<[u8; MASTER_KEY_LEN]>), EnclaveError> {
        let mut last = EnclaveError::DecryptionFailed;
        for suite in self.decryption_suites() {
            match self
                .shared_key(suite, ours, peer)
                .and_then(|shared| shared.open(nonce, sealed_key))
            {
                Ok(opened) => return Ok((suite, crypto::master_key_of(&opened)?)),
                Err(e @ (EnclaveError::UnknownKey(_) | EnclaveError::WeakKey(_))) => return Err(e),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    /// Recovers a payload's master key with any local key: as its sender (every recipient box)
    /// or as a recipient (every box against the sender key).
    fn recover_master_key(
        &self,
        payload: &EncodedPayload,
    ) -> Result<(CryptoSuite, Zeroizing<[u8; MASTER_KEY_LEN]>), EnclaveError> {
        if self.is_local(&payload.sender_key) {
            for (recipient, sealed) in payload.recipient_keys.iter().zip(&payload.recipient_boxes) {
                if let Ok(found) = self.open_master_key(
                    &payload.sender_key,
                    recipient,
                    &payload.recipient_nonce,
                    sealed,
                ) {
                    return Ok(found);
                }
            }
        }
        for pair in &self.keys {
            for sealed in &payload.recipient_boxes {
                if let Ok(found) = self.open_master_key(
                    &pair.public,
                    &payload.sender_key,
                    &payload.recipient_nonce,
                    sealed,
                ) {
                    return Ok(found);
                }
            }
        }
        Err(EnclaveError::DecryptionFailed)
    }

    /// `SHA3-512(new cipher text || affected cipher text || affected master key)`.
    fn security_hash(
        &self,
        new_cipher_text: &[u8],
        affected: &EncodedPayload,
    ) -> Result<Vec<u8>, EnclaveError> {
        let (_, master_key) = self.recover_master_key(affected)?;
        let mut hasher = Sha3_512::new();
        hasher.update(new_cipher_text);
        hasher.update(&affected.cipher_text);
        hasher.update(master_key.as_ref());
        Ok(hasher.finalize().to_vec())
    }

    /// Builds a payload: boxes the master key for every distinct recipient (sender appended if
    /// missing) and computes the security hashes.
    fn build_payload(
        &self,
        sender: PublicKey,
        cipher_text: Vec<u8>,
        cipher_text_nonce: Vec<u8>,
        master_key: &[u8; MASTER_KEY_LEN],
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        meta.validate()?;
        self.key_pair(&sender)?;
        let recipient_keys = distinct_with_sender(recipients, sender);
        let recipient_nonce = crypto::random_nonce().to_vec();
        let recipient_boxes = recipient_keys
            .iter()
            .map(|recipient| {
                self.shared_key(self.suite, &sender, recipient)?.seal(&recipient_nonce, master_key)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut affected_contract_transactions = meta.affected_contract_transactions.clone();
        for affected in &meta.affected_transactions {
            let security_hash = self.security_hash(&cipher_text, &affected.payload)?;
            affected_contract_transactions.insert(affected.hash, security_hash);
        }
        tracing::debug!(
            target: "enclave::local",
            sender = %sender,
            recipients = recipient_keys.len(),
            mode = %meta.privacy_mode,
            "encrypted payload"
        );
        Ok(EncodedPayload {
            sender_key: sender,
            cipher_text,
            cipher_text_nonce,
            recipient_boxes,
            recipient_nonce,
            recipient_keys,
            privacy_mode: meta.privacy_mode,
            affected_contract_transactions,
            exec_hash: meta.exec_hash.clone(),
            mandatory_recipients: meta.mandatory_recipients.clone(),
            privacy_group_id: meta.privacy_group_id.clone(),
        })
    }

    fn encrypt_payload_sync(
        &self,
        message: &[u8],
        sender: PublicKey,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        let master_key = crypto::random_master_key();
        let nonce = crypto::random_nonce();
        let cipher_text = crypto::seal_payload(self.suite, &master_key, &nonce, message)?;
        self.build_payload(sender, cipher_text, nonce.to_vec(), &master_key, recipients, meta)
    }

    fn encrypt_raw_sync(
        &self,
        message: &[u8],
        sender: PublicKey,
    ) -> Result<RawTransaction, EnclaveError> {
        let master_key = crypto::random_master_key();
        let nonce = crypto::random_nonce();
        let encrypted_payload = crypto::seal_payload(self.suite, &master_key, &nonce, message)?;
        let encrypted_key =
            self.shared_key(self.suite, &sender, &sender)?.seal(&nonce, master_key.as_ref())?;
        Ok(RawTransaction { encrypted_payload, encrypted_key, nonce: nonce.to_vec(), from: sender })
    }

    fn raw_master_key(
        &self,
        raw: &RawTransaction,
    ) -> Result<(CryptoSuite, Zeroizing<[u8; MASTER_KEY_LEN]>), EnclaveError> {
        self.open_master_key(&raw.from, &raw.from, &raw.nonce, &raw.encrypted_key)
    }

    /// Tessera's box selection for decrypting with `key`: returns (box, counterpart key).
    fn select_box<'p>(
        payload: &'p EncodedPayload,
        key: &PublicKey,
    ) -> Result<(&'p [u8], PublicKey), EnclaveError> {
        let keys = &payload.recipient_keys;
        let (index, counterpart) = if keys.is_empty() {
            (0, payload.sender_key)
        } else if *key == payload.sender_key && !keys.contains(&payload.sender_key) {
            // Very old Tessera payloads: the sender was not a recipient of its own payload.
            (0, keys.first().copied().unwrap_or(payload.sender_key))
        } else {
            let index =
                keys.iter().position(|k| k == key).ok_or(EnclaveError::NotARecipient(*key))?;
            (index, payload.sender_key)
        };
        let sealed = payload.recipient_boxes.get(index).ok_or(EnclaveError::NotARecipient(*key))?;
        Ok((sealed, counterpart))
    }

    fn unencrypt_sync(
        &self,
        payload: &EncodedPayload,
        key: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        self.key_pair(&key)?;
        let (sealed, counterpart) = Self::select_box(payload, &key)?;
        let (suite, master_key) =
            self.open_master_key(&key, &counterpart, &payload.recipient_nonce, sealed)?;
        crypto::open_payload(suite, &master_key, &payload.cipher_text_nonce, &payload.cipher_text)
    }

    fn new_recipient_box_sync(
        &self,
        payload: &EncodedPayload,
        recipient: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        self.key_pair(&payload.sender_key)?;
        let (suite, master_key) = self.recover_master_key(payload)?;
        self.shared_key(suite, &payload.sender_key, &recipient)?
            .seal(&payload.recipient_nonce, master_key.as_ref())
    }

    fn find_invalid_sync(
        &self,
        payload: &EncodedPayload,
        affected: &[AffectedTransaction],
    ) -> Vec<MessageHash> {
        payload
            .affected_contract_transactions
            .iter()
            .filter(|(hash, security_hash)| {
                let Some(found) = affected.iter().find(|a| a.hash == **hash) else {
                    return true;
                };
                match self.security_hash(&payload.cipher_text, &found.payload) {
                    Ok(expected) => expected != **security_hash,
                    Err(_) => true,
                }
            })
            .map(|(hash, _)| *hash)
            .collect()
    }
}

/// `recipients` without duplicates (first occurrence kept), with `sender` appended if missing.
fn distinct_with_sender(recipients: &[PublicKey], sender: PublicKey) -> Vec<PublicKey> {
    let mut keys: Vec<PublicKey> = Vec::with_capacity(recipients.len() + 1);
    for key in recipients.iter().copied().chain(std::iter::once(sender)) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

#[async_trait]
impl Enclave for LocalEnclave {
    async fn default_public_key(&self) -> Result<PublicKey, EnclaveError> {
        self.keys.first().map(|pair| pair.public).ok_or(EnclaveError::NoKeys)
    }

    async fn forwarding_keys(&self) -> Result<Vec<PublicKey>, EnclaveError> {
        Ok(self.forwarding_keys.clone())
    }

    async fn public_keys(&self) -> Result<Vec<PublicKey>, EnclaveError> {
        Ok(self.keys.iter().map(|pair| pair.public).collect())
    }

    async fn encrypt_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        self.encrypt_payload_sync(message, sender, recipients, meta)
    }

    async fn encrypt_raw_payload(
        &self,
        message: &[u8],
        sender: PublicKey,
    ) -> Result<RawTransaction, EnclaveError> {
        self.encrypt_raw_sync(message, sender)
    }

    async fn encrypt_payload_from_raw(
        &self,
        raw: &RawTransaction,
        recipients: &[PublicKey],
        meta: &PrivacyMetadata,
    ) -> Result<EncodedPayload, EnclaveError> {
        let (_, master_key) = self.raw_master_key(raw)?;
        self.build_payload(
            raw.from,
            raw.encrypted_payload.clone(),
            raw.nonce.clone(),
            &master_key,
            recipients,
            meta,
        )
    }

    async fn unencrypt_transaction(
        &self,
        payload: &EncodedPayload,
        provided_key: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        self.unencrypt_sync(payload, provided_key)
    }

    async fn unencrypt_raw_payload(&self, raw: &RawTransaction) -> Result<Vec<u8>, EnclaveError> {
        let (suite, master_key) = self.raw_master_key(raw)?;
        crypto::open_payload(suite, &master_key, &raw.nonce, &raw.encrypted_payload)
    }

    async fn create_new_recipient_box(
        &self,
        payload: &EncodedPayload,
        recipient: PublicKey,
    ) -> Result<Vec<u8>, EnclaveError> {
        self.new_recipient_box_sync(payload, recipient)
    }

    async fn find_invalid_security_hashes(
        &self,
        payload: &EncodedPayload,
        affected: &[AffectedTransaction],
    ) -> Result<Vec<MessageHash>, EnclaveError> {
        Ok(self.find_invalid_sync(payload, affected))
    }

    async fn status(&self) -> Result<EnclaveStatus, EnclaveError> {
        Ok(EnclaveStatus::Started)
    }
}
